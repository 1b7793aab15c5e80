"""Random build / service / disassembly sequences: the stored genealogy against the reference model."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_model import FOREVER, Fact, ReferenceModel
from reference_sql import where_used as where_used_sql

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings
from roadpass.trace.genealogy import Edge, WhereUsedResult, where_used_spans
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.timeutil import to_us

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _vin(serial: int) -> str:
    # ISO 3779 check digit (position 9), as North America and China (GB 16735) use it.
    values = {**{str(d): d for d in range(10)}, **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
              **dict(zip("JKLMN", range(1, 6), strict=True)), "P": 7, "R": 9,
              **dict(zip("STUVWXYZ", range(2, 10), strict=True))}
    weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    body = f"LSJA24U6XRS{serial:06d}"
    total = sum(values[c] * w for c, w in zip(body, weights, strict=True))
    check = "X" if total % 11 == 10 else str(total % 11)
    return body[:8] + check + body[9:]


VEHICLES = {f"urn:epc:id:giai:0614141.{_vin(i)}": _vin(i) for i in range(1, 4)}
PACKS = [f"urn:epc:id:sgtin:0614141.100001.{i}" for i in range(1, 4)]
MODULES = [f"urn:epc:id:sgtin:0614141.100002.{i}" for i in range(1, 7)]
LOTS = [f"urn:epc:class:lgtin:0614141.100003.L{i}" for i in range(1, 3)]
# Units identified by an SGTIN, not vehicles (stationary storage): they hold packs at the top of their
# chain, let go of them (a swap) and go into vehicles themselves, so where-used meets holders without a VIN.
UNITS = [f"urn:epc:id:sgtin:0614141.100004.{i}" for i in range(1, 3)]
V = list(VEHICLES)

# (kind, parent, child): containment steps are vehicle⊃pack, storage unit⊃pack, vehicle⊃storage unit,
# pack⊃module; made-from is module←lot.
step = st.one_of(
    st.tuples(st.sampled_from(["ADD", "DELETE", "OBSERVE"]), st.sampled_from(V), st.sampled_from(PACKS)),
    st.tuples(st.sampled_from(["ADD", "DELETE", "OBSERVE"]), st.sampled_from(UNITS), st.sampled_from(PACKS)),
    st.tuples(st.sampled_from(["ADD", "DELETE"]), st.sampled_from(V), st.sampled_from(UNITS)),
    st.tuples(st.sampled_from(["ADD", "DELETE", "ADD"]), st.sampled_from(PACKS), st.sampled_from(MODULES)),
    st.tuples(st.just("MADE_FROM"), st.sampled_from(MODULES), st.sampled_from(LOTS)),
)


def _iso(index: int) -> str:
    return (T0 + timedelta(hours=index)).isoformat().replace("+00:00", "Z")


def _event(index: int, kind: str, parent: str, child: str) -> dict[str, Any]:
    if kind == "MADE_FROM":
        return {
            "type": "TransformationEvent", "eventTime": _iso(index), "eventTimeZoneOffset": "+00:00",
            "inputQuantityList": [{"epcClass": child, "quantity": 10, "uom": "KGM"}],
            "outputEPCList": [parent], "bizStep": "commissioning",
        }
    return {
        "type": "AggregationEvent", "eventTime": _iso(index), "eventTimeZoneOffset": "+00:00",
        "parentID": parent, "childEPCs": [child], "action": kind,
        "bizStep": "repairing" if kind == "DELETE" else "assembling",
    }


def _document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-01T00:00:00Z", "epcisBody": {"eventList": events},
    }


def _same_as_sql(app: Roadpass, target: str, at: int | None, result: WhereUsedResult) -> None:
    """The in-memory index answers exactly as the recursive SQL over the link table: hits, order, roll-ups."""
    with app.uow.read() as conn:
        prefixes = conn.exec_driver_sql("SELECT gcp, name FROM party WHERE gcp IS NOT NULL")
        suppliers = {str(gcp): str(name) for gcp, name in prefixes}
        sql = where_used_sql(conn, app.trace.resolve(target).id, at, suppliers=suppliers)
    # Paged from a fresh answer (hits not built yet: each page builds only its own), then whole.
    fresh, size = app.trace.where_used(target, at)[1], 1 + len(target) % 3
    paged, page = [], fresh.page(None, size)
    while True:
        paged.extend(page.hits)
        if page.after is None:
            break
        page = fresh.page(page.after, size)
    assert paged == list(sql), (target, at, size)
    _same_as_rule(app, target, at, result)
    assert list(result) == list(sql), (target, at)
    assert (result.vins, result.vehicles_now, result.by_market, result.by_supplier) == (
        sql.vins, sql.vehicles_now, sql.by_market, sql.by_supplier
    ), (target, at)


def _same_as_rule(app: Roadpass, target: str, at: int | None, result: WhereUsedResult) -> None:
    """The domain's statement of the rule (``where_used_spans``) over the stored links gives the same hits."""
    with app.uow.read() as conn:
        links = conn.exec_driver_sql("SELECT parent_id, child_id, kind, valid_from, valid_to FROM link").all()
        units = {int(i): (str(k), v) for i, k, v in conn.exec_driver_sql("SELECT id, key, vin FROM unit")}
    up: dict[int, list[Edge]] = {}
    for parent, child, kind, start, end in links:
        up.setdefault(int(child), []).append(Edge(int(parent), int(child), int(kind), int(start), int(end)))
    vehicles = {i for i, (_k, vin) in units.items() if vin}
    rule = where_used_spans(app.trace.resolve(target).id, up, vehicles, at)
    want = {units[h.unit][0]: (h.spans, sorted(units[v][0] for v in h.via)) for h in rule}
    assert {h.key: (h.spans, list(h.via)) for h in result} == want, (target, at)


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=18), order_seed=st.integers(0, 2**16), batches=st.integers(1, 4))
def test_stored_genealogy_matches_reference_model(
    steps: list[tuple[str, str, str]], order_seed: int, batches: int, sqlite_template: Path, tmp_path: Path
) -> None:
    db = tmp_path / f"prop-{order_seed}-{len(steps)}-{batches}.sqlite3"
    shutil.copy(sqlite_template, db)
    app = bootstrap(Settings(database_url=f"sqlite:///{db}", environment="test"), migrate=False)
    try:
        model = ReferenceModel(vins={canonical_id(k): v for k, v in VEHICLES.items()})
        events = []
        facts = []
        for index, (kind, parent, child) in enumerate(steps):
            at = to_us(T0 + timedelta(hours=index))
            facts.append(Fact(at, index, kind, canonical_id(parent), canonical_id(child)))
            events.append((_event(index, kind, parent, child), facts[-1]))
        # Capture in a shuffled order and in several documents: genealogy is by event time, not arrival.
        # Ask between captures too, so the in-memory index has to follow new, closed and replayed links.
        random.Random(order_seed).shuffle(events)
        size = max(1, -(-len(events) // batches))
        for start in range(0, len(events), size):
            batch = events[start : start + size]
            app.trace.capture(_document([e for e, _f in batch]), actor="prop")
            model.facts.extend(f for _e, f in batch)
            for target in {f.child for _e, f in batch}:
                _unit, hits = app.trace.where_used(target)
                assert {h.key for h in hits} == set(model.where_used_ever(target)), (target, "interim")
        last = len(steps)
        instants = [to_us(T0 + timedelta(hours=i, minutes=m)) for i in range(-1, last + 1) for m in (0, 30)]
        for target in {canonical_id(x) for x in [*UNITS, *PACKS, *MODULES, *LOTS]}:
            if not any(target in (f.parent, f.child) for f in model.facts):
                continue
            _unit, hits = app.trace.where_used(target)
            _same_as_sql(app, target, None, hits)
            got = {h.key: [(s.start, s.end) for s in h.spans] for h in hits}
            want = model.where_used_ever(target)
            assert set(got) == set(want), (target, got, want)
            for key, spans in want.items():
                assert got[key] == spans, (target, key)
            for at in instants:
                _unit, hits_at = app.trace.where_used(target, at)
                _same_as_sql(app, target, at, hits_at)
                assert {h.key for h in hits_at} == model.where_used_at(target, at), (target, at)
        for root in {canonical_id(x) for x in [*V, *UNITS, *PACKS, *MODULES]}:
            if not any(root in (f.parent, f.child) for f in model.facts):
                continue
            for at in [*instants, None]:
                tree = app.trace.as_built(root, at)
                expected = model.subtree(root, FOREVER - 1 if at is None else at)
                assert tree.keys() - {root} == expected, (root, at)
    finally:
        app.close()
