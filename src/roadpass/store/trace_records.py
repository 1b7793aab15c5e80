""":class:`roadpass.trace.ports.TraceRecords` on SQLAlchemy: the trace tables inside one transaction.

Reads the facts capture's rules need, writes what their plan says, answers event queries and genealogy;
decides nothing (the rules live in :mod:`roadpass.trace.capture_plan`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Connection, select, text

from roadpass.ledger.chain import LedgerDraft, Subject
from roadpass.store import genealogy as gen_store
from roadpass.store import ledger as ledger_store
from roadpass.store import tables as t
from roadpass.store import trace_read as reads
from roadpass.store import trace_write as w
from roadpass.store.bulk import bulk_insert, lock_writer, next_id, placeholder
from roadpass.store.engine import is_postgresql
from roadpass.store.genealogy_index import GenealogyIndex
from roadpass.store.uow import UnitOfWork
from roadpass.trace.capture_plan import EVENT_COLUMNS, DeclarationFacts
from roadpass.trace.genealogy import AsBuiltNode, ContainmentStep, Edge, LinkKind, WhereUsedResult
from roadpass.trace.query import EventQuery, PageToken, Visibility
from roadpass.trace.stored import StoredEvent

__all__ = ["SqlTraceRecords", "SqlTraceStore"]

_CAPTURE_TABLES = ("unit", "epcis_event", "event_epc", "link", "vocabulary_element")
#: Statistics target of the refreshes during a bulk load (PostgreSQL's default is 100).
_LOAD_STATISTICS_TARGET = 10


class SqlTraceRecords:
    """The trace tables on an open connection (see :class:`roadpass.trace.ports.TraceRecords`)."""

    def __init__(self, conn: Connection, units: w.UnitCache, index: GenealogyIndex) -> None:
        self.conn = conn
        self.units = units
        self.index = index
        self.sole_writer = False  # the writer lock is held (units may then be stored without ON CONFLICT)

    # --- capture: jobs, ledger -------------------------------------------------------------------------
    def lock_writer(self) -> None:
        """Serialise writers."""
        lock_writer(self.conn)
        self.sole_writer = True

    def open_job(
        self, *, capture_id: str, actor: str, behaviour: str, event_count: int, context: Any, created_at: int
    ) -> int:
        """Record a running capture job; its row id."""
        result = self.conn.execute(t.capture_job.insert(), {
            "capture_id": capture_id, "actor": actor, "created_at": created_at, "finished_at": None, "running": 1,
            "success": 1, "error_behaviour": behaviour, "errors": "[]", "event_count": event_count,
            "stored_count": 0, "duplicate_count": 0, "context": orjson.dumps(context).decode(),
        })
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0

    def finish_job(
        self, job_pk: int, *, finished_at: int, success: bool, errors: list[dict[str, Any]], stored: int,
        duplicates: int,
    ) -> None:
        """Record how a capture job ended."""
        mark = placeholder(self.conn)
        self.conn.exec_driver_sql(
            f"UPDATE capture_job SET finished_at = {mark}, running = 0, success = {mark}, errors = {mark}, "
            f"stored_count = {mark}, duplicate_count = {mark} WHERE id = {mark}",
            (finished_at, int(success), orjson.dumps(errors).decode(), stored, duplicates, job_pk),
        )

    def append_ledger(
        self, actor: str, action: str, rule: str, subjects: Sequence[Subject],
        written_events: Sequence[Sequence[Any]] | None = None,
    ) -> int:
        """Append a ledger entry; the event rows just written are hashed from memory."""
        written = None
        if written_events is not None:
            picks = [EVENT_COLUMNS.index(name) for name in t.LEDGERED_COLUMNS["epcis_event"]]
            position = next(i for i, s in enumerate(subjects) if s.table == "epcis_event")
            written = {position: [[row[i] for i in picks] for row in written_events]}
        content = ledger_store.rows_hash(self.conn, subjects, written)
        return ledger_store.append(self.conn, LedgerDraft(actor, action, rule, tuple(subjects), content)).seq

    # --- capture: facts --------------------------------------------------------------------------------
    def master_data_versions(self, idents: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        """(vocabulary type, key) → (latest version, attributes JSON)."""
        mark = placeholder(self.conn)
        out: dict[tuple[str, str], tuple[int, str]] = {}
        for vocabulary_type, key in sorted(set(idents)):
            row = self.conn.exec_driver_sql(
                "SELECT version, attributes FROM vocabulary_element "
                f"WHERE vocabulary_type = {mark} AND key = {mark} ORDER BY version DESC LIMIT 1",
                (vocabulary_type, key),
            ).first()
            if row is not None:
                out[(vocabulary_type, key)] = (int(row[0]), str(row[1]))
        return out

    def stored_event_ids(self, event_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """eventID → (row id, hash ID) for those stored."""
        return w.existing_event_ids(self.conn, event_ids)

    def known_hashes(self, hashes: Sequence[str]) -> set[str]:
        """Which hash IDs are stored."""
        return w.existing_hashes(self.conn, hashes)

    def intern_units(self, units: Mapping[str, tuple[int, str | None]]) -> tuple[dict[str, int], set[int]]:
        """Row ids for canonical keys, creating the missing units (units are never renumbered, so known
        ones are remembered; the ones created here only once the transaction commits)."""
        return w.intern_units(self.conn, units, self.units, sole_writer=self.sole_writer)

    def next_event_pk(self) -> int:
        """The row id the next event gets (the writer lock is held)."""
        return next_id(self.conn, "epcis_event")

    def children_at(self, parent: int, instant: int) -> list[int]:
        """Units contained in ``parent`` at ``instant``."""
        return w.children_at(self.conn, parent, instant)

    def containment_state(self, children: Sequence[int]) -> tuple[dict[int, int], dict[int, tuple[int, int, int]]]:
        """Latest standing aggregation fact time and open containment, per child."""
        return w.last_child_step(self.conn, children), w.open_containment(self.conn, children)

    def declaration_facts(self, event_pks: Iterable[int]) -> dict[int, DeclarationFacts]:
        """What is stored of the events errors are declared on."""
        mark = placeholder(self.conn)
        out: dict[int, DeclarationFacts] = {}
        for pk in sorted(set(event_pks)):
            declared = self.conn.exec_driver_sql(
                f"SELECT 1 FROM error_declaration WHERE event_pk = {mark}", (pk,)).first() is not None
            event_type = self.conn.exec_driver_sql(
                f"SELECT event_type FROM epcis_event WHERE id = {mark}", (pk,)).scalar_one()
            units = tuple((int(u), int(r)) for u, r in self.conn.exec_driver_sql(
                f"SELECT unit_id, role FROM event_epc WHERE event_pk = {mark}", (pk,)))
            out[pk] = DeclarationFacts(declared, str(event_type), units)
        return out

    def child_steps(self, child: int) -> list[ContainmentStep]:
        """Every standing aggregation fact about ``child``."""
        return w.child_steps(self.conn, child)

    def location_countries(self, keys: Iterable[str]) -> dict[str, str]:
        """Country of business locations known from master data."""
        return w.location_countries(self.conn, keys)

    def market_times(self, units: Sequence[int]) -> dict[int, int]:
        """When each unit's recorded market was set."""
        return w.market_times(self.conn, units)

    def latest_markets(self, units: Iterable[int], biz_steps: Iterable[str]) -> dict[int, tuple[str, int] | None]:
        """Per unit, its latest standing event with one of ``biz_steps`` at a location of known country."""
        mark = placeholder(self.conn)
        steps = sorted(biz_steps)
        out: dict[int, tuple[str, int] | None] = {}
        for unit_id in sorted(set(units)):
            row = self.conn.exec_driver_sql(
                "SELECT v.country, e.event_time FROM event_epc c JOIN epcis_event e ON e.id = c.event_pk "
                "JOIN vocabulary_element v ON v.key = e.biz_location AND v.country IS NOT NULL "
                f"WHERE c.unit_id = {mark} AND e.biz_step IN ({', '.join([mark] * len(steps))}) "
                "AND NOT EXISTS (SELECT 1 FROM error_declaration d WHERE d.event_pk = e.id) "
                "ORDER BY e.event_time DESC, v.version DESC LIMIT 1",
                (unit_id, *steps),
            ).first()
            out[unit_id] = None if row is None else (str(row[0]), int(row[1]))
        return out

    # --- capture: writes -------------------------------------------------------------------------------
    def insert_master_data(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Store master data versions."""
        if rows:
            start = next_id(self.conn, "vocabulary_element")
            bulk_insert(self.conn, "vocabulary_element",
                        ("id", "vocabulary_type", "key", "version", "name", "country", "attributes", "job_id"),
                        [(start + i, *row) for i, row in enumerate(rows)])

    def insert_events(self, rows: Sequence[tuple[Any, ...]], epc_rows: Sequence[tuple[int, int, int]]) -> None:
        """Store event rows and their identifiers by role."""
        w.insert_events(self.conn, list(rows))
        w.insert_event_epcs(self.conn, list(epc_rows))

    def close_links(self, closes: Sequence[tuple[int, int, int]]) -> None:
        """Close links."""
        w.close_links(self.conn, closes)

    def insert_links(self, edges: Iterable[Edge]) -> None:
        """Store genealogy links."""
        w.insert_links(self.conn, edges)

    def insert_declarations(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Store error declarations."""
        if rows:
            start = next_id(self.conn, "error_declaration")
            bulk_insert(self.conn, "error_declaration",
                        ("id", "event_pk", "declaration_time", "reason", "corrective_ids", "declaration", "job_id"),
                        [(start + i, *row) for i, row in enumerate(rows)])

    def unlink_made_from(self, event_pks: Sequence[int]) -> None:
        """Remove the made-from links these events created."""
        for pk in event_pks:
            w.delete_links_of_event(self.conn, pk, LinkKind.MADE_FROM)

    def replace_containment(self, child: int, edges: Sequence[Edge]) -> None:
        """Replace every containment link of ``child``."""
        w.replace_containment(self.conn, child, edges)

    def set_markets(self, markets: Mapping[int, tuple[str, int] | None]) -> None:
        """Record units' markets (None: no market)."""
        w.set_market(self.conn, markets)

    # --- reads -----------------------------------------------------------------------------------------
    def resolve_unit(self, key: str | None, vin: str | None) -> tuple[int, str, str | None] | None:
        """(id, key, VIN) of the unit with this VIN or canonical key."""
        return gen_store.resolve_unit(self.conn, key, vin)

    def vehicle_market(self, unit_id: int) -> str | None:
        """The market of a vehicle (None for other units)."""
        market = self.conn.execute(
            text("SELECT market FROM unit WHERE id = :id AND vin IS NOT NULL"), {"id": unit_id}
        ).scalar()
        return None if market is None else str(market)

    def as_built(self, root: int, at: int | None) -> AsBuiltNode | None:
        """The tree under ``root`` at ``at``."""
        return gen_store.as_built(self.conn, root, at)

    def where_used(self, target: int, at: int | None) -> WhereUsedResult:
        """Every top-level holder of ``target``, from the in-memory genealogy index."""
        prefixes = self.conn.exec_driver_sql("SELECT gcp, name FROM party WHERE gcp IS NOT NULL")
        suppliers = {str(gcp): str(name) for gcp, name in prefixes}
        return gen_store.where_used_indexed(self.conn, self.index, target, at, suppliers=suppliers)

    def vehicle_children(
        self, asked: Sequence[tuple[str, int]], among: Collection[str] | None = None
    ) -> dict[tuple[str, int], tuple[AsBuiltNode, str | None]]:
        """Per (VIN, instant): the vehicle with its direct children then (only ``among`` when given), and its
        market (one statement)."""
        return reads.vehicle_children(self.conn, asked, among)

    def query_events(self, query: EventQuery) -> tuple[list[StoredEvent], PageToken | None]:
        """One page of events matching ``query``."""
        return reads.query_events(self.conn, query)

    def has_events(self) -> bool:
        """True once any event is stored."""
        return self.conn.exec_driver_sql("SELECT 1 FROM epcis_event LIMIT 1").first() is not None

    def event_by_id(self, event_id: str) -> StoredEvent | None:
        """The event with this eventID or hash ID."""
        return reads.event_by_id(self.conn, event_id)

    def event_places(self, row_id: int) -> tuple[str | None, str | None, str]:
        """(bizLocation, readPoint, capturing actor) of a stored event."""
        e, j = t.epcis_event, t.capture_job
        row = self.conn.execute(
            select(e.c.biz_location, e.c.read_point, j.c.actor).select_from(e.join(j, j.c.id == e.c.job_id))
            .where(e.c.id == row_id)
        ).one()
        return row.biz_location, row.read_point, str(row.actor)

    def vehicle_in_markets(self, keys: Sequence[str], markets: Iterable[str]) -> bool:
        """True when one of ``keys`` is a vehicle sold or registered in one of ``markets``."""
        u = t.unit
        found = select(u.c.id).where(u.c.key.in_(keys), u.c.vin.is_not(None), u.c.market.in_(sorted(markets))).limit(1)
        return self.conn.execute(found).first() is not None

    def capture_job(self, capture_id: str) -> tuple[dict[str, Any], str] | None:
        """The capture job document and its actor."""
        return reads.capture_job(self.conn, capture_id)

    def capture_jobs(self, *, limit: int, actor_prefixes: tuple[str, ...] | None) -> list[dict[str, Any]]:
        """Recent capture jobs, newest first."""
        return reads.capture_jobs(self.conn, limit=limit, actor_prefixes=actor_prefixes)

    def event_values(self, column: str, *, after: str | None, limit: int, visibility: Visibility | None) -> list[str]:
        """Distinct values of an event column among visible events, in order (REST top-level resources)."""
        return reads.event_values(self.conn, column, after=after, limit=limit, visibility=visibility)

    def known_epcs(self, *, after: str | None, limit: int, visibility: Visibility | None) -> list[str]:
        """Canonical keys of instance EPCs named by visible events, in key order."""
        return reads.known_epcs(self.conn, after=after, limit=limit, visibility=visibility)

    def revoke_page_token(self, digest: str, *, expires_at: int, now: int) -> None:
        """Remember a deleted nextPageToken until it expires; forget revocations of expired ones."""
        r = t.page_token_revocation
        self.conn.execute(r.delete().where(r.c.expires_at <= now))
        if self.conn.execute(select(r.c.digest).where(r.c.digest == digest)).first() is None:
            self.conn.execute(r.insert(), {"digest": digest, "expires_at": expires_at})

    def page_token_revoked(self, digest: str) -> bool:
        """True when the nextPageToken with this digest was deleted."""
        r = t.page_token_revocation
        return self.conn.execute(select(r.c.digest).where(r.c.digest == digest)).first() is not None


class SqlTraceStore:
    """:class:`roadpass.trace.ports.TraceStore` on a unit of work: the identifier → unit id cache and the
    genealogy index live here, one each per container (never shared between databases)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.units = w.UnitCache()
        self.index = GenealogyIndex()
        self.in_process = not is_postgresql(uow.engine)

    @contextmanager
    def read(self) -> Iterator[SqlTraceRecords]:
        """A read transaction's trace records."""
        with self.uow.read() as conn:
            yield SqlTraceRecords(conn, self.units, self.index)

    @contextmanager
    def write(self) -> Iterator[SqlTraceRecords]:
        """A write transaction's trace records; commits on clean exit."""
        with self.uow.write() as conn:
            yield SqlTraceRecords(conn, self.units, self.index)

    def units_committed(self, units: Mapping[str, int]) -> None:
        """Units a committed capture created."""
        self.units.remember(units)

    def units_rolled_back(self, keys: Iterable[str]) -> None:
        """Units a rolled-back transaction may have learnt uncommitted ids of."""
        self.units.forget(keys)

    def refresh_statistics(self) -> None:
        """PostgreSQL: ``ANALYZE`` the capture tables, so that a bulk load into an empty database does not
        run on the statistics of empty tables until autovacuum gets round to them. SQLite's planner prefers
        the indexes without statistics: nothing to do there."""
        if not is_postgresql(self.uow.engine):
            return
        with self.uow.engine.begin() as conn:
            # A tenth of the default sample (3,000 rows a table instead of 30,000): capture's own reads go by
            # unique keys and ids, and autovacuum's ANALYZE brings the full statistics later. At the default
            # these refreshes took 2.9 s of a 45 s load of 20,000 vehicles.
            conn.exec_driver_sql(f"SET LOCAL default_statistics_target = {_LOAD_STATISTICS_TARGET}")
            for table in _CAPTURE_TABLES:
                conn.exec_driver_sql(f"ANALYZE {table}")

