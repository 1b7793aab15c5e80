"""A phone scanning codes, in Chromium: a battery's Digital Link lands on its passport page (the 307 followed
by the browser), a vehicle's on its vehicle page, and an unknown serial of a known GTIN on the product page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import Site

pytestmark = pytest.mark.browser


def test_a_phone_follows_the_scanned_codes(site: Site, browser_context: Any) -> None:
    listing = httpx.get(site.url + "/passports", params={"limit": 1}, timeout=10).json()
    battery, passport = listing[0]["batteryId"], listing[0]["passportId"]
    path = battery.split("id.gs1.org", 1)[1]
    page = browser_context.new_page()

    page.goto(site.url + path)
    page.wait_for_url(f"{site.url}/passport/{passport}")
    assert "Battery passport" in page.locator("h1").inner_text()

    gtin = path.split("/")[2]
    page.goto(f"{site.url}/01/{gtin}/21/NOT-PRINTED")
    page.wait_for_url(f"{site.url}/item/01/{gtin}")
    assert "gs1:pip" in page.locator("ul.links").inner_text()

    page.goto(f"{site.url}/vehicle/{site.shared_vin}")
    assert site.shared_vin in page.locator("article.resolved").inner_text()
