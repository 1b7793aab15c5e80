"""Battery passport repository: append-only writes (each ledgered) and the reads the service needs.

Helpers take an open connection and never commit. A write stamps its rows with one ``op_id`` and appends
one ledger entry whose subjects are ``(table, "op_id", op_id)``: a bulk issue of thousands of passports is
one entry, and ``ledger verify`` still re-hashes every row it covers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, text

from roadpass.ledger import LedgerDraft, LedgerEntry, Subject
from roadpass.store import ledger as ledger_store
from roadpass.store import passport_tables as pt

__all__ = [
    "DynamicRow",
    "ModelRow",
    "NewPassport",
    "PassportHead",
    "StoredPassport",
    "VersionRow",
    "append_dynamic",
    "append_version",
    "head_by_passport_id",
    "insert_normalisations",
    "insert_passports",
    "ledgered",
    "list_passports",
    "live_passport_of_unit",
    "load_passports",
    "new_op_id",
    "now_us",
    "passport_pks_for_units",
    "record_denial",
    "upsert_model",
]


def now_us() -> int:
    """The current time as UTC microseconds."""
    return time.time_ns() // 1000


def new_op_id() -> str:
    """A fresh write identifier (the ledger subject of everything one write stores)."""
    return uuid.uuid4().hex


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def ledgered(
    conn: Connection, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]
) -> LedgerEntry:
    """Append the ledger entry of write ``op_id`` covering its rows in ``tables``."""
    subjects = tuple(Subject(table, "op_id", op_id) for table in tables)
    draft = LedgerDraft(actor, action, rule, subjects, ledger_store.rows_hash(conn, subjects))
    return ledger_store.append(conn, draft)


@dataclass(frozen=True, slots=True)
class ModelRow:
    """A battery model version as stored."""

    id: int
    key: str
    version: int
    category: str
    gtin: str | None
    mass_kg: float
    materials: dict[str, float]
    sections: dict[str, Any]


def _model(row: Any) -> ModelRow:
    return ModelRow(
        int(row.id), row.key, int(row.version), row.category, row.gtin, float(row.mass_kg),
        orjson.loads(row.materials), orjson.loads(row.sections),
    )


def upsert_model(
    conn: Connection, *, actor: str, key: str, category: str, gtin: str | None, mass_kg: float,
    materials: Mapping[str, float], sections: Mapping[Any, Any], rule: str,
) -> ModelRow:
    """The latest version of model ``key`` if its content is unchanged, else a new (ledgered) version."""
    m = pt.passport_model
    latest = conn.execute(select(m).where(m.c.key == key).order_by(m.c.version.desc()).limit(1)).first()
    content = {"category": category, "gtin": gtin, "mass_kg": float(mass_kg), "materials": _dumps(materials),
               "sections": _dumps(sections)}
    if latest is not None and all(getattr(latest, k) == v for k, v in content.items()):
        return _model(latest)
    op_id = new_op_id()
    version = 1 if latest is None else int(latest.version) + 1
    conn.execute(m.insert().values(key=key, version=version, op_id=op_id, created_at=now_us(), **content))
    ledgered(conn, actor=actor, action="passport.model", rule=rule, op_id=op_id, tables=["passport_model"])
    row = conn.execute(select(m).where(m.c.key == key, m.c.version == version)).one()
    return _model(row)


@dataclass(frozen=True, slots=True)
class NewPassport:
    """What a new passport row and its first version hold."""

    passport_id: str
    battery_id: str
    category: str
    status: str
    sections: Mapping[Any, Any]
    unit_id: int | None = None
    model_id: int | None = None
    predecessor_id: str | None = None
    reason: str = "issue"
    event_id: str | None = None


def insert_passports(conn: Connection, items: Sequence[NewPassport], *, actor: str, op_id: str) -> list[int]:
    """Insert passports with their first versions; returns their row ids in input order (not ledgered
    here: the caller appends one entry for the whole write with :func:`ledgered`)."""
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
    result = conn.execute(p.insert().returning(p.c.id, sort_by_parameter_order=True), rows)
    pks = [int(r[0]) for r in result]
    conn.execute(
        v.insert(),
        [
            {"passport_pk": pk, "version": 1, "status": i.status, "ceased_at": None, "successor_id": None,
             "sections": _dumps(i.sections), "reason": i.reason, "event_id": i.event_id, "location": None,
             "op_id": op_id, "created_at": now, "actor": actor}
            for pk, i in zip(pks, items, strict=True)
        ],
    )
    return pks


def append_version(
    conn: Connection, passport_pk: int, *, status: str, sections: Mapping[Any, Any], reason: str, actor: str,
    op_id: str, ceased_at: int | None = None, successor_id: str | None = None, event_id: str | None = None,
    location: str | None = None,
) -> int:
    """Append the next version of a passport; returns its row id."""
    v = pt.passport_version
    last = conn.execute(select(func.max(v.c.version)).where(v.c.passport_pk == passport_pk)).scalar()
    result = conn.execute(
        v.insert().returning(v.c.id).values(
            passport_pk=passport_pk, version=int(last or 0) + 1, status=status, ceased_at=ceased_at,
            successor_id=successor_id, sections=_dumps(sections), reason=reason, event_id=event_id,
            location=location, op_id=op_id, created_at=now_us(), actor=actor,
        )
    )
    return int(result.scalar_one())


def append_dynamic(
    conn: Connection, rows: Iterable[tuple[int, str, str, Any, int, str | None]], *, op_id: str
) -> int:
    """Append dynamic values ``(passport_pk, section, path, value, last_update_us, source)``; returns how many."""
    now = now_us()
    values = [
        {"passport_pk": pk, "section": section, "path": path, "value": _dumps(value), "last_update": at,
         "source": source, "op_id": op_id, "recorded_at": now}
        for pk, section, path, value, at, source in rows
    ]
    if values:
        conn.execute(pt.passport_dynamic.insert(), values)
    return len(values)


def insert_normalisations(
    conn: Connection, version_pk: int, changes: Iterable[tuple[str, str, str, str, str]], *, op_id: str
) -> int:
    """Record import normalisations ``(section, path, old, new, rule)`` against a version."""
    values = [
        {"version_pk": version_pk, "section": s, "path": p, "old": o, "new": n, "rule": r, "op_id": op_id}
        for s, p, o, n, r in changes
    ]
    if values:
        conn.execute(pt.passport_normalisation.insert(), values)
    return len(values)


def record_denial(
    conn: Connection, *, passport_id: str, role: str, requested: str, actor: str, rule: str
) -> LedgerEntry:
    """Store a refused read and ledger it (action ``passport.read.denied``)."""
    op_id = new_op_id()
    conn.execute(
        pt.passport_access_denial.insert().values(
            passport_id=passport_id, role=role, requested=requested, actor=actor, op_id=op_id, at=now_us()
        )
    )
    return ledgered(
        conn, actor=actor, action="passport.read.denied", rule=rule, op_id=op_id, tables=["passport_access_denial"]
    )


@dataclass(frozen=True, slots=True)
class PassportHead:
    """What identifies the current state of a passport: the cache key of its rendered views."""

    pk: int
    version_id: int
    dynamic_id: int


_HEAD = text(
    "SELECT p.id, (SELECT MAX(v.id) FROM passport_version v WHERE v.passport_pk = p.id), "
    "(SELECT MAX(d.id) FROM passport_dynamic d WHERE d.passport_pk = p.id) "
    "FROM passport p WHERE p.passport_id = :pid"
)


def head_by_passport_id(conn: Connection, passport_id: str) -> PassportHead | None:
    """The passport's row id, latest version id and latest dynamic value id (one indexed query)."""
    row = conn.execute(_HEAD, {"pid": passport_id}).first()
    if row is None:
        return None
    return PassportHead(int(row[0]), int(row[1] or 0), int(row[2] or 0))


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One stored version of a passport."""

    id: int
    version: int
    status: str
    ceased_at: int | None
    successor_id: str | None
    sections: dict[str, Any]
    reason: str
    event_id: str | None
    location: str | None
    created_at: int
    actor: str


@dataclass(frozen=True, slots=True)
class DynamicRow:
    """One stored dynamic value."""

    id: int
    section: str
    path: str
    value: Any
    last_update: int
    source: str | None


@dataclass(frozen=True, slots=True)
class StoredPassport:
    """A passport as stored: identity, its model's sections, every version and dynamic value."""

    pk: int
    passport_id: str
    battery_id: str
    category: str
    unit_id: int | None
    unit_key: str | None
    predecessor_id: str | None
    created_at: int
    model: ModelRow | None
    versions: tuple[VersionRow, ...]
    dynamics: tuple[DynamicRow, ...]

    @property
    def current(self) -> VersionRow:
        """The latest version."""
        return self.versions[-1]


def load_passports(conn: Connection, pks: Sequence[int]) -> list[StoredPassport]:
    """Passports by row id (missing ids are skipped), with models, versions and dynamic values."""
    if not pks:
        return []
    p, v, d, m = pt.passport, pt.passport_version, pt.passport_dynamic, pt.passport_model
    from roadpass.store.tables import unit

    heads = conn.execute(
        select(p, unit.c.key.label("unit_key")).outerjoin(unit, unit.c.id == p.c.unit_id).where(p.c.id.in_(pks))
    ).all()
    model_ids = {int(h.model_id) for h in heads if h.model_id is not None}
    models = {int(r.id): _model(r) for r in conn.execute(select(m).where(m.c.id.in_(model_ids)))} if model_ids else {}
    versions: dict[int, list[VersionRow]] = {}
    for r in conn.execute(select(v).where(v.c.passport_pk.in_(pks)).order_by(v.c.passport_pk, v.c.version)):
        versions.setdefault(int(r.passport_pk), []).append(
            VersionRow(int(r.id), int(r.version), r.status, r.ceased_at, r.successor_id, orjson.loads(r.sections),
                       r.reason, r.event_id, r.location, int(r.created_at), r.actor)
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


def passport_pks_for_units(conn: Connection, unit_ids: Sequence[int]) -> dict[int, int]:
    """``{unit_id: passport row id}`` of each unit's most recent passport."""
    p = pt.passport
    out: dict[int, int] = {}
    for start in range(0, len(unit_ids), 500):
        chunk = list(unit_ids[start : start + 500])
        rows = conn.execute(select(p.c.unit_id, func.max(p.c.id)).where(p.c.unit_id.in_(chunk)).group_by(p.c.unit_id))
        out.update({int(u): int(pk) for u, pk in rows})
    return out


def live_passport_of_unit(conn: Connection, unit_id: int) -> int | None:
    """The row id of the unit's most recent passport (the one that is neither superseded nor ceased
    is the live one; callers check)."""
    return passport_pks_for_units(conn, [unit_id]).get(unit_id)


def list_passports(
    conn: Connection, *, limit: int = 50, offset: int = 0, query: str | None = None
) -> list[tuple[str, str, str, str, int | None, int]]:
    """``(passport_id, battery_id, category, status, ceased_at, created_at)`` newest first, optionally
    filtered by a substring of the passport or battery identifier."""
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
    return [(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in conn.execute(stmt)]
