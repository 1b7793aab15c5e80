"""The trace service: capture, query and genealogy, each in one unit of work."""

from __future__ import annotations

import multiprocessing
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import Engine

from roadpass.store import genealogy as gen_store
from roadpass.store import trace_read
from roadpass.store.genealogy_index import GenealogyIndex
from roadpass.store.trace_capture import (
    CaptureOutcome,
    problem_json,
    record_job,
    refresh_statistics,
    store_capture,
    unit_cache,
)
from roadpass.store.uow import UnitOfWork
from roadpass.trace.capture import CaptureRejected, ParsedCapture, parse_capture, parse_for_storage
from roadpass.trace.epcis.schema import SchemaProblem
from roadpass.trace.genealogy import AsBuiltNode, WhereUsedResult
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.query import EventQuery, PageToken, Visibility
from roadpass.trace.vin import VinError, parse_vin

__all__ = ["CaptureFailed", "Hidden", "TraceService", "UnitNotFound", "UnitRef"]


_INDEXES: WeakKeyDictionary[Engine, GenealogyIndex] = WeakKeyDictionary()


def genealogy_index(engine: Engine) -> GenealogyIndex:
    """The in-memory genealogy index of a database (one per engine, built on first use)."""
    index = _INDEXES.get(engine)
    if index is None:
        index = _INDEXES[engine] = GenealogyIndex()
    return index


class CaptureFailed(Exception):
    """A capture with error behaviour ``rollback`` stored nothing; ``errors`` say why."""

    def __init__(self, capture_id: str, errors: list[dict[str, Any]]) -> None:
        self.capture_id = capture_id
        self.errors = errors
        first = errors[0] if errors else {}
        super().__init__(f"capture {capture_id} rolled back: {first.get('instance', '$')}: {first.get('title', '')}")


class UnitNotFound(LookupError):
    """No unit is known under the identifier given."""


class Hidden(LookupError):
    """The thing exists but the caller may not see it (the access layer answers as if it did not exist)."""


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A resolved unit: row id, canonical key and VIN if it is a vehicle."""

    id: int
    key: str
    vin: str | None


class _RollBack(Exception):
    def __init__(self, outcome: CaptureOutcome) -> None:
        self.outcome = outcome


class TraceService:
    """Capture EPCIS documents and answer event, as-built and where-used questions."""

    def __init__(self, uow: UnitOfWork, *, max_events: int = 10_000) -> None:
        self.uow = uow
        self.max_events = max_events

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
        """Capture many JSON bodies in order, each in its own transaction, yielding each one's outcome.

        Bulk loads (CLI, demo, migrations from another repository) use this: with ``parallel`` the pure
        part (schema validation, hash IDs, identifiers) of the next body runs in a worker process while
        this process stores the current one, so both cores work. Same code, same checks, same order.
        """
        for done, outcome in enumerate(self._capture_each(bodies, actor, behaviour, parallel), 1):
            if done & (done - 1) == 0 and done <= 4096:  # after documents 1, 2, 4, 8, …: the tables grew
                refresh_statistics(self.uow.engine)
            yield outcome

    def _capture_each(
        self, bodies: Iterable[bytes], actor: str, behaviour: str, parallel: bool
    ) -> Iterator[CaptureOutcome | CaptureRejected | CaptureFailed]:
        if not parallel:
            for body in bodies:
                yield self._outcome(parse_for_storage(body, self.max_events), actor, behaviour)
            return
        context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            pending: deque[Future[ParsedCapture | CaptureRejected]] = deque()
            for body in bodies:
                pending.append(pool.submit(parse_for_storage, body, self.max_events))
                if len(pending) > 2:
                    yield self._outcome(pending.popleft().result(), actor, behaviour)
            while pending:
                yield self._outcome(pending.popleft().result(), actor, behaviour)

    def _outcome(
        self, parsed: ParsedCapture | CaptureRejected, actor: str, behaviour: str
    ) -> CaptureOutcome | CaptureRejected | CaptureFailed:
        if isinstance(parsed, CaptureRejected):
            return parsed
        try:
            return self._store(parsed, actor, behaviour)
        except CaptureFailed as failed:
            return failed

    def _store(self, parsed: ParsedCapture, actor: str, behaviour: str) -> CaptureOutcome:
        try:
            with self.uow.write() as conn:
                outcome = store_capture(conn, parsed, actor=actor, behaviour=behaviour)
                if behaviour == "rollback" and outcome.errors:
                    raise _RollBack(outcome)
            # Committed: the units this capture created may now be served from the cache.
            unit_cache(self.uow.engine).remember(outcome.new_units)
        except _RollBack as failed:
            errors = failed.outcome.errors
            with self.uow.write() as conn:
                capture_id = record_job(
                    conn, actor=actor, behaviour=behaviour, context=parsed.context,
                    events=failed.outcome.events, errors=errors,
                )
            raise CaptureFailed(capture_id, errors) from None
        return outcome

    def reject_record(self, problems: list[SchemaProblem], *, actor: str, behaviour: str, context: Any) -> str:
        """Keep a job record of a capture refused before storage (schema problems); returns its id."""
        with self.uow.write() as conn:
            return record_job(
                conn, actor=actor, behaviour=behaviour, context=context, events=0,
                errors=[problem_json(p) for p in problems],
            )

    def events(self, query: EventQuery) -> tuple[list[dict[str, Any]], list[Any], PageToken | None]:
        """One page of events as JSON-LD, the distinct @contexts they were captured with, the next token."""
        with self.uow.read() as conn:
            rows, token = trace_read.query_events(conn, query)
        contexts: list[Any] = []
        seen: set[str] = set()
        for row in rows:
            if row.context not in seen:
                seen.add(row.context)
                contexts.append(orjson.loads(row.context))
        return [trace_read.render_event(r) for r in rows], contexts, token

    def event(self, event_id: str, *, visibility: Visibility | None = None) -> tuple[dict[str, Any], Any] | None:
        """One event by eventID (or hash ID) with its @context; :class:`Hidden` if ``visibility`` excludes it."""
        with self.uow.read() as conn:
            row = trace_read.event_by_id(conn, event_id)
            if row is not None and visibility is not None and not trace_read.event_visible(conn, row, visibility):
                raise Hidden(event_id)
        if row is None:
            return None
        return trace_read.render_event(row), orjson.loads(row.context)

    def capture_job(self, capture_id: str, *, actor_prefixes: tuple[str, ...] | None = None) -> dict[str, Any] | None:
        """The capture job document; :class:`Hidden` if it was made by an actor outside ``actor_prefixes``."""
        with self.uow.read() as conn:
            job = trace_read.capture_job(conn, capture_id)
            if job is not None and actor_prefixes is not None:
                actor = trace_read.capture_job_actor(conn, capture_id) or ""
                if not actor.startswith(actor_prefixes):
                    raise Hidden(capture_id)
            return job

    def capture_jobs(self, *, limit: int = 30, actor_prefixes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Recent capture jobs (with ``actor_prefixes``: only those actors' jobs)."""
        with self.uow.read() as conn:
            return trace_read.capture_jobs(conn, limit=limit, actor_prefixes=actor_prefixes)

    def unit_market(self, unit_id: int) -> str | None:
        """The market (ISO 3166-1 alpha-2) a vehicle was last sold or registered in (None for other units:
        an authority's mandate covers the vehicles on its market, see roadpass.access.policy)."""
        from sqlalchemy import text

        with self.uow.read() as conn:
            market = conn.execute(
                text("SELECT market FROM unit WHERE id = :id AND vin IS NOT NULL"), {"id": unit_id}
            ).scalar()
        return None if market is None else str(market)

    def resolve(self, identifier: str) -> UnitRef:
        """Resolve an EPC URN, Digital Link URI, lot class URN or VIN to a stored unit."""
        with self.uow.read() as conn:
            return self._resolve(conn, identifier)

    @staticmethod
    def _resolve(conn: Any, identifier: str) -> UnitRef:
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
        found = gen_store.resolve_unit(conn, key, vin)
        if found is None:
            raise UnitNotFound(f"no unit is known as {identifier!r}")
        return UnitRef(*found)

    def as_built(self, identifier: str, at: int | None = None) -> AsBuiltNode:
        """The as-built tree under a unit at ``at`` (UTC µs; default now)."""
        with self.uow.read() as conn:
            tree = gen_store.as_built(conn, self._resolve(conn, identifier).id, at)
        if tree is None:  # pragma: no cover - the root row always exists once resolved
            raise UnitNotFound(identifier)
        return tree

    def where_used(self, identifier: str, at: int | None = None) -> tuple[UnitRef, WhereUsedResult]:
        """Every vehicle (and loose top-level unit) that contains or contained a unit or lot."""
        with self.uow.read() as conn:
            unit = self._resolve(conn, identifier)
            suppliers = self.supplier_prefixes(conn)
            index = genealogy_index(self.uow.engine)
            return unit, gen_store.where_used_indexed(conn, index, unit.id, at, suppliers=suppliers)

    @staticmethod
    def supplier_prefixes(conn: Any) -> dict[str, str]:
        """GS1 company prefix -> party name, for rolling where-used answers up by supplier."""
        rows = conn.exec_driver_sql("SELECT gcp, name FROM party WHERE gcp IS NOT NULL")
        return {str(g): str(n) for g, n in rows}
