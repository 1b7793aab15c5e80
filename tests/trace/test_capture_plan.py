"""Capture's rules without a database: triage, event rows, containment, declarations, markets, master data."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from roadpass.trace.capture import ParsedCapture, parse_capture
from roadpass.trace.capture_plan import (
    CaptureProblem,
    DeclarationFacts,
    capture_ledger,
    emptying_deletes,
    newer_markets,
    plan_containment,
    plan_declarations,
    plan_events,
    plan_markets,
    plan_master_data,
    triage,
)
from roadpass.trace.epcis.model import Role
from roadpass.trace.genealogy import ContainmentStep, LinkKind, containment_history
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.timeutil import FOREVER

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
VEHICLE = "urn:epc:id:giai:0614141.LSJA24U69RS000017"
PACK = "urn:epc:id:sgtin:0614141.100001.A"
SHOP = "urn:epc:id:sgln:0614141.00777.0"


def _parse(*events: dict[str, Any], master: list[dict[str, Any]] | None = None) -> ParsedCapture:
    body: dict[str, Any] = {
        "@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-01T00:00:00Z", "epcisBody": {"eventList": list(events)},
    }
    if master is not None:
        body["epcisHeader"] = {"epcisMasterData": {"vocabularyList": master}}
    return parse_capture(body)


def _aggregation(action: str, when: str, children: list[str], event_id: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "AggregationEvent", "eventTime": when, "eventTimeZoneOffset": "+00:00", "parentID": VEHICLE,
        "childEPCs": children, "action": action, "bizStep": "assembling",
    }
    if event_id:
        event["eventID"] = event_id
    return event


def _ids(parsed: ParsedCapture) -> dict[str, int]:
    return {key: n for n, key in enumerate(sorted(parsed.units), 1)}


def test_triage_counts_repeats_refuses_reused_event_ids_and_routes_declarations() -> None:
    first = _aggregation("ADD", "2025-03-01T08:00:00Z", [PACK], "urn:uuid:6a4d8a4e-0000-4000-8000-000000000001")
    other = _aggregation("ADD", "2025-03-02T08:00:00Z", [PACK], "urn:uuid:6a4d8a4e-0000-4000-8000-000000000001")
    declared = {**first, "errorDeclaration": {"declarationTime": "2025-03-03T00:00:00Z", "reason": "incorrect_data"}}
    parsed = _parse(first, first, other)
    fresh = triage(parsed.events, {}, set())
    assert [e.index for e in fresh.fresh] == [0]
    assert fresh.duplicates == 1
    assert fresh.problems == [CaptureProblem(
        "$.epcisBody.eventList[2].eventID",
        "eventID urn:uuid:6a4d8a4e-0000-4000-8000-000000000001 is already used by a different event", 2,
        conflict=True,
    )]
    stored = {first["eventID"]: (41, parsed.events[0].hash_id)}
    again = triage(_parse(first, declared).events, stored, {parsed.events[0].hash_id})
    assert again.duplicates == 1 and again.corrections == 1 and not again.fresh
    assert [(e.index, pk) for e, pk in again.declarations] == [(1, 41)]


def test_problem_json_is_the_capture_job_error_entry() -> None:
    assert CaptureProblem("$.x", "bad", 3).as_json() == {
        "type": "epcisException:ValidationException", "title": "bad", "status": 400, "instance": "$.x",
        "eventIndex": 3,
    }
    assert CaptureProblem("$.y", "taken", conflict=True).as_json()["status"] == 409


def test_event_rows_links_and_an_emptying_delete() -> None:
    parsed = _parse(
        _aggregation("ADD", "2025-03-01T08:00:00Z", [PACK]),
        {"type": "AggregationEvent", "eventTime": "2025-04-01T08:00:00Z", "eventTimeZoneOffset": "+00:00",
         "parentID": VEHICLE, "action": "DELETE", "bizStep": "removing"},
    )
    ids = _ids(parsed)
    vehicle, pack = ids[canonical_id(VEHICLE)], ids[canonical_id(PACK)]
    deletes = emptying_deletes(parsed.events)
    assert deletes == [(canonical_id(VEHICLE), parsed.events[1].event_time)]
    rows = plan_events(parsed.events, ids, first_pk=100, record_time=7, job_pk=9, held={deletes[0]: [pack]})
    assert [r[0] for r in rows.event_rows] == [100, 101]
    assert all(r[5] == 7 and r[11] == 9 for r in rows.event_rows)
    # EPCIS 2.0 §7.4.3: the DELETE with no childEPCs names (and takes out) what the parent held.
    assert (pack, int(Role.CHILD), 101) in rows.epc_rows
    assert [(f[0], f[2], f[3], f[4]) for f in rows.containment] == [(pack, 100, "ADD", vehicle),
                                                                  (pack, 101, "DELETE", vehicle)]
    links = plan_containment(rows.containment, {}, {}, set())
    assert [(e.parent, e.child, e.start, e.end) for e in links.opened] == [
        (vehicle, pack, parsed.events[0].event_time, parsed.events[1].event_time)]


def test_containment_against_stored_state_closes_opens_and_replays() -> None:
    # Child 5 sits in parent 1 since t=10 (link 77); a move to parent 2 at t=20 closes it and opens anew.
    moved = plan_containment([(5, 20, 300, "ADD", 2)], {5: 10}, {5: (77, 1, 10)}, set())
    assert moved.closes == [(77, 20, 300)]
    assert [(e.parent, e.child, e.start, e.end, e.event) for e in moved.opened] == [(2, 5, 20, FOREVER, 300)]
    # A fact older than the child's latest stored one: the child is replayed from all its facts instead.
    late = plan_containment([(5, 5, 301, "ADD", 3)], {5: 10}, {5: (77, 1, 10)}, set())
    assert late.replay == {5} and not late.opened and not late.closes
    # Observing the parent it is already in changes nothing.
    same = plan_containment([(5, 30, 302, "OBSERVE", 1)], {5: 10}, {5: (77, 1, 10)}, set())
    assert not same.opened and not same.closes


@given(st.lists(st.tuples(st.integers(0, 50), st.sampled_from(["ADD", "OBSERVE", "DELETE"]), st.integers(1, 3)),
                max_size=12, unique_by=lambda f: f[0]))
def test_a_fresh_childs_plan_is_its_containment_history(facts: list[tuple[int, str, int]]) -> None:
    """The planner's fast paths agree with replaying the child's facts (the rule the replay applies)."""
    child = 9
    planned = plan_containment([(child, t, 1000 + t, a, p) for t, a, p in facts], {}, {}, set())
    steps = [ContainmentStep(t, 1000 + t, a, p) for t, a, p in facts]
    replayed = containment_history(child, steps)
    assert sorted(planned.opened) == sorted(e._replace(kind=int(LinkKind.CONTAINS)) for e in replayed)
    assert not planned.closes and not planned.replay


def test_a_declaration_undoes_what_its_event_shaped_once() -> None:
    wrong = _aggregation("ADD", "2025-03-01T08:00:00Z", [PACK], "urn:uuid:6a4d8a4e-0000-4000-8000-000000000001")
    declaration = {**wrong, "errorDeclaration": {"declarationTime": "2025-03-02T09:00:00Z",
                                                 "reason": "incorrect_data"}}
    event = _parse(declaration).events[0]
    facts = {41: DeclarationFacts(False, "AggregationEvent", ((5, int(Role.PARENT)), (6, int(Role.CHILD)))),
             42: DeclarationFacts(True, "TransformationEvent", ((7, int(Role.INPUT)),)),
             43: DeclarationFacts(False, "TransformationEvent", ((8, int(Role.OUTPUT)),))}
    undone = plan_declarations([(event, 41), (event, 41), (event, 42), (event, 43)], facts, job_pk=9)
    assert [row[0] for row in undone.rows] == [41, 43]  # 42 was declared before; 41 once
    assert undone.rows[0][2] == "https://ref.gs1.org/cbv/ER-incorrect_data"
    assert undone.replay == {6} and undone.unlink == [43] and undone.market_units == {5, 6}


def test_the_latest_sale_sets_the_market_and_unknown_places_none() -> None:
    sale = {"type": "ObjectEvent", "eventTimeZoneOffset": "+00:00", "epcList": [VEHICLE], "action": "OBSERVE",
            "bizStep": "retail_selling", "bizLocation": {"id": SHOP}}
    parsed = _parse({**sale, "eventTime": "2025-05-01T00:00:00Z"}, {**sale, "eventTime": "2025-06-01T00:00:00Z"})
    ids = _ids(parsed)
    changes = plan_markets(parsed.events, ids, {canonical_id(SHOP): "DE"})
    assert changes == {ids[canonical_id(VEHICLE)]: ("DE", parsed.events[1].event_time)}
    assert plan_markets(parsed.events, ids, {}) == {}
    # A market set by a later fact stands; one set by an earlier fact is replaced.
    vehicle = ids[canonical_id(VEHICLE)]
    assert newer_markets(changes, {vehicle: parsed.events[1].event_time + 1}) == {}
    assert newer_markets(changes, {vehicle: parsed.events[0].event_time}) == changes


def test_master_data_versions_only_when_attributes_change() -> None:
    master = [{"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [
        {"id": SHOP, "attributes": [{"id": "urn:epcglobal:cbv:mda#name", "attribute": "Workshop"}]}]}]
    parsed = _parse(master=master)
    element = parsed.master_data[0]
    first = plan_master_data(parsed.master_data, {}, job_pk=1)
    assert [(r[0], r[1], r[2]) for r in first] == [(element.vocabulary_type, element.key, 1)]
    assert plan_master_data(parsed.master_data, {(element.vocabulary_type, element.key): (1, first[0][5])}, 2) == []
    changed = plan_master_data(parsed.master_data, {(element.vocabulary_type, element.key): (3, "{}")}, 2)
    assert changed[0][2] == 4


def test_the_ledger_entry_names_the_job_and_every_row_it_wrote() -> None:
    action, rule, subjects = capture_ledger(12)
    assert action == "epcis.capture" and "EPCIS 2.0" in rule
    assert {(s.table, s.column, s.value) for s in subjects} == {
        ("capture_job", "id", 12), ("epcis_event", "job_id", 12), ("error_declaration", "job_id", 12),
        ("vocabulary_element", "job_id", 12)}
