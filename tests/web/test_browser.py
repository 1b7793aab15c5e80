"""Using roadpass as a person would, in Chromium: sign in, find a VIN, open its as-built tree, run where-used on
a lot, open a passport page, verify the ledger, sign out; and a repairer who may not see another party's events."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from roadpass.access.demo import DEMO_SIGN_INS

from .conftest import Site

pytestmark = pytest.mark.browser

CARMAKER = next(d for d in DEMO_SIGN_INS if d.role == "manufacturer")
REPAIRER = next(d for d in DEMO_SIGN_INS if d.role == "repairer")


def _sign_in(page: Any, site: Site, who: Any) -> None:
    page.goto(site.url + "/")
    page.get_by_role("link", name="Sign in").first.click()
    page.get_by_label("Email").fill(who.email)
    page.get_by_label("Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url + "/")


def test_carmaker_traces_a_vehicle_runs_where_used_opens_a_passport_and_signs_out(
    site: Site, browser_context: Any
) -> None:
    page = browser_context.new_page()
    _sign_in(page, site, CARMAKER)
    assert "Lanxing" in page.locator("h1").inner_text()
    first_vin = page.locator(".cards a[href^='/ui/trace?q=']").nth(1).inner_text()

    page.get_by_label("VIN, serial (EPC URN or Digital Link) or lot").fill(first_vin)
    page.get_by_role("button", name="Show as-built").click()
    page.wait_for_selector("#as-built")
    assert f"VIN {first_vin}" in page.locator("#as-built").inner_text()
    page.get_by_role("button", name="Expand all").click()
    lot_link = page.locator("#as-built a", has_text="where used?").first
    assert lot_link.is_visible()
    assert page.locator("#timeline li").count() > 3

    lot_link.click()
    page.wait_for_selector("#market-chart")
    assert "vehicles carried it" in page.locator("#summary").inner_text()
    assert page.locator("#market-chart rect.ever").count() >= 1
    assert page.locator("#hits tbody tr").count() >= 1

    page.get_by_role("link", name="Passports").click()
    page.locator("table a[href^='/passport/']").first.click()
    page.wait_for_selector("article.pp")
    assert "Battery passport" in page.locator("h1").inner_text()
    assert page.locator("img[alt^='QR code']").count() == 1

    page.goto(site.url + "/ui/ledger")
    page.get_by_role("button", name="Verify chain").click()
    page.wait_for_selector("#verify .ok", timeout=30_000)
    assert "Chain intact" in page.locator("#verify").inner_text()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(site.url + "/signin")
    page.goto(site.url + "/ui/trace?q=" + first_vin)
    assert page.url.startswith(site.url + "/signin")


def test_repairer_sees_shared_vehicles_but_not_another_partys_production_events(
    site: Site, browser_context: Any
) -> None:
    page = browser_context.new_page()
    _sign_in(page, site, REPAIRER)
    assert "Shared with you" in page.locator(".cards").inner_text()

    page.goto(site.url + "/ui/trace?q=" + site.shared_vin)
    page.wait_for_selector("#as-built")
    assert page.locator("#timeline li").count() >= 1

    page.goto(site.url + "/ui/trace?q=" + site.unshared_vin)
    assert "no unit is known" in page.locator("[role=alert]").inner_text()
    assert page.locator("#as-built").count() == 0

    production = page.request.get(site.url + "/events/" + quote(site.cell_event, safe=""))
    assert production.status == 404
    # Commissioning events it may list are those of the vehicles shared with it, none of the makers' others.
    shares = page.request.get(site.url + "/shares").json()
    shared = {s["target"].rsplit("/", 1)[-1][-17:] for s in shares}
    listed = page.request.get(site.url + "/events?EQ_bizStep=commissioning&perPage=1000").json()
    events = listed["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert site.cell_event not in {e["eventID"] for e in events}
    assert all(epc.rsplit(".", 1)[-1] in shared for e in events for epc in e.get("epcList", [])), events[:2]
    assert not any("quantityList" in e for e in events)
    page.goto(site.url + "/ui/where-used?q=" + quote(site.lot, safe=""))
    vins = page.locator("#hits tbody td:first-child").all_inner_texts()
    assert all(vin in shared for vin in vins), "where-used shows the repairer only vehicles shared with it"

    passports = page.request.get(site.url + "/passports?limit=1").json()
    if passports:  # the role-scoped passport view: a repairer has a legitimate interest (Art. 77(2)(b))
        page.goto(site.url + "/ui/passports/" + quote(passports[0]["passportId"], safe=""))
        assert "legitimate interest" in page.locator("main").inner_text()
        assert page.locator("details.card").count() >= 1

    page.goto(site.url + "/ui/trace?q=" + site.unshared_vin)  # the last request: a refusal, in the ledger
    ledger = page.request.get(site.url + "/ledger?limit=5").json()
    assert ledger[0]["action"] == "access.denied"
    assert ledger[0]["actor"] == f"party:workshop_de_1/user:{REPAIRER.email}"


def test_pages_fit_a_phone(site: Site, browser_context: Any) -> None:
    page = browser_context.new_page()
    page.set_viewport_size({"width": 375, "height": 740})
    _sign_in(page, site, CARMAKER)
    for path in ("/", "/ui/trace?q=" + site.shared_vin, "/ui/where-used?q=" + quote(site.lot, safe=""), "/ui/ledger",
                 "/ui/subscriptions"):
        page.goto(site.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 380, f"{path} is {width}px wide on a 375px phone"
