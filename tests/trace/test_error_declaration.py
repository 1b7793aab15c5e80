"""A corrective event's errorDeclaration changes what queries and genealogy return (EPCIS 2.0 §7.4.1.4)."""

from __future__ import annotations

from typing import Any

from roadpass.bootstrap import Roadpass
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.query import parse_event_query

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
VEHICLE = "urn:epc:id:giai:0614141.LSJA24U69RS000017"
PACK_A = "urn:epc:id:sgtin:0614141.100001.A"
PACK_B = "urn:epc:id:sgtin:0614141.100001.B"


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-01T00:00:00Z", "epcisBody": {"eventList": list(events)},
    }


def _add(pack: str, when: str, event_id: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "AggregationEvent", "eventTime": when, "eventTimeZoneOffset": "+00:00",
        "parentID": VEHICLE, "childEPCs": [pack], "action": "ADD", "bizStep": "assembling",
    }
    if event_id:
        event["eventID"] = event_id
    return event


def test_declared_error_removes_the_link_and_the_correction_replaces_it(app: Roadpass) -> None:
    wrong = _add(PACK_A, "2025-03-01T08:00:00Z", "urn:uuid:6a4d8a4e-0000-4000-8000-000000000001")
    app.trace.capture(_doc(wrong), actor="plant")
    _unit, hits = app.trace.where_used(PACK_A)
    assert [h.vin for h in hits] == ["LSJA24U69RS000017"]

    declaration = dict(wrong)
    declaration["errorDeclaration"] = {
        "declarationTime": "2025-03-02T09:00:00Z",
        "reason": "incorrect_data",
        "correctiveEventIDs": ["urn:uuid:6a4d8a4e-0000-4000-8000-000000000002"],
    }
    corrective = _add(PACK_B, "2025-03-01T08:00:00Z", "urn:uuid:6a4d8a4e-0000-4000-8000-000000000002")
    outcome = app.trace.capture(_doc(declaration, corrective), actor="plant")
    assert outcome.corrections == 1 and outcome.stored == 1

    _unit, hits = app.trace.where_used(PACK_A)
    assert hits == [] or all(h.vin is None for h in hits)
    _unit, hits = app.trace.where_used(PACK_B)
    assert [h.vin for h in hits] == ["LSJA24U69RS000017"]
    tree = app.trace.as_built("LSJA24U69RS000017")
    assert [c.key for c in tree.children] == [canonical_id(PACK_B)]

    declared, _ctx, _token = app.trace.events(parse_event_query({"EXISTS_errorDeclaration": ""}))
    assert [e["eventID"] for e in declared] == [wrong["eventID"]]
    assert declared[0]["errorDeclaration"]["reason"] == "incorrect_data"
    by_reason, _ctx, _token = app.trace.events(parse_event_query({"EQ_errorReason": "incorrect_data"}))
    assert len(by_reason) == 1
    assert app.ledger.verify().ok
