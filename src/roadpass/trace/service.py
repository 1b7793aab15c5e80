"""The trace service: capture, query and genealogy, each in one unit of work.

Capture runs parse (pure) → read the facts the rules need (store) → plan (pure,
:mod:`roadpass.trace.capture_plan`) → persist the plan (store). Reads take the caller's
:class:`~roadpass.trace.query.Visibility` and answer :class:`Hidden` for what it may not see, so every
front end applies the same rule by calling the same method.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from roadpass.trace import capture_plan as plan
from roadpass.trace.capture import CaptureRejected, ParsedCapture, parse_capture, parse_for_storage
from roadpass.trace.capture_plan import CaptureOutcome, CaptureProblem, now_us
from roadpass.trace.epcis.model import CapturedEvent
from roadpass.trace.epcis.schema import SchemaProblem
from roadpass.trace.genealogy import AsBuiltNode, WhereUsedResult, containment_history
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.markets import MARKET_BIZ_STEPS
from roadpass.trace.parse_worker import bulk_load_gc, parsed_ahead
from roadpass.trace.ports import TraceRecords, TraceStore
from roadpass.trace.query import EventQuery, PageToken, Visibility
from roadpass.trace.redaction import redact_event, redact_where_used
from roadpass.trace.stored import StoredEvent, event_keys, render_event
from roadpass.trace.vin import VinError, parse_vin

__all__ = ["CaptureFailed", "CaptureOutcome", "Hidden", "TraceService", "UnitNotFound", "UnitRef"]


class CaptureFailed(Exception):
    """A capture with error behaviour ``rollback`` stored nothing; ``problems`` say why."""

    def __init__(self, capture_id: str, problems: list[CaptureProblem]) -> None:
        self.capture_id = capture_id
        self.problems = problems
        first = problems[0] if problems else None
        where = f"{first.path}: {first.reason}" if first else "$: "
        super().__init__(f"capture {capture_id} rolled back: {where}")

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The problems as the capture job document lists them."""
        return [p.as_json() for p in self.problems]


class UnitNotFound(LookupError):
    """No unit is known under the identifier given."""


class Hidden(LookupError):
    """The thing exists but the caller may not see it (answered as if it did not exist; the front end
    records the refusal)."""


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A resolved unit: row id, canonical key and VIN if it is a vehicle."""

    id: int
    key: str
    vin: str | None


#: A bulk load commits once this many events of its documents are stored (or at its end): about eight of the
#: demo's documents. More per commit saves little more, and a longer transaction keeps other writers waiting.
BATCH_EVENTS = 4_000


class TraceService:
    """Capture EPCIS documents and answer event, as-built and where-used questions."""

    def __init__(self, store: TraceStore, *, max_events: int = 10_000) -> None:
        self.store = store
        self.max_events = max_events
        # Called after each capture commits (the subscription worker wakes to enqueue the new events).
        self.after_capture_commit: list[Callable[[], None]] = []

    # --- capture ---------------------------------------------------------------------------------------

    def capture(self, body: Any, *, actor: str, behaviour: str = "rollback") -> CaptureOutcome:
        """Validate and store a capture body in one transaction.

        ``body`` is a parsed JSON value or raw JSON bytes. A body that breaks the GS1 schema raises
        :class:`roadpass.trace.capture.CaptureRejected` and stores nothing. With ``behaviour="rollback"``
        any event-level problem rolls the whole capture back and raises :class:`CaptureFailed` (a job
        record of the refusal is kept); with ``"proceed"`` the good events are stored.
        """
        if isinstance(body, bytes | bytearray | memoryview | str):
            try:
                body = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise CaptureRejected([SchemaProblem("$", f"not JSON: {exc}")]) from exc
        return self._store(parse_capture(body, max_events=self.max_events), actor, behaviour)

    def capture_many(
        self, bodies: Iterable[bytes], *, actor: str, behaviour: str = "rollback", parallel: bool = True
    ) -> Iterator[CaptureOutcome | CaptureRejected | CaptureFailed]:
        """Capture many JSON bodies in order, yielding each one's outcome once it is committed.

        Bulk loads (the demo, migrations from another repository) use this: with ``parallel`` the pure part
        (schema validation, hash IDs, identifiers) of the next bodies runs in a worker process while this
        process stores the current one, so both cores work. Documents are committed together, up to
        :data:`BATCH_EVENTS` events per transaction. A document refused still stores nothing (it is refused
        before its first write, and its refusal is recorded in its place), the others are kept, while the
        commit's cost (the pages written to the WAL or the redo log) is paid once for several. An error (the
        database's) undoes its whole batch; the outcomes yielded before it stay committed.
        """
        parsed = self._parsed(bodies, parallel)
        done = 0
        with bulk_load_gc():
            # The first batches double from one document, so a load into an empty database commits (and
            # refreshes the planner's statistics) after documents 1, 2, 4, 8, …: the tables grew.
            while outcomes := self._store_batch(parsed, max(1, done), actor, behaviour):
                yield from outcomes
                done += len(outcomes)
                if done & (done - 1) == 0 and done <= 4096:
                    self.store.refresh_statistics()

    def _parsed(self, bodies: Iterable[bytes], parallel: bool) -> Iterator[ParsedCapture | CaptureRejected]:
        if not parallel:
            for body in bodies:
                yield parse_for_storage(body, self.max_events)
            return
        # Against a database server the answers are unpickled by a thread of their own while the storing
        # thread waits for the server; beside SQLite (which takes the GIL back after each row) by the storing
        # thread itself.
        yield from parsed_ahead(bodies, functools.partial(parse_for_storage, max_events=self.max_events),
                                receive_in_thread=not self.store.in_process)

    def _store_batch(
        self, parsed: Iterator[ParsedCapture | CaptureRejected], documents: int, actor: str, behaviour: str
    ) -> list[CaptureOutcome | CaptureRejected | CaptureFailed]:
        """The next documents of ``parsed``, up to ``documents`` or :data:`BATCH_EVENTS` events, stored as
        they arrive in one transaction; their outcomes once it has committed."""
        outcomes: list[CaptureOutcome | CaptureRejected | CaptureFailed] = []
        keys: list[str] = []
        events = 0
        try:
            with self.store.write() as records:
                for item in parsed:
                    if isinstance(item, ParsedCapture):
                        keys.extend(item.units)
                        events += len(item.events)
                        outcomes.append(TraceService._apply(records, item, actor, behaviour))
                    else:
                        outcomes.append(item)
                    if events >= BATCH_EVENTS or len(outcomes) >= documents:
                        break
        except BaseException:
            # A later document may have found an earlier one's uncommitted units, and the cache kept them.
            self.store.units_rolled_back(keys)
            raise
        for outcome in outcomes:
            if isinstance(outcome, CaptureOutcome):
                self.store.units_committed(outcome.new_units)
        if outcomes:
            for hook in self.after_capture_commit:
                hook()
        return outcomes

    def _store(self, parsed: ParsedCapture, actor: str, behaviour: str) -> CaptureOutcome:
        with self.store.write() as records:
            outcome = TraceService._apply(records, parsed, actor, behaviour)
        if isinstance(outcome, CaptureFailed):
            raise outcome
        # Committed: the units this capture created may now be known without a look-up.
        self.store.units_committed(outcome.new_units)
        for hook in self.after_capture_commit:
            hook()
        return outcome

    @staticmethod
    def _apply(
        records: TraceRecords, parsed: ParsedCapture, actor: str, behaviour: str
    ) -> CaptureOutcome | CaptureFailed:
        """Plan and persist ``parsed`` inside the open write transaction, with one ledger entry; or, with
        ``rollback`` and a problem, store none of it and record its refusal in its place."""
        # One document at a time from here to the commit: the ledger chain's head is appended in order, the
        # genealogy index follows new links and units by id (ids must commit in id order), and containment is
        # planned against the stored state of the children this document names (docs/postgresql.md).
        records.lock_writer()
        sorted_events = plan.triage(
            parsed.events,
            records.stored_event_ids([e.event_id for e in parsed.events]),
            records.known_hashes([e.hash_id for e in parsed.events]),
        )
        problems = [*(CaptureProblem.of(p) for p in parsed.problems), *sorted_events.problems]
        events = len(parsed.events) + len(parsed.problems)
        if behaviour == "rollback" and problems:
            # Every problem is known before the document's first write, so a refusal has nothing to undo: the
            # others of its batch go on without a SAVEPOINT each (on SQLite every page a savepoint touches
            # is first copied to its sub-journal; on PostgreSQL each is a subtransaction).
            return CaptureFailed(_record_rejection(records, parsed, actor, behaviour, events, problems), problems)
        now = now_us()
        capture_id = uuid.uuid4().hex
        job_pk = records.open_job(capture_id=capture_id, actor=actor, behaviour=behaviour,
                                  event_count=len(parsed.events), context=parsed.context, created_at=now)
        outcome = CaptureOutcome(capture_id, job_pk, events=events)
        outcome.problems.extend(problems)
        outcome.event_ids = [e.event_id for e in parsed.events]
        current = records.master_data_versions((m.vocabulary_type, m.key) for m in parsed.master_data)
        records.insert_master_data(plan.plan_master_data(parsed.master_data, current, job_pk))
        outcome.duplicates, outcome.corrections = sorted_events.duplicates, sorted_events.corrections
        fresh = sorted_events.fresh

        unit_ids, created = records.intern_units(parsed.units)
        outcome.new_units = plan.stored_units(parsed, unit_ids, created)
        held = {(key, at): records.children_at(unit_ids[key], at) for key, at in plan.emptying_deletes(fresh)}
        rows = plan.plan_events(fresh, unit_ids, first_pk=records.next_event_pk(), record_time=now, job_pk=job_pk,
                                held=held)
        # Containment is planned against the stored facts, so before this batch's rows land.
        older = sorted({fact[0] for fact in rows.containment} - created)
        links = plan.plan_containment(rows.containment, *records.containment_state(older), created)
        records.insert_events(rows.event_rows, rows.epc_rows)
        records.close_links(links.closes)
        records.insert_links([*links.opened, *rows.made_from])
        recompute = _declare(records, [*sorted_events.declarations, *rows.declared], links.replay, job_pk)

        market_events = plan.market_locations(fresh)
        if market_events:
            countries = records.location_countries(e.biz_location for e in market_events if e.biz_location)
            changes = plan.plan_markets(market_events, unit_ids, countries)
            records.set_markets(plan.newer_markets(changes, records.market_times(sorted(changes))))
        if recompute:  # after the fresh facts: a sale declared erroneous on arrival sets no market
            records.set_markets(records.latest_markets(recompute, MARKET_BIZ_STEPS))

        outcome.stored = len(fresh)
        records.finish_job(job_pk, finished_at=now_us(), success=not outcome.problems, errors=outcome.errors,
                           stored=outcome.stored, duplicates=outcome.duplicates)
        outcome.ledger_seq = records.append_ledger(actor, *plan.capture_ledger(job_pk), written_events=rows.event_rows)
        return outcome

    # --- events ----------------------------------------------------------------------------------------

    def events(self, query: EventQuery) -> tuple[list[dict[str, Any]], list[Any], PageToken | None]:
        """One page of events as JSON-LD, the distinct @contexts they were captured with, the next token.

        Each event is what ``query.visibility`` may read of it (:mod:`roadpass.trace.redaction`): every
        route that lists events (``GET /events``, resources, named queries, subscriptions) comes here."""
        with self.store.read() as records:
            rows, token = records.query_events(query)
            events = [_readable(row, query.visibility) for row in rows]
        contexts: list[Any] = []
        seen: set[str] = set()
        for row in rows:
            if row.context not in seen:
                seen.add(row.context)
                contexts.append(orjson.loads(row.context))
        return events, contexts, token

    def event(self, event_id: str, *, visibility: Visibility | None = None) -> tuple[dict[str, Any], Any] | None:
        """One event by eventID (or hash ID) with its @context, as much of it as ``visibility`` may read
        (:mod:`roadpass.trace.redaction`); :class:`Hidden` if ``visibility`` excludes it."""
        with self.store.read() as records:
            row = records.event_by_id(event_id)
            if row is not None and visibility is not None and not _sees_event(records, row, visibility):
                raise Hidden(event_id)
            if row is None:
                return None
            return _readable(row, visibility), orjson.loads(row.context)

    def event_values(self, column: str, *, after: str | None, limit: int, visibility: Visibility | None) -> list[str]:
        """One page of the distinct values of an event column (``biz_step``, ``disposition``,
        ``biz_location``, ``read_point``) among the events ``visibility`` sees (EPCIS 2.0 REST top level)."""
        with self.store.read() as records:
            return records.event_values(column, after=after, limit=limit, visibility=visibility)

    def known_epcs(self, *, after: str | None, limit: int, visibility: Visibility | None) -> list[str]:
        """One page of the instance EPCs (canonical keys) named by events ``visibility`` sees."""
        with self.store.read() as records:
            return records.known_epcs(after=after, limit=limit, visibility=visibility)

    def has_matching_events(self, query: EventQuery, *, visibility: Visibility | None) -> bool:
        """True when an event ``visibility`` sees matches ``query``: a REST resource item (an EPC, a location)
        exists when events name it. :class:`Hidden` when only events the caller may not see do."""
        probe = dataclasses.replace(query, per_page=1, after=None, visibility=visibility)
        with self.store.read() as records:
            if records.query_events(probe)[0]:
                return True
            if visibility is not None and records.query_events(dataclasses.replace(probe, visibility=None))[0]:
                raise Hidden(query.fingerprint)
        return False

    def revoke_page_token(self, digest: str, *, expires_at: int, now: int) -> None:
        """Make a nextPageToken unusable before it expires (EPCIS 2.0 REST: DELETE /nextPageToken/{token})."""
        with self.store.write() as records:
            records.revoke_page_token(digest, expires_at=expires_at, now=now)

    def page_token_revoked(self, digest: str) -> bool:
        """True when the nextPageToken with this digest was deleted."""
        with self.store.read() as records:
            return records.page_token_revoked(digest)

    def has_events(self) -> bool:
        """True once any event is stored."""
        with self.store.read() as records:
            return records.has_events()

    def capture_job(self, capture_id: str, *, actor_prefixes: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        """The capture job document; :class:`Hidden` if it was made by an actor outside ``actor_prefixes``."""
        with self.store.read() as records:
            found = records.capture_job(capture_id)
        if found is None:
            return None
        job, actor = found
        if actor_prefixes is not None and not actor.startswith(actor_prefixes):
            raise Hidden(capture_id)
        return job

    def capture_jobs(self, *, limit: int = 30, actor_prefixes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Recent capture jobs (with ``actor_prefixes``: only those actors' jobs)."""
        with self.store.read() as records:
            return records.capture_jobs(limit=limit, actor_prefixes=actor_prefixes)

    # --- units and genealogy ---------------------------------------------------------------------------

    def unit_market(self, unit_id: int) -> str | None:
        """The market (ISO 3166-1 alpha-2) a vehicle was last sold or registered in (None for other units:
        an authority's mandate covers the vehicles on its market, see roadpass.access.policy)."""
        with self.store.read() as records:
            return records.vehicle_market(unit_id)

    def resolve(self, identifier: str, *, visibility: Visibility | None = None) -> UnitRef:
        """Resolve an EPC URN, Digital Link URI, lot class URN or VIN to a stored unit; :class:`Hidden` if
        ``visibility`` does not see it."""
        with self.store.read() as records:
            return _resolve(records, identifier, visibility)

    def as_built(self, identifier: str, at: int | None = None, *, visibility: Visibility | None = None) -> AsBuiltNode:
        """The as-built tree under a unit at ``at`` (UTC µs; default now), if ``visibility`` sees the unit.

        The tree is not redacted: who sees a unit sees what it holds, as who sees an event's ``parentID``
        sees the event whole (:mod:`roadpass.trace.redaction`). A supplier does not reach its unit's
        vehicle's tree (the vehicle is not its); events and where-used name that vehicle to it."""
        with self.store.read() as records:
            tree = records.as_built(_resolve(records, identifier, visibility).id, at)
        if tree is None:  # pragma: no cover - the root row always exists once resolved
            raise UnitNotFound(identifier)
        return tree

    def where_used(
        self, identifier: str, at: int | None = None, *, visibility: Visibility | None = None
    ) -> tuple[UnitRef, WhereUsedResult]:
        """Every vehicle (and loose top-level unit) that contains or contained a unit or lot.

        With ``visibility``: all of them for the owner of the unit or lot asked about (a recall needs the
        whole blast radius), else the vehicles that are the caller's, shared with it or in its mandate;
        :class:`Hidden` when that leaves nothing of a unit the caller may not see. Each hit's ``via`` keys
        and ``suppliers`` are redacted (:func:`roadpass.trace.redaction.redact_hit`)."""
        with self.store.read() as records:
            unit = _resolve(records, identifier, None)
            result = records.where_used(unit.id, at)
            if visibility is None or visibility.sees_unit(unit.key, records.vehicle_market(unit.id)):
                return unit, redact_where_used(result, visibility)
        kept = [h for h in result if visibility.sees_unit(h.key, h.market if h.vin else None)]
        if not kept:
            raise Hidden(identifier)
        return unit, redact_where_used(WhereUsedResult.from_hits(kept), visibility)

    def vehicles_children_at(
        self, asked: Sequence[tuple[str, int]], *, among: Collection[str] | None = None,
        visibility: Visibility | None = None,
    ) -> dict[tuple[str, int], AsBuiltNode]:
        """Children of many vehicles at given times: per (VIN, instant UTC µs) asked, the vehicle with its
        direct children at that instant (a one-level :meth:`as_built`; with ``among``, only the children
        with one of those keys), read in one statement. VINs no vehicle carries are absent; :class:`Hidden`
        (naming the VIN) when ``visibility`` does not see one."""
        with self.store.read() as records:
            found = records.vehicle_children(asked, among)
        out: dict[tuple[str, int], AsBuiltNode] = {}
        for (vin, at), (tree, market) in found.items():
            if visibility is not None and not visibility.sees_unit(tree.key, market):
                raise Hidden(vin)
            out[(vin, at)] = tree
        return out


def _resolve(records: TraceRecords, identifier: str, visibility: Visibility | None) -> UnitRef:
    identifier = identifier.strip()
    vin: str | None = None
    key: str | None = None
    if len(identifier) == 17 and ":" not in identifier and "/" not in identifier:
        try:
            vin = parse_vin(identifier, check_digit=False)
        except VinError:
            vin = None
    if vin is None:
        try:
            key = canonical_id(identifier)
        except IdentifierError as exc:
            raise UnitNotFound(f"{identifier!r} is neither a VIN nor a valid identifier: {exc}") from exc
    found = records.resolve_unit(key, vin)
    if found is None:
        raise UnitNotFound(f"no unit is known as {identifier!r}")
    unit = UnitRef(*found)
    if visibility is not None and not visibility.sees_unit(unit.key, records.vehicle_market(unit.id)):
        raise Hidden(identifier)
    return unit


def _readable(row: StoredEvent, vis: Visibility | None) -> dict[str, Any]:
    """The event as ``vis`` may read it (a caller reads its own captures whole: the row carries who captured
    it, so no event costs a statement of its own)."""
    return redact_event(render_event(row), vis, actor=row.actor)


def _sees_event(records: TraceRecords, event: StoredEvent, vis: Visibility) -> bool:
    """True when ``event`` is visible under ``vis`` (the rule the store's query filter applies to many).

    For one event the identifiers come from its own JSON, and the decision is then mostly made without
    another statement (owned and shared keys are prefix tests)."""
    keys = event_keys(orjson.loads(event.doc))
    if any(vis.sees_unit(key) for key in keys):
        return True
    biz_location, read_point, actor = records.event_places(event.row_id)
    if vis.sees_location(biz_location) or vis.sees_location(read_point):
        return True
    if vis.actor_prefixes and actor.startswith(vis.actor_prefixes):
        return True
    return bool(vis.markets and keys and records.vehicle_in_markets(keys, vis.markets))


def _declare(
    records: TraceRecords, declarations: list[tuple[CapturedEvent, int]], replay: set[int], job_pk: int
) -> set[int]:
    """Record error declarations and replay what they and out-of-order facts changed (EPCIS 2.0 §7.4.1.2);
    the units whose market must be recomputed."""
    undone = plan.plan_declarations(declarations, records.declaration_facts(pk for _e, pk in declarations), job_pk)
    records.unlink_made_from(undone.unlink)
    records.insert_declarations(undone.rows)
    for child in sorted(replay | undone.replay):
        records.replace_containment(child, containment_history(child, records.child_steps(child)))
    return undone.market_units


def _record_rejection(
    records: TraceRecords, parsed: ParsedCapture, actor: str, behaviour: str, events: int,
    problems: list[CaptureProblem],
) -> str:
    """Keep a job record of a capture that stored nothing, so ``GET /capture/{id}`` can report it."""
    capture_id = uuid.uuid4().hex
    now = now_us()
    job_pk = records.open_job(capture_id=capture_id, actor=actor, behaviour=behaviour, event_count=events,
                              context=parsed.context, created_at=now)
    records.finish_job(job_pk, finished_at=now, success=False, errors=[p.as_json() for p in problems], stored=0,
                       duplicates=0)
    records.append_ledger(actor, *plan.rejection_ledger(job_pk))
    return capture_id
