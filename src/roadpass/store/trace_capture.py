"""Storing a parsed capture in one transaction: events, identifiers, genealogy, market, ledger entry."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import Connection, Engine

from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import ledger as ledger_store
from roadpass.store import trace_write as w
from roadpass.store.bulk import bulk_insert, lock_writer, next_id, placeholder
from roadpass.store.engine import is_postgresql
from roadpass.store.tables import LEDGERED_COLUMNS
from roadpass.trace.capture import ParsedCapture
from roadpass.trace.epcis.model import CapturedEvent, Role
from roadpass.trace.epcis.schema import SchemaProblem
from roadpass.trace.epcis.vocabulary import expand_vocabulary
from roadpass.trace.genealogy import Edge, LinkKind, containment_history
from roadpass.trace.markets import MARKET_BIZ_STEPS
from roadpass.trace.timeutil import FOREVER

__all__ = ["CaptureOutcome", "record_job", "refresh_statistics", "store_capture", "unit_cache"]

_CACHES: WeakKeyDictionary[Engine, w.UnitCache] = WeakKeyDictionary()


def unit_cache(bind: Connection | Engine) -> w.UnitCache:
    """The identifier → unit id cache of a database (by engine)."""
    engine = bind.engine
    cache = _CACHES.get(engine)
    if cache is None:
        cache = _CACHES[engine] = w.UnitCache()
    return cache

_CONTAINS = int(LinkKind.CONTAINS)
_MADE_FROM = int(LinkKind.MADE_FROM)
_new_tuple = tuple.__new__  # builds named tuples without their Python-level __new__ (capture hot path)

CAPTURE_RULE = "GS1 EPCIS 2.0 capture interface (§8.2.6 / REST POST /capture)"


@dataclass(slots=True)
class CaptureOutcome:
    """What a capture stored; ``errors`` are RFC 7807-style problems for events left out."""

    capture_id: str
    job_pk: int
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    corrections: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    new_units: dict[str, int] = field(default_factory=dict)
    ledger_seq: int | None = None

    @property
    def success(self) -> bool:
        """True when no event was left out."""
        return not self.errors


_CAPTURE_TABLES = ("unit", "epcis_event", "event_epc", "link", "vocabulary_element")


def refresh_statistics(engine: Engine) -> None:
    """Let PostgreSQL's planner see how big the capture tables have grown (``ANALYZE``).

    A bulk load into an empty database otherwise runs on the statistics of empty tables until autovacuum
    gets round to them, and the planner's sequential scans then cost more than the load itself. SQLite's
    planner prefers the indexes without statistics: nothing to do there."""
    if not is_postgresql(engine):
        return
    with engine.begin() as conn:
        for table in _CAPTURE_TABLES:
            conn.exec_driver_sql(f"ANALYZE {table}")


def _now_us() -> int:
    return time.time_ns() // 1000


def problem_json(problem: SchemaProblem) -> dict[str, Any]:
    """An RFC 7807 problem body for one capture problem (EPCIS 2.0 REST: epcisException types)."""
    out: dict[str, Any] = {
        "type": "epcisException:ValidationException",
        "title": problem.reason,
        "status": 400,
        "instance": problem.path,
    }
    if problem.event_index is not None:
        out["eventIndex"] = problem.event_index
    return out


def record_job(
    conn: Connection, *, actor: str, behaviour: str, context: Any, events: int, errors: list[dict[str, Any]]
) -> str:
    """Record a capture job that stored nothing (rejected) so ``GET /capture/{id}`` can report it."""
    capture_id = uuid.uuid4().hex
    now = _now_us()
    result = conn.execute(
        w_capture_job_insert(),
        {
            "capture_id": capture_id, "actor": actor, "created_at": now, "finished_at": now, "running": 0,
            "success": 0, "error_behaviour": behaviour, "errors": orjson.dumps(errors).decode(),
            "event_count": events, "stored_count": 0, "duplicate_count": 0,
            "context": orjson.dumps(context).decode(),
        },
    )
    job_pk = int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0
    subjects = (Subject("capture_job", "id", job_pk),)
    ledger_store.append(
        conn,
        LedgerDraft(actor, "epcis.capture.rejected", CAPTURE_RULE, subjects, ledger_store.rows_hash(conn, subjects)),
    )
    return capture_id


def w_capture_job_insert() -> Any:
    """The insert statement for a capture job (Core, so that the id comes back on both databases)."""
    from roadpass.store.tables import capture_job

    return capture_job.insert()


def _master_data(conn: Connection, parsed: ParsedCapture, job_pk: int) -> int:
    mark = placeholder(conn)
    rows = []
    for element in parsed.master_data:
        attributes = orjson.dumps(element.attributes, option=orjson.OPT_SORT_KEYS).decode()
        current = conn.exec_driver_sql(
            "SELECT version, attributes FROM vocabulary_element "
            f"WHERE vocabulary_type = {mark} AND key = {mark} ORDER BY version DESC LIMIT 1",
            (element.vocabulary_type, element.key),
        ).first()
        if current is not None and current[1] == attributes:
            continue
        version = 1 if current is None else int(current[0]) + 1
        rows.append((element.vocabulary_type, element.key, version, element.name, element.country, attributes, job_pk))
    if rows:
        start = next_id(conn, "vocabulary_element")
        bulk_insert(
            conn,
            "vocabulary_element",
            ("id", "vocabulary_type", "key", "version", "name", "country", "attributes", "job_id"),
            [(start + i, *row) for i, row in enumerate(rows)],
        )
    return len(rows)


def _declare_errors(
    conn: Connection, declarations: list[tuple[CapturedEvent, int]], job_pk: int
) -> tuple[set[int], set[int]]:
    """Record error declarations; return the units whose genealogy and market must be recomputed."""
    replay_children: set[int] = set()
    market_units: set[int] = set()
    mark = placeholder(conn)
    rows = []
    for event, target_pk in declarations:
        declaration = event.error_declaration or {}
        exists = conn.exec_driver_sql(
            f"SELECT 1 FROM error_declaration WHERE event_pk = {mark}", (target_pk,)
        ).first()
        if exists:
            continue
        rows.append(
            (
                target_pk,
                _declared_time(declaration, event.event_time),
                expand_vocabulary("errorReason", str(reason)) if (reason := declaration.get("reason")) else None,
                orjson.dumps(declaration.get("correctiveEventIDs") or []).decode(),
                orjson.dumps(declaration).decode(),
                job_pk,
            )
        )
        target_type, = conn.exec_driver_sql(
            f"SELECT event_type FROM epcis_event WHERE id = {mark}", (target_pk,)
        ).one()
        units = [
            (int(u), int(r))
            for u, r in conn.exec_driver_sql(
                f"SELECT unit_id, role FROM event_epc WHERE event_pk = {mark}", (target_pk,)
            )
        ]
        if target_type == "AggregationEvent":
            replay_children.update(u for u, r in units if r == Role.CHILD)
        if target_type == "TransformationEvent":
            w.delete_links_of_event(conn, target_pk, LinkKind.MADE_FROM)
        market_units.update(u for u, r in units if r in (Role.EPC, Role.PARENT, Role.CHILD))
    if rows:
        start = next_id(conn, "error_declaration")
        bulk_insert(
            conn,
            "error_declaration",
            ("id", "event_pk", "declaration_time", "reason", "corrective_ids", "declaration", "job_id"),
            [(start + i, *row) for i, row in enumerate(rows)],
        )
    return replay_children, market_units


def _declared_time(declaration: dict[str, Any], fallback: int) -> int:
    from roadpass.trace.timeutil import parse_time

    value = declaration.get("declarationTime")
    return parse_time(str(value), "errorDeclaration.declarationTime") if value else fallback


def _plan_containment(
    conn: Connection, steps: list[tuple[int, int, int, str, int]], replay: set[int], created: set[int]
) -> tuple[list[tuple[int, int, int]], list[Edge]]:
    """Plan aggregation facts (child, time, event pk, action, parent) in time order: links to close and
    links to open. Children whose facts arrive out of time order go to ``replay`` instead (replayed from
    all their stored facts). Reads the stored facts, so it runs before this batch's rows land."""
    if not steps:
        return [], []
    # Units created by this capture have no stored facts: only older ones need looking up.
    children = sorted({s[0] for s in steps} - created)
    last = w.last_child_step(conn, children)
    open_links = w.open_containment(conn, children)
    steps.sort()  # by child, then time, then event: each child's facts form one ordered run
    closes: list[tuple[int, int, int]] = []
    new_links: list[Edge] = []
    count = len(steps)
    i = 0
    while i < count:
        child, at, event_pk, action, parent = steps[i]
        j = i + 1
        while j < count and steps[j][0] == child:
            j += 1
        if j == i + 1 and child not in last and child not in open_links and action != "DELETE":
            # The common case: a part's first containment ever (assembly). tuple.__new__ straight: the
            # named tuple's generated __new__ costs more than the rest of this branch.
            new_links.append(_new_tuple(Edge, (parent, child, _CONTAINS, at, FOREVER, event_pk, None)))
            i = j
            continue
        if child in replay or (child in last and at < last[child]):
            replay.add(child)
            i = j
            continue
        current = open_links.get(child)  # (link id, parent, start)
        pending: tuple[int, int, int] | None = None  # (parent, start, event)
        for _child, at, event_pk, action, parent in steps[i:j]:
            holder = pending[0] if pending else (current[1] if current else None)
            if action in ("ADD", "OBSERVE"):
                if holder == parent:
                    continue
                if pending is not None:
                    new_links.append(Edge(pending[0], child, _CONTAINS, pending[1], at, pending[2], event_pk))
                elif current is not None:
                    closes.append((current[0], at, event_pk))
                    current = None
                pending = (parent, at, event_pk)
            elif action == "DELETE" and holder == parent:
                if pending is not None:
                    new_links.append(Edge(pending[0], child, _CONTAINS, pending[1], at, pending[2], event_pk))
                    pending = None
                elif current is not None:
                    closes.append((current[0], at, event_pk))
                    current = None
        if pending is not None:
            new_links.append(Edge(pending[0], child, _CONTAINS, pending[1], FOREVER, pending[2], None))
        i = j
    return closes, [e for e in new_links if e.start < e.end]


def _replay(conn: Connection, children: set[int]) -> None:
    for child in sorted(children):
        w.replace_containment(conn, child, containment_history(child, w.child_steps(conn, child)))


def recompute_market(conn: Connection, units: set[int]) -> None:
    """Recompute the market of ``units`` from the market-setting events that still stand."""
    if not units:
        return
    mark = placeholder(conn)
    steps = sorted(MARKET_BIZ_STEPS)
    for unit_id in sorted(units):
        row = conn.exec_driver_sql(
            "SELECT v.country, e.event_time FROM event_epc c JOIN epcis_event e ON e.id = c.event_pk "
            "JOIN vocabulary_element v ON v.key = e.biz_location AND v.country IS NOT NULL "
            f"WHERE c.unit_id = {mark} AND e.biz_step IN ({', '.join([mark] * len(steps))}) "
            "AND NOT EXISTS (SELECT 1 FROM error_declaration d WHERE d.event_pk = e.id) "
            "ORDER BY e.event_time DESC, v.version DESC LIMIT 1",
            (unit_id, *steps),
        ).first()
        conn.exec_driver_sql(
            f"UPDATE unit SET market = {mark}, market_time = {mark} WHERE id = {mark}",
            (row[0] if row else None, int(row[1]) if row else None, unit_id),
        )
        conn.exec_driver_sql(f"INSERT INTO link_change (unit_id) VALUES ({mark})", (unit_id,))


def store_capture(
    conn: Connection, parsed: ParsedCapture, *, actor: str, behaviour: str = "rollback"
) -> CaptureOutcome:
    """Store ``parsed`` inside the open write transaction ``conn`` and append one ledger entry.

    Idempotent: an event whose hash ID is stored already is counted as a duplicate and not stored again.
    An event carrying an ``errorDeclaration`` for a stored event records the declaration against it, and
    the genealogy and market that event produced are recomputed without it.
    """
    lock_writer(conn)
    now = _now_us()
    capture_id = uuid.uuid4().hex
    result = conn.execute(
        w_capture_job_insert(),
        {
            "capture_id": capture_id, "actor": actor, "created_at": now, "finished_at": None, "running": 1,
            "success": 1, "error_behaviour": behaviour, "errors": "[]", "event_count": len(parsed.events),
            "stored_count": 0, "duplicate_count": 0, "context": orjson.dumps(parsed.context).decode(),
        },
    )
    job_pk = int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0
    outcome = CaptureOutcome(capture_id, job_pk, events=len(parsed.events) + len(parsed.problems))
    outcome.errors.extend(problem_json(p) for p in parsed.problems)
    outcome.event_ids = [e.event_id for e in parsed.events]

    _master_data(conn, parsed, job_pk)

    stored_ids = w.existing_event_ids(conn, [e.event_id for e in parsed.events])
    known_hashes = w.existing_hashes(conn, [e.hash_id for e in parsed.events])
    fresh: list[CapturedEvent] = []
    fresh_ids: set[str] = set()
    seen: set[str] = set()
    declarations: list[tuple[CapturedEvent, int]] = []
    for event in parsed.events:
        if event.error_declaration is not None and event.event_id in stored_ids:
            declarations.append((event, stored_ids[event.event_id][0]))
            outcome.corrections += 1
            continue
        if event.hash_id in known_hashes or event.hash_id in seen:
            outcome.duplicates += 1
            continue
        if event.event_id in stored_ids or event.event_id in fresh_ids:
            outcome.errors.append(
                problem_json(
                    SchemaProblem(
                        f"$.epcisBody.eventList[{event.index}].eventID",
                        f"eventID {event.event_id} is already used by a different event",
                        event.index,
                    )
                )
                | {"type": "epcisException:CaptureLimitExceededException", "status": 409}
            )
            continue
        seen.add(event.hash_id)
        fresh_ids.add(event.event_id)
        fresh.append(event)

    # Units: every identifier of every fresh event, interned once.
    wanted = parsed.units
    cache = unit_cache(conn)
    unit_ids, created = w.intern_units(conn, wanted, cache)
    outcome.new_units = {key: unit_ids[key] for key in wanted if unit_ids[key] in created}
    cache.remember({key: uid for key, uid in unit_ids.items() if uid not in created})

    # Events and their identifiers by role.
    first_pk = next_id(conn, "epcis_event")
    record_time = now
    event_rows: list[tuple[Any, ...]] = []
    epc_rows: list[tuple[int, int, int]] = []
    containment: list[tuple[int, int, int, str, int]] = []  # (child, time, event pk, action, parent)
    made_from: list[Edge] = []
    pks: dict[str, int] = {}
    for offset, event in enumerate(fresh):
        pk = first_pk + offset
        pks[event.hash_id] = pk
        event_rows.append(
            (
                pk, event.event_id, event.hash_id, event.event_type, event.event_time, record_time,
                event.action, event.biz_step, event.disposition, event.read_point, event.biz_location,
                job_pk, event.stored_json(),
            )
        )
        epc_rows.extend([(unit_ids[key], role, pk) for key, role in event.identifiers])
        if event.error_declaration is not None:
            # Declared erroneous on arrival: stored and queryable, but it shapes no genealogy.
            declarations.append((event, pk))
        elif event.event_type == "AggregationEvent" and event.parent is not None and event.action:
            parent_id = unit_ids[event.parent]
            kids = [unit_ids[k] for k in event.keys(Role.CHILD)]
            if not kids and event.action == "DELETE":
                # EPCIS 2.0 §7.4.3: DELETE with no childEPCs disaggregates every child.
                kids = w.children_at(conn, parent_id, event.event_time)
                epc_rows.extend((kid, int(Role.CHILD), pk) for kid in kids)
            action = str(event.action)
            containment.extend([(kid, event.event_time, pk, action, parent_id) for kid in kids])
        elif event.event_type == "TransformationEvent":
            inputs = [unit_ids[k] for k in event.keys(Role.INPUT, Role.INPUT_QUANTITY)]
            outputs = [unit_ids[k] for k in event.keys(Role.OUTPUT, Role.OUTPUT_QUANTITY)]
            at = event.event_time
            made_from.extend(
                _new_tuple(Edge, (out, src, _MADE_FROM, at, FOREVER, pk, None)) for out in outputs for src in inputs
            )

    replay: set[int] = set()
    closes, opened = _plan_containment(conn, containment, replay, created)  # before this batch's rows land
    w.insert_events(conn, event_rows)
    w.insert_event_epcs(conn, epc_rows)
    w.close_links(conn, closes)
    w.insert_links(conn, [*opened, *made_from])
    replay_from_errors, market_units = _declare_errors(conn, declarations, job_pk)
    _replay(conn, replay | replay_from_errors)

    # Market: where a unit was last sold or registered.
    market_events = [e for e in fresh if e.biz_step in MARKET_BIZ_STEPS and e.biz_location]
    if market_events:
        countries = w.location_countries(conn, [e.biz_location for e in market_events if e.biz_location])
        changes: dict[int, tuple[str, int]] = {}
        for event in market_events:
            country = countries.get(event.biz_location or "")
            if country is None:
                continue
            for key in event.keys(Role.EPC, Role.PARENT, Role.CHILD):
                unit = unit_ids[key]
                if unit not in changes or changes[unit][1] <= event.event_time:
                    changes[unit] = (country, event.event_time)
        w.set_market(conn, changes)
    recompute_market(conn, market_units)

    outcome.stored = len(fresh)
    success = not outcome.errors
    mark = placeholder(conn)
    conn.exec_driver_sql(
        f"UPDATE capture_job SET finished_at = {mark}, running = 0, success = {mark}, errors = {mark}, "
        f"stored_count = {mark}, duplicate_count = {mark} WHERE id = {mark}",
        (_now_us(), int(success), orjson.dumps(outcome.errors).decode(), outcome.stored, outcome.duplicates, job_pk),
    )
    subjects = (
        Subject("capture_job", "id", job_pk),
        Subject("epcis_event", "job_id", job_pk),
        Subject("error_declaration", "job_id", job_pk),
        Subject("vocabulary_element", "job_id", job_pk),
    )
    # The event rows were just built here: hash them from memory, in the ledgered column order.
    picks = [w.EVENT_COLUMNS.index(name) for name in LEDGERED_COLUMNS["epcis_event"]]
    written = {1: [[row[i] for i in picks] for row in event_rows]}
    content = ledger_store.rows_hash(conn, subjects, written)
    entry = ledger_store.append(conn, LedgerDraft(actor, "epcis.capture", CAPTURE_RULE, subjects, content))
    outcome.ledger_seq = entry.seq
    return outcome
