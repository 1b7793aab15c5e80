"""The repair network over REST: the operator records, a repairer asks, the maker and an authority look;
refusals are RFC 7807 problems naming the field or the rule."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from access_helpers import api_headers
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.query import parse_event_query


def key_of(app: Roadpass, party: str) -> dict[str, str]:
    """An API key's header for an existing party."""
    found = app.access.party(party)
    assert found is not None
    made, _info = app.admin.create_api_key(actor="test", party_id=found.id, name="test", days=1)
    return {"Authorization": f"Bearer {made.token}"}


def a_vehicle(app: Roadpass) -> tuple[str, str]:
    events = app.trace.events(parse_event_query({"eventType": "AggregationEvent", "perPage": "1000"}))[0]
    for event in events:
        if event.get("parentID"):
            unit = app.trace.resolve(event["parentID"])
            if unit.vin:
                return unit.vin, app.trace.unit_market(unit.id) or ""
    raise AssertionError("no vehicle")


@pytest.fixture
def world(sqlite_app: Roadpass) -> tuple[Roadpass, TestClient]:
    load_fleet(sqlite_app, FleetSpec(vehicles=3))
    return sqlite_app, TestClient(create_app(roadpass=sqlite_app))


def _setup(app: Roadpass, client: TestClient) -> tuple[dict[str, str], str]:
    """Operator registers workshop_de_1 (independent, approved) and one person; (operator headers, person key)."""
    op = api_headers(app, "operator")
    assert client.post("/repairers", json={"party": "workshop_de_1", "kind": "independent", "brands": ["Lanxing"],
                                           "qualifications": ["high_voltage"], "markets": ["DE"]},
                       headers=op).status_code == 201
    assert client.post("/repairers/workshop_de_1/sites", json={"gln": "4261181000012", "name": "Hannover"},
                       headers=op).status_code == 201
    approval = client.post("/repairers/workshop_de_1/approvals", headers=op, json={
        "assessingBody": "CAB (test)", "country": "DE", "validFrom": "2026-01-01", "validUntil": "2030-01-01"})
    assert approval.status_code == 201 and approval.json()["standsNow"]
    person = client.post("/repairers/workshop_de_1/authorisations", headers=op, json={
        "personName": "Test Person", "identityCheckedBy": "CAB (test)", "identityCheckedAt": "2026-01-02",
        "residenceCountry": "DE", "validFrom": "2026-01-02", "validUntil": "2031-01-01"})
    assert person.status_code == 201 and person.json()["state"] == "valid"
    return op, person.json()["authorisation"]


def test_request_use_revoke_and_who_sees_it(world: tuple[Roadpass, TestClient]) -> None:
    app, client = world
    _op, person = _setup(app, client)
    vin, market = a_vehicle(app)
    shop = key_of(app, "workshop_de_1")
    asked = client.post("/security-access", headers=shop,
                        json={"authorisation": person, "vin": vin, "function": "key_programming"})
    assert asked.status_code == 201, asked.text
    credential = asked.json()["credential"]
    used = client.post("/security-access/use", headers=shop,
                       json={"credential": credential, "vin": vin, "function": "key_programming"})
    assert used.status_code == 200 and used.json()["accepted"]
    revoked = client.post(f"/authorisations/{person}/revoke", headers=shop, json={"reason": "left"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    refused = client.post("/security-access/use", headers=shop,
                          json={"credential": credential, "vin": vin, "function": "key_programming"})
    assert refused.status_code == 403 and "revoked" in refused.json()["title"]
    unknown = client.post("/security-access/use", headers=shop,
                          json={"credential": "rpsc_forged", "vin": vin, "function": "key_programming"})
    assert unknown.status_code == 404
    assert app.ledger.recent(limit=1)[0].action == "access.denied"
    maker = client.get("/security-access", headers=key_of(app, "lanxing")).json()
    assert [a["vin"] for a in maker] == [vin] and len(maker[0]["uses"]) == 2
    authority = api_headers(app, "authority", markets=[market])
    assert len(client.get("/security-access", headers=authority).json()) == 1
    elsewhere = api_headers(app, "authority", markets=["ZZ"])
    assert client.get("/security-access", headers=elsewhere).json() == []
    assert client.get("/security-access", headers=key_of(app, "workshop_de_2")).json() == []


def test_refusals_are_problems_naming_field_or_rule(world: tuple[Roadpass, TestClient]) -> None:
    app, client = world
    op, person = _setup(app, client)
    vin, _ = a_vehicle(app)
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("/repairers", {"party": "workshop_de_2", "kind": "friendly"}, "$.kind"),
        ("/repairers", {"party": 7, "kind": "authorised"}, "$.party"),
        ("/repairers/workshop_de_1/approvals", {"assessingBody": "CAB", "country": "DE", "validFrom": "soon",
                                                "validUntil": "2030-01-01"}, "$.validFrom"),
        ("/repairers/workshop_de_1/sites", {"gln": "123", "name": "x"}, "$.gln"),
    ]
    for path, body, field in bad:
        answer = client.post(path, json=body, headers=op)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["field"] == field
    other = client.post("/security-access", headers=key_of(app, "workshop_de_2"),
                        json={"authorisation": person, "vin": vin, "function": "immobiliser"})
    assert other.status_code == 403 and "another repairer" in other.json()["title"] and other.json()["rule"]
    # Only the operator records approvals; a repairer may not register itself.
    assert client.post("/repairers", headers=key_of(app, "workshop_de_2"),
                       json={"party": "workshop_de_2", "kind": "authorised"}).status_code == 403
    # A repairer revokes only its own people.
    assert client.post(f"/authorisations/{person}/revoke", headers=key_of(app, "workshop_de_2"),
                       json={"reason": "x"}).status_code == 404


def test_network_list_people_and_the_same_rmi_for_every_repairer(world: tuple[Roadpass, TestClient]) -> None:
    app, client = world
    op, _person = _setup(app, client)
    client.post("/repairers", json={"party": "workshop_de_2", "kind": "authorised"}, headers=op)
    vin, _ = a_vehicle(app)
    listed = client.get("/repairers?market=DE", headers=key_of(app, "workshop_de_2")).json()
    assert {r["party"]: r["approvedNow"] for r in listed} == {"workshop_de_1": True, "workshop_de_2": True}
    assert "personName" not in str(listed)
    own = client.get("/repairers/workshop_de_1/authorisations", headers=key_of(app, "workshop_de_1"))
    assert own.status_code == 200 and own.json()[0]["personName"] == "Test Person"
    assert client.get("/repairers/workshop_de_1/authorisations",
                      headers=key_of(app, "workshop_de_2")).status_code == 404
    independent = client.get(f"/rmi/{vin}", headers=key_of(app, "workshop_de_1")).json()
    authorised = client.get(f"/rmi/{vin}", headers=key_of(app, "workshop_de_2")).json()
    assert independent == authorised and independent["information"]
