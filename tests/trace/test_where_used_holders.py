"""where-used and holders that are not vehicles: a unit at the top of the chain that let go of the target is a
recall target with its closed interval; one that was itself put into a vehicle hands over to the vehicle.

Through the real capture path on both databases, checked against the recursive SQL reference too, and the
rule itself (``holder_spans``, ``where_used_spans``) without a database.
"""

from __future__ import annotations

from typing import Any

from reference_sql import where_used as where_used_sql

from roadpass.bootstrap import Roadpass
from roadpass.trace.genealogy import Edge, LinkKind, Span, holder_spans, where_used_spans
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.timeutil import FOREVER, parse_time

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
VIN = "LSJA24U69RS000017"
VEHICLE = f"urn:epc:id:giai:0614141.{VIN}"
STORAGE = "urn:epc:id:sgtin:0614141.200001.1"  # a stationary storage unit: an SGTIN, no VIN
CABINET = "urn:epc:id:sgtin:0614141.200001.2"
PACK = "urn:epc:id:sgtin:0614141.100001.1"
SPARE = "urn:epc:id:sgtin:0614141.100001.2"
MODULE = "urn:epc:id:sgtin:0614141.100002.1"


def _t(day: int) -> str:
    return f"2025-03-{day:02d}T08:00:00Z"


def _us(day: int) -> int:
    return parse_time(_t(day))


def _agg(action: str, parent: str, child: str, day: int) -> dict[str, Any]:
    return {
        "type": "AggregationEvent", "eventTime": _t(day), "eventTimeZoneOffset": "+00:00",
        "parentID": parent, "childEPCs": [child], "action": action,
        "bizStep": "removing" if action == "DELETE" else "assembling",
    }


def _capture(app: Roadpass, *events: dict[str, Any]) -> None:
    app.trace.capture({
        "@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-01T00:00:00Z", "epcisBody": {"eventList": list(events)},
    }, actor="plant")


def _answer(app: Roadpass, target: str, at: int | None = None) -> dict[str, list[tuple[int, int]]]:
    """Key -> spans of every hit; the recursive SQL reference must give the same hits."""
    _unit, hits = app.trace.where_used(target, at)
    with app.uow.read() as conn:
        reference = where_used_sql(conn, app.trace.resolve(target).id, at)
    assert list(hits) == list(reference), (target, at)
    return {h.key: [(s.start, s.end) for s in h.spans] for h in hits}


def test_a_unit_that_held_the_pack_and_let_go_is_a_hit_with_its_closed_interval(app: Roadpass) -> None:
    # The defect: without `at`, the storage unit that held the pack until it was swapped out was missing.
    _capture(app, _agg("ADD", PACK, MODULE, 1), _agg("ADD", STORAGE, PACK, 3), _agg("DELETE", STORAGE, PACK, 5))
    storage, pack = canonical_id(STORAGE), canonical_id(PACK)

    assert _answer(app, PACK) == {storage: [(_us(3), _us(5))]}
    _unit, hits = app.trace.where_used(PACK)
    assert [h.current for h in hits] == [False] and hits.vehicles == 0
    assert _answer(app, PACK, _us(4)) == {storage: [(_us(3), _us(5))]}
    assert _answer(app, PACK, _us(6)) == {}
    assert _answer(app, PACK, _us(2)) == {}

    # One level down: the module's pack is a hit from its removal on (its time in the storage unit is the
    # storage unit's), its time in stock before that was handed over to the storage unit.
    assert _answer(app, MODULE) == {storage: [(_us(3), _us(5))], pack: [(_us(5), FOREVER)]}
    assert _answer(app, MODULE, _us(2)) == {pack: [(_us(1), _us(3))]}
    assert _answer(app, MODULE, _us(4)) == {storage: [(_us(3), _us(5))]}
    assert _answer(app, MODULE, _us(6)) == {pack: [(_us(5), FOREVER)]}

    # Put back later: two stretches, both answered. The pack's time loose in between ended with the pack
    # going back in, module and all: the storage unit answers from then on, the pack no longer.
    _capture(app, _agg("ADD", STORAGE, PACK, 11))
    assert _answer(app, PACK) == {storage: [(_us(3), _us(5)), (_us(11), FOREVER)]}
    assert _answer(app, MODULE) == {storage: [(_us(3), _us(5)), (_us(11), FOREVER)]}
    assert _answer(app, MODULE, _us(6)) == {pack: [(_us(5), _us(11))]}
    assert _answer(app, MODULE, _us(12)) == {storage: [(_us(11), FOREVER)]}


def test_a_unit_put_into_a_vehicle_hands_over_to_the_vehicle(app: Roadpass) -> None:
    _capture(app, _agg("ADD", CABINET, SPARE, 2), _agg("ADD", VEHICLE, CABINET, 4))
    cabinet, vehicle = canonical_id(CABINET), canonical_id(VEHICLE)

    # Top of the chain at an instant: the cabinet before it went into the vehicle, the vehicle after.
    assert _answer(app, SPARE) == {vehicle: [(_us(4), FOREVER)]}
    assert _answer(app, SPARE, _us(3)) == {cabinet: [(_us(2), _us(4))]}
    assert _answer(app, SPARE, _us(5)) == {vehicle: [(_us(4), FOREVER)]}
    _unit, hits = app.trace.where_used(SPARE)
    assert hits.vins == [VIN] and hits.vehicles_now == 1

    # Taken out of the vehicle again, still holding the pack: the vehicle's interval closes and the
    # cabinet is the top of the chain from then on (asked after the index was built: it follows the change).
    _capture(app, _agg("DELETE", VEHICLE, CABINET, 7))
    assert _answer(app, SPARE) == {vehicle: [(_us(4), _us(7))], cabinet: [(_us(7), FOREVER)]}
    assert _answer(app, SPARE, _us(8)) == {cabinet: [(_us(7), FOREVER)]}
    _unit, hits = app.trace.where_used(SPARE)
    assert [h.key for h in hits] == [vehicle, cabinet] and hits.vehicles_now == 0

    # Then it lets go of the pack: both intervals closed, both units still recall targets.
    _capture(app, _agg("DELETE", CABINET, SPARE, 9))
    assert _answer(app, SPARE) == {vehicle: [(_us(4), _us(7))], cabinet: [(_us(7), _us(9))]}
    assert _answer(app, SPARE, _us(10)) == {}


# -- the rule without a database ------------------------------------------------------------------------


def test_holder_spans_keeps_the_intervals_that_end_by_letting_go() -> None:
    holding = [Span(10, 50), Span(60, FOREVER)]
    parents = [Span(20, 30), Span(40, 55), Span(70, 80)]
    # Free: [10, 20) ends by enclosure, [30, 40) too, [60, 70) too; [80, FOREVER) is open.
    assert holder_spans(holding, parents) == [Span(80, FOREVER)]
    assert holder_spans([Span(10, 50)], [Span(40, 55)]) == []
    assert holder_spans([Span(10, 50)], [Span(20, 30)]) == [Span(30, 50)]
    assert holder_spans([Span(10, 50)], [Span(50, 60)]) == [Span(10, 50)]  # let go as it went in
    assert holder_spans(holding, parents, at=15) == [Span(10, 20)]
    assert holder_spans(holding, parents, at=25) == []
    assert holder_spans(holding, parents, at=90) == [Span(80, FOREVER)]


def test_where_used_spans_states_the_rule() -> None:
    lot, module, pack, storage, car = 1, 2, 3, 4, 5
    edges = [
        Edge(module, lot, LinkKind.MADE_FROM, 0, FOREVER),
        Edge(pack, module, LinkKind.CONTAINS, 10, FOREVER),
        Edge(storage, pack, LinkKind.CONTAINS, 20, 30),
        Edge(car, pack, LinkKind.CONTAINS, 40, FOREVER),
    ]
    up: dict[int, list[Edge]] = {}
    for edge in edges:
        up.setdefault(edge.child, []).append(edge)
    hits = {h.unit: (h.spans, h.via) for h in where_used_spans(lot, up, {car})}
    assert hits == {storage: ((Span(20, 30),), frozenset({pack})), car: ((Span(40, FOREVER),), frozenset({pack}))}
    at_35 = {h.unit: h.spans for h in where_used_spans(lot, up, {car}, at=35)}
    assert at_35 == {pack: (Span(30, 40),)}
    at_5 = {h.unit: h.spans for h in where_used_spans(lot, up, {car}, at=5)}
    assert at_5 == {module: (Span(0, 10),)}

