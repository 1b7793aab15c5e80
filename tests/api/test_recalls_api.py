"""Recall campaigns over REST: opened by the manufacturer, each caller sees its own vehicles, reports as JSON
and PDF with every field traced or listed as missing, RFC 7807 answers naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roadpass.aftermarket.recalls.scope import gtin_of
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet


@pytest.fixture
def fleet(app: Roadpass) -> tuple[Roadpass, dict[str, Any]]:
    """A 60-vehicle fleet and a campaign request on the lot in most vehicles."""
    load_fleet(app, FleetSpec(vehicles=60))
    found = app.recalls.largest_lot()
    assert found is not None
    packs = [h.via[0] for h in app.trace.where_used(found[0])[1] if h.vin and h.via]
    body = {"campaignKey": "RC-API-1", "title": "Cells may short", "manufacturer": "Lanxing (test)",
            "defect": {"description": "separator fold", "risk": "fire", "determinedOn": "2026-08-25"},
            "remedy": {"description": "replace the pack", "parts": [gtin_of(packs[0])]},
            "scope": {"lots": [found[0]]}, "dates": {"dealerNoticeOn": "2026-09-01", "remedyDueOn": "2026-11-30"},
            "references": {"nhtsaCampaign": "26V-000"}}
    return app, body


def _maker(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
    party = app.access.party("lanxing")
    assert party is not None
    return auth_headers("manufacturer", key="lanxing", gcp=party.gcp, country=party.country)


def test_the_maker_opens_a_campaign_and_sees_it_whole(
    fleet: tuple[Roadpass, dict[str, Any]], auth_headers: Callable[..., dict[str, str]],
) -> None:
    app, body = fleet
    with TestClient(create_app(roadpass=app), headers=_maker(app, auth_headers)) as client:
        created = client.post("/recalls", json=body)
        assert created.status_code == 201, created.text
        assert created.json()["vehicles"] >= 2 and created.json()["notices"] > 0
        assert client.post("/recalls", json=body).status_code == 409
        status = client.get("/recalls/RC-API-1").json()
        assert status["totals"]["affected"] == created.json()["vehicles"] and status["markets"] is None
        assert {m["market"] for m in status["byMarket"]} == set(created.json()["byMarket"])
        assert [c["campaignKey"] for c in client.get("/recalls").json()["campaigns"]] == ["RC-API-1"]
        svg = client.get("/recalls/RC-API-1/curve.svg")
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        vin = status["vehicles"][0]["vin"]
        found = client.get(f"/recalls-for/{vin}").json()["recalls"]
        assert [(r["campaignKey"], r["state"]) for r in found] == [("RC-API-1", "open")]
        assert client.post("/recalls/RC-API-1/refresh").json()["newVehicles"] == 0


def test_a_bad_request_names_every_field(
    fleet: tuple[Roadpass, dict[str, Any]], auth_headers: Callable[..., dict[str, str]],
) -> None:
    app, body = fleet
    with TestClient(create_app(roadpass=app), headers=_maker(app, auth_headers)) as client:
        bad = client.post("/recalls", json={**body, "scope": {"lots": ["nonsense"]}, "title": ""})
        assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
        assert {e["instance"] for e in bad.json()["errors"]} == {"$.title", "$.scope.lots[0]"}


def test_dealers_see_their_market_and_others_nothing(
    fleet: tuple[Roadpass, dict[str, Any]], auth_headers: Callable[..., dict[str, str]],
) -> None:
    app, body = fleet
    with TestClient(create_app(roadpass=app), headers=_maker(app, auth_headers)) as maker:
        created = maker.post("/recalls", json=body).json()
    market = next(iter(created["byMarket"]))
    dealer = next(p for p in app.access.parties(role="dealer") if p.country == market)
    with TestClient(create_app(roadpass=app), headers=auth_headers("dealer", key=dealer.key, country=market)) as c:
        status = c.get("/recalls/RC-API-1").json()
        assert status["markets"] == [market] and {v["market"] for v in status["vehicles"]} == {market}
        notices = c.get("/recall-notices").json()["notices"]
        assert [(n["campaignKey"], n["market"], n["vehicles"]) for n in notices] == [
            ("RC-API-1", market, created["byMarket"][market])]
        assert c.post("/recalls", json={**body, "campaignKey": "RC-D"}).status_code == 403
    with TestClient(create_app(roadpass=app), headers=auth_headers("supplier", country="DE")) as stranger:
        assert stranger.get("/recalls/RC-API-1").status_code == 404
        assert stranger.get("/recalls").json()["campaigns"] == []


def test_reports_trace_every_field_or_list_it_missing(
    fleet: tuple[Roadpass, dict[str, Any]], auth_headers: Callable[..., dict[str, str]],
) -> None:
    app, body = fleet
    with TestClient(create_app(roadpass=app), headers=_maker(app, auth_headers)) as client:
        created = client.post("/recalls", json=body).json()
        for form in ("us-573-6", "us-573-7", "eu-2018-858", "cn-samr"):
            report = client.get(f"/recalls/RC-API-1/reports/{form}").json()
            assert report["form"] == form and report["citation"]
            for field in report["fields"]:
                assert field["clause"]
                if field["status"] == "filled":
                    assert field["source"].startswith("campaign:")
                else:
                    assert field["reason"] and "value" not in field
        quarterly = client.get("/recalls/RC-API-1/reports/us-573-7", params={"quarter": "2026Q3"}).json()
        assert quarterly["period"] == "2026Q3"
        assert client.get("/recalls/RC-API-1/reports/us-573-7", params={"quarter": "2031Q1"}).status_code == 400
        assert client.get("/recalls/RC-API-1/reports/nope").status_code == 404
        pdf = client.get("/recalls/RC-API-1/reports/eu-2018-858", params={"format": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    market = next(iter(created["byMarket"]))
    with TestClient(create_app(roadpass=app), headers=auth_headers("authority", markets=[market])) as authority:
        seen = authority.get("/recalls/RC-API-1").json()
        assert seen["markets"] == [market] and seen["totals"]["affected"] == created["byMarket"][market]
        assert authority.get("/recalls/RC-API-1/reports/eu-2018-858").status_code == 200
    with TestClient(create_app(roadpass=app), headers=auth_headers("dealer")) as dealer:
        assert dealer.get("/recalls/RC-API-1/reports/us-573-6").status_code == 403  # compliance.read
