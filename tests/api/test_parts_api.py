"""Genuine parts over REST and from the page a repairer opens after a scan."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from access_helpers import api_headers
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.query import parse_event_query


def fitted(app: Roadpass) -> tuple[str, str]:
    events = app.trace.events(parse_event_query({"eventType": "AggregationEvent", "perPage": "1000"}))[0]
    for event in events:
        if event.get("parentID") and event.get("childEPCs"):
            unit = app.trace.resolve(event["parentID"])
            if unit.vin:
                return unit.vin, event["childEPCs"][0]
    raise AssertionError("no fitted part")


@pytest.fixture
def world(sqlite_app: Roadpass) -> tuple[Roadpass, TestClient]:
    load_fleet(sqlite_app, FleetSpec(vehicles=3))
    return sqlite_app, TestClient(create_app(roadpass=sqlite_app))


def key_of(app: Roadpass, party: str) -> dict[str, str]:
    found = app.access.party(party)
    assert found is not None
    made, _info = app.admin.create_api_key(actor="test", party_id=found.id, name="test", days=1)
    return {"Authorization": f"Bearer {made.token}"}


def test_check_report_and_the_makers_log(world: tuple[Roadpass, TestClient]) -> None:
    app, client = world
    vin, part = fitted(app)
    maker = key_of(app, "lanxing")
    answer = client.get("/parts/check", params={"id": part, "vin": vin}, headers=maker)
    assert answer.status_code == 200
    body = answer.json()
    assert body["verdict"] == "genuine" and body["fittedNow"][0]["vin"] == vin and body["maker"]["party"]
    repairer = key_of(app, "workshop_sa_1")  # sees no vehicle of another market: the VIN is withheld
    blind = client.get("/parts/check", params={"id": part}, headers=repairer).json()
    assert blind["fittedNow"][0]["withheld"] and blind["fittedNow"][0]["vin"] is None
    reported = client.post("/parts/reports", json={"id": part, "status": "stolen", "reference": "case 7"},
                           headers=maker)
    assert reported.status_code == 201
    assert client.get("/parts/check", params={"id": part}, headers=maker).json()["verdict"] == "stolen"
    supplier = key_of(app, body["maker"]["party"])
    log = client.get("/parts/checks", headers=supplier).json()
    assert len(log) == 3 and {row["verdict"] for row in log} == {"genuine", "stolen"}
    assert client.get("/parts/checks", headers=repairer).json() == []


def test_bad_identifiers_are_problems_naming_the_field(world: tuple[Roadpass, TestClient]) -> None:
    app, client = world
    headers = api_headers(app, "repairer")
    for bad in ("not a key", "urn:epc:class:lgtin:4012345.012345.LOT1"):
        answer = client.get("/parts/check", params={"id": bad}, headers=headers)
        assert answer.status_code == 422 and answer.json()["field"] == "id"
    missing = client.post("/parts/reports", json={"id": "x", "status": "stolen"}, headers=api_headers(app))
    assert missing.status_code == 422 and missing.json()["field"] == "$.reference"
    assert client.get("/parts/check", params={"id": "x"}).status_code == 401


def test_the_page_a_repairer_opens_from_a_scan(world: tuple[Roadpass, TestClient]) -> None:
    app, client = world
    vin, part = fitted(app)
    link = app.parts.canonical(part)
    page = client.get("/ui/parts/check", params={"id": link, "vin": vin}, headers=key_of(app, "lanxing"))
    assert page.status_code == 200 and 'id="verdict"' in page.text and "genuine" in page.text
    network = client.get("/ui/repairers", headers=key_of(app, "lanxing"))
    assert network.status_code == 200 and "Repair network" in network.text
