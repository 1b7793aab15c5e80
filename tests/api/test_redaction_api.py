"""Need to know inside an event, end to end on the demo fleet: a supplier reading the vehicles its units went
into never receives another supplier's serial, by any route (events, resources, named queries, genealogy)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from roadpass.access.ownership import owned_prefixes
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec, fleet_parties
from roadpass.demo.load import load_fleet
from roadpass.trace.epcis.schema import epcis_validator
from roadpass.trace.identifiers import IdentifierError, canonical_id

#: The demo's cockpit-unit supplier (its units are children of the vehicles' assembly events) and carmaker.
COCKPIT = ("huaxin_cockpit", "6952203")
CARMAKER = "lanxing"
# Application identifiers of serialised objects and lots (GS1 General Specifications §3.2): a party's
# sites (414), party GLN (417) and documents are not serials of its parts.
_OBJECT_AIS = ("/01/", "/00/", "/8003/", "/8004/", "/8006/")


def _foreign_prefixes() -> tuple[str, ...]:
    """Key prefixes of every other company's parts; the carmaker's vehicles are the parents and may show."""
    others = [p.company_prefix for p in fleet_parties() if p.key not in (COCKPIT[0], CARMAKER) and p.company_prefix]
    return tuple(p for gcp in others for p in owned_prefixes(gcp) if any(ai in p for ai in _OBJECT_AIS))


def _identifiers(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _identifiers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _identifiers(item)
    elif isinstance(value, str) and value.startswith(("urn:epc:id:", "urn:epc:class:", "https://id.gs1.org/")):
        try:
            yield canonical_id(value)
        except IdentifierError:
            return


def _assert_no_foreign_serial(body: Any, route: str) -> None:
    foreign = [key for key in _identifiers(body) if key.startswith(_foreign_prefixes())]
    assert not foreign, (route, foreign[:5])


@pytest.fixture
def fleet(app: Roadpass) -> Roadpass:
    load_fleet(app, FleetSpec(vehicles=12))
    return app


@pytest.fixture
def supplier(fleet: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    headers = auth_headers("supplier", key=COCKPIT[0], gcp=COCKPIT[1])
    with TestClient(create_app(roadpass=fleet), headers=headers) as client:
        yield client


def _events(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return events


def test_a_supplier_reads_its_part_of_the_assembly_and_nothing_of_its_competitors(
    supplier: TestClient, fleet: Roadpass
) -> None:
    page = supplier.get("/events", params={"perPage": 1000})
    listed = _events(page)
    _assert_no_foreign_serial(listed, "GET /events")
    assert epcis_validator().is_valid(page.json())  # redacted events still satisfy the GS1 JSON schema
    mine = tuple(owned_prefixes(COCKPIT[1]))
    assemblies = [e for e in listed if e.get("parentID") and e.get("childEPCs")]
    assert assemblies, "the supplier sees the assemblies its units went into"
    for event in assemblies[:5]:
        whole, _context = fleet.trace.event(event["eventID"]) or ({}, None)
        assert len(whole["childEPCs"]) > len(event["childEPCs"]) >= 1  # redacted, and its own child stays
        assert all(canonical_id(c).startswith(mine) for c in event["childEPCs"])
        assert event["parentID"] == whole["parentID"] and event["eventID"] == whole["eventID"]
        one = supplier.get(f"/events/{quote(event['eventID'], safe='')}")
        assert one.status_code == 200, one.text
        _assert_no_foreign_serial(one.json(), "GET /events/{id}")

    unit = next(c for c in assemblies[0]["childEPCs"])
    by_epc = _events(supplier.get(f"/epcs/{quote(unit, safe='')}/events"))
    assert by_epc
    _assert_no_foreign_serial(by_epc, "GET /epcs/{epc}/events")

    assert supplier.post("/queries", json={"name": "assembled", "query": {"EQ_bizStep": ["assembling"]}}
                         ).status_code == 201
    named = _events(supplier.get("/queries/assembled/events"))
    assert named
    _assert_no_foreign_serial(named, "GET /queries/{name}/events")

    for kind in ("as-built", "where-used"):
        answer = supplier.get(f"/trace/{kind}/{quote(unit, safe='')}")
        assert answer.status_code == 200, answer.text
        _assert_no_foreign_serial(answer.json(), f"GET /trace/{kind}")
    vehicle = supplier.get(f"/trace/as-built/{quote(assemblies[0]['parentID'], safe='')}")
    assert vehicle.status_code == 404  # the vehicle's whole tree is the carmaker's, not the supplier's
