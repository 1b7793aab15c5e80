"""The carmaker's campaign page in Chromium: affected vehicles by market, the completion curve, overdue
markets; a repairer sees its own market only. Uses the served demo site of the web tests."""

from __future__ import annotations

from typing import Any

import pytest

from roadpass.access.demo import DEMO_SIGN_INS
from roadpass.aftermarket.recalls.demo import DEMO_CAMPAIGN
from web.conftest import Site

pytestmark = pytest.mark.browser

CARMAKER = next(d for d in DEMO_SIGN_INS if d.role == "manufacturer")
REPAIRER = next(d for d in DEMO_SIGN_INS if d.role == "repairer")


def _sign_in(page: Any, site: Site, who: Any) -> None:
    page.goto(site.url + "/signin")
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url + "/")


def test_carmaker_opens_the_campaign_page(site: Site, browser_context: Any) -> None:
    page = browser_context.new_page()
    _sign_in(page, site, CARMAKER)
    page.get_by_role("link", name="Recalls").click()
    page.wait_for_selector("#campaigns")
    page.get_by_role("link", name=DEMO_CAMPAIGN).click()
    page.wait_for_selector("#by-market")
    assert "affected vehicles" in page.locator("#summary").inner_text()
    rows = page.locator("#by-market tbody tr")
    assert rows.count() >= 1
    assert page.locator("#curve svg").count() == 1
    assert page.locator("#curve svg path, #curve svg line").count() >= 1
    assert page.locator("#overdue").is_visible()
    assert page.locator("#vehicles tbody tr").count() >= 1
    pdf = page.locator("a", has_text="us-573-6 (PDF)")
    assert pdf.get_attribute("href") == f"/recalls/{DEMO_CAMPAIGN}/reports/us-573-6?format=pdf"


def test_a_repairer_sees_its_market_only(site: Site, browser_context: Any) -> None:
    page = browser_context.new_page()
    _sign_in(page, site, REPAIRER)
    page.goto(f"{site.url}/ui/recalls/{DEMO_CAMPAIGN}")
    text = page.locator("main").inner_text()
    if page.locator("#by-market").count():
        markets = {cell.strip() for cell in page.locator("#by-market tbody tr td:first-child").all_inner_texts()}
        assert len(markets) == 1
        assert "Showing the vehicles of" in text
    else:
        assert "reaches a vehicle you may see" in text
