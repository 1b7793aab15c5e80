"""Battery passport persistence: append-only writes and the reads the passport service needs.

:class:`SqlPassportRecords` implements :class:`roadpass.passport.ports.PassportRecords` on an open
connection; it never commits. A write stamps its rows with one ``op_id`` and :func:`ledgered` appends one
ledger entry whose subjects are ``(table, "op_id", op_id)``. :class:`DataVersionProbe` is the rendered-view
cache's :class:`roadpass.passport.ports.ChangeProbe`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select, text

from roadpass.ledger import LedgerDraft, LedgerEntry, Subject
from roadpass.passport.records import (
    DynamicRow,
    ModelRow,
    NewDynamic,
    NewPassport,
    NewVersion,
    PackFact,
    PassportHead,
    PassportSummary,
    SoldLink,
    StoredPassport,
    VersionRow,
)
from roadpass.store import ledger as ledger_store
from roadpass.store import passport_reads as reads
from roadpass.store import passport_tables as pt
from roadpass.store.tables import unit

__all__ = ["DataVersionProbe", "SqlPassportRecords", "ledgered", "now_us"]


def now_us() -> int:
    """The current time as UTC microseconds."""
    return time.time_ns() // 1000


def _dumps(value: Any) -> str:
    """Canonical JSON text (sorted keys) as the passport tables store it."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def ledgered(
    conn: Connection, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]
) -> LedgerEntry:
    """Append the ledger entry of write ``op_id`` covering its rows in ``tables``."""
    subjects = tuple(Subject(table, "op_id", op_id) for table in tables)
    draft = LedgerDraft(actor, action, rule, subjects, ledger_store.rows_hash(conn, subjects))
    return ledger_store.append(conn, draft)


def _model_row(row: Any) -> ModelRow:
    """A ``passport_model`` row as the domain's record."""
    return ModelRow(
        int(row.id), row.key, int(row.version), row.category, row.gtin, float(row.mass_kg),
        orjson.loads(row.materials), orjson.loads(row.sections),
    )


_HEAD = text(
    "SELECT p.id, (SELECT MAX(v.id) FROM passport_version v WHERE v.passport_pk = p.id), "
    "(SELECT MAX(d.id) FROM passport_dynamic d WHERE d.passport_pk = p.id) "
    "FROM passport p WHERE p.passport_id = :pid"
)


class SqlPassportRecords:
    """:class:`roadpass.passport.ports.PassportRecords` on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # ------------------------------------------------------------------------------------ writes

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> LedgerEntry:
        """Append the ledger entry of write ``op_id`` covering its rows in ``tables``."""
        return ledgered(self.conn, actor=actor, action=action, rule=rule, op_id=op_id, tables=tables)

    def latest_model(self, key: str) -> ModelRow | None:
        """The latest stored version of battery model ``key``."""
        m = pt.passport_model
        row = self.conn.execute(select(m).where(m.c.key == key).order_by(m.c.version.desc()).limit(1)).first()
        return None if row is None else _model_row(row)

    def add_model(
        self, *, key: str, version: int, category: str, gtin: str | None, mass_kg: float,
        materials: Mapping[str, float], sections: Mapping[Any, Any], op_id: str,
    ) -> ModelRow:
        """Store a battery model version; the stored row."""
        m = pt.passport_model
        self.conn.execute(m.insert().values(
            key=key, version=version, op_id=op_id, created_at=now_us(), category=category, gtin=gtin,
            mass_kg=float(mass_kg), materials=_dumps(materials), sections=_dumps(sections),
        ))
        return _model_row(self.conn.execute(select(m).where(m.c.key == key, m.c.version == version)).one())

    def insert_passports(self, items: Sequence[NewPassport], *, actor: str, op_id: str) -> list[int]:
        """Insert passports with their first versions; their row ids in input order."""
        if not items:
            return []
        now = now_us()
        p, v = pt.passport, pt.passport_version
        rows = [
            {"passport_id": i.passport_id, "battery_id": i.battery_id, "unit_id": i.unit_id, "model_id": i.model_id,
             "category": i.category, "predecessor_id": i.predecessor_id, "op_id": op_id, "created_at": now,
             "actor": actor}
            for i in items
        ]
        result = self.conn.execute(p.insert().returning(p.c.id, sort_by_parameter_order=True), rows)
        pks = [int(r[0]) for r in result]
        self.conn.execute(
            v.insert(),
            [
                {"passport_pk": pk, "version": 1, "status": i.status, "ceased_at": None, "successor_id": None,
                 "sections": _dumps(i.sections), "reason": i.reason, "event_id": i.event_id, "location": None,
                 "op_id": op_id, "created_at": now, "actor": actor}
                for pk, i in zip(pks, items, strict=True)
            ],
        )
        return pks

    def append_version(self, passport_pk: int, version: NewVersion, *, actor: str, op_id: str) -> int:
        """Append the next version of a passport; its row id."""
        v = pt.passport_version
        last = self.conn.execute(select(func.max(v.c.version)).where(v.c.passport_pk == passport_pk)).scalar()
        result = self.conn.execute(
            v.insert().returning(v.c.id).values(
                passport_pk=passport_pk, version=int(last or 0) + 1, status=version.status,
                ceased_at=version.ceased_at, successor_id=version.successor_id, sections=_dumps(version.sections),
                reason=version.reason, event_id=version.event_id, location=version.location, op_id=op_id,
                created_at=now_us(), actor=actor,
            )
        )
        return int(result.scalar_one())

    def append_dynamic(self, rows: Sequence[NewDynamic], *, op_id: str) -> int:
        """Append dynamic values; how many."""
        now = now_us()
        values = [
            {"passport_pk": r.passport_pk, "section": r.section, "path": r.path, "value": _dumps(r.value),
             "last_update": r.last_update, "source": r.source, "op_id": op_id, "recorded_at": now}
            for r in rows
        ]
        if values:
            self.conn.execute(pt.passport_dynamic.insert(), values)
        return len(values)

    def insert_normalisations(
        self, version_pk: int, changes: Sequence[tuple[str, str, str, str, str]], *, op_id: str
    ) -> int:
        """Record import normalisations ``(section, path, old, new, rule)`` against a version."""
        values = [
            {"version_pk": version_pk, "section": s, "path": p, "old": o, "new": n, "rule": r, "op_id": op_id}
            for s, p, o, n, r in changes
        ]
        if values:
            self.conn.execute(pt.passport_normalisation.insert(), values)
        return len(values)

    def record_denial(self, *, passport_id: str, role: str, requested: str, actor: str, op_id: str) -> None:
        """Store a refused read."""
        self.conn.execute(
            pt.passport_access_denial.insert().values(
                passport_id=passport_id, role=role, requested=requested, actor=actor, op_id=op_id, at=now_us()
            )
        )

    # ------------------------------------------------------------------------------------ reads

    def head(self, passport_id: str) -> PassportHead | None:
        """The passport's row id, latest version id and latest dynamic value id (one indexed query)."""
        row = self.conn.execute(_HEAD, {"pid": passport_id}).first()
        if row is None:
            return None
        return PassportHead(int(row[0]), int(row[1] or 0), int(row[2] or 0))

    def load(self, pks: Sequence[int]) -> list[StoredPassport]:
        """Passports by row id (missing ids are skipped), with models, versions and dynamic values."""
        if not pks:
            return []
        conn = self.conn
        p, v, d, m = pt.passport, pt.passport_version, pt.passport_dynamic, pt.passport_model
        heads = conn.execute(
            select(p, unit.c.key.label("unit_key")).outerjoin(unit, unit.c.id == p.c.unit_id).where(p.c.id.in_(pks))
        ).all()
        model_ids = {int(h.model_id) for h in heads if h.model_id is not None}
        models: dict[int, ModelRow] = {}
        if model_ids:
            models = {int(r.id): _model_row(r) for r in conn.execute(select(m).where(m.c.id.in_(model_ids)))}
        versions: dict[int, list[VersionRow]] = {}
        for r in conn.execute(select(v).where(v.c.passport_pk.in_(pks)).order_by(v.c.passport_pk, v.c.version)):
            versions.setdefault(int(r.passport_pk), []).append(
                VersionRow(int(r.id), int(r.version), r.status, r.ceased_at, r.successor_id,
                           orjson.loads(r.sections), r.reason, r.event_id, r.location, int(r.created_at), r.actor)
            )
        dynamics: dict[int, list[DynamicRow]] = {}
        query = select(d).where(d.c.passport_pk.in_(pks)).order_by(d.c.passport_pk, d.c.last_update, d.c.id)
        for r in conn.execute(query):
            dynamics.setdefault(int(r.passport_pk), []).append(
                DynamicRow(int(r.id), r.section, r.path, orjson.loads(r.value), int(r.last_update), r.source)
            )
        by_pk = {
            int(h.id): StoredPassport(
                int(h.id), h.passport_id, h.battery_id, h.category, h.unit_id, h.unit_key, h.predecessor_id,
                int(h.created_at), models.get(int(h.model_id)) if h.model_id is not None else None,
                tuple(versions.get(int(h.id), ())), tuple(dynamics.get(int(h.id), ())),
            )
            for h in heads
        }
        return [by_pk[pk] for pk in pks if pk in by_pk]

    def latest_passport_of_unit(self, unit_id: int) -> int | None:
        """The row id of the unit's most recent passport."""
        p = pt.passport
        found = self.conn.execute(select(func.max(p.c.id)).where(p.c.unit_id == unit_id)).scalar()
        return None if found is None else int(found)

    def summaries(self, *, limit: int, offset: int, query: str | None) -> list[PassportSummary]:
        """Passports newest first, optionally filtered by a substring of the passport or battery id."""
        p, v = pt.passport, pt.passport_version
        latest = select(v.c.passport_pk, func.max(v.c.id).label("vid")).group_by(v.c.passport_pk).subquery()
        stmt = (
            select(p.c.passport_id, p.c.battery_id, p.c.category, v.c.status, v.c.ceased_at, p.c.created_at)
            .join(latest, latest.c.passport_pk == p.c.id)
            .join(v, v.c.id == latest.c.vid)
            .order_by(p.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if query:
            like = f"%{query.strip()}%"
            stmt = stmt.where(p.c.passport_id.like(like) | p.c.battery_id.like(like))
        return [PassportSummary(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in self.conn.execute(stmt)]

    def pack_facts(self, gtin: str, *, unit_ids: Sequence[int] | None) -> list[PackFact]:
        """Units of ``gtin`` without a passport, with their first commissioning event."""
        return reads.pack_facts(self.conn, gtin, unit_ids=unit_ids)

    def sold_links(self, unit_ids: Sequence[int]) -> list[SoldLink]:
        """The units' containments in vehicles that have been sold."""
        return reads.sold_links(self.conn, unit_ids)


class DataVersionProbe:
    """:class:`roadpass.passport.ports.ChangeProbe` on SQLite's ``PRAGMA data_version``.

    The value a connection reports changes whenever another connection commits to the database file, so
    one read-only probe connection (it never writes) sees every commit of every connection. It is shared by
    all threads under a lock (the pragma takes microseconds): per-thread probes each saw the same commit
    again, and each new thread's first look had to count as a change, so a server's pool of threads kept
    invalidating every kept answer. A change of the probe's value steps a counter, so a version is never the
    same before and after a commit. Only a file database has such a value; on PostgreSQL or an in-memory
    database there is no proof and :meth:`data_version` is None.
    """

    def __init__(self, engine: Engine) -> None:
        url = engine.url
        self._file = (
            url.database if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:"
            else None
        )
        self._lock = threading.Lock()
        self._probe: sqlite3.Connection | None = None
        self._seen: int | None = None
        self._version = 0

    def data_version(self) -> int | None:
        """A version that moves whenever any connection has committed since the last look (``None`` when
        there is no file database)."""
        if self._file is None:
            return None
        with self._lock:
            if self._probe is None:
                self._probe = sqlite3.connect(f"file:{self._file}?mode=ro", uri=True, check_same_thread=False)
            seen = int(self._probe.execute("PRAGMA data_version").fetchone()[0])
            if seen != self._seen:
                self._seen = seen
                self._version += 1
            return self._version

    def close(self) -> None:
        """Close the probe connection (the next look opens another, and counts as a change)."""
        with self._lock:
            if self._probe is not None:
                self._probe.close()
                self._probe, self._seen = None, None
