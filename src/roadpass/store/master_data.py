""":class:`roadpass.trace.master_data_ports.MasterDataRecords` on SQLAlchemy: stored master data versions.

A version's time is the creation time of the capture job that brought it; the rows are read as stored and
grouped by element, and nothing is decided here (see :mod:`roadpass.trace.master_data`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Select, bindparam, func, or_, select, tuple_

from roadpass.store import tables as t
from roadpass.store.bulk import CHUNK, chunks
from roadpass.trace.master_data import MasterDataQuery, MasterDataVersion, VocabularyElement

__all__ = ["SqlMasterDataRecords"]

_V = t.vocabulary_element
_J = t.capture_job


def _columns() -> Select[Any]:
    columns = (_V.c.vocabulary_type, _V.c.key, _V.c.version, _V.c.name, _V.c.attributes, _J.c.created_at)
    return select(*columns).select_from(_V.join(_J, _J.c.id == _V.c.job_id))


def _elements(rows: Iterable[Any]) -> list[VocabularyElement]:
    """Rows ordered by (type, key, version) → one element per (type, key), versions oldest first."""
    out: list[VocabularyElement] = []
    current: tuple[str, str] | None = None
    versions: list[MasterDataVersion] = []
    for row in rows:
        ident = (str(row.vocabulary_type), str(row.key))
        if ident != current:
            if current is not None:
                out.append(VocabularyElement(current[0], current[1], tuple(versions)))
            current, versions = ident, []
        attributes = orjson.loads(row.attributes)
        versions.append(MasterDataVersion(int(row.version), int(row.created_at), row.name, attributes))
    if current is not None:
        out.append(VocabularyElement(current[0], current[1], tuple(versions)))
    return out


class SqlMasterDataRecords:
    """The ``vocabulary_element`` table on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def current_elements(
        self, query: MasterDataQuery, after: tuple[str, str] | None, limit: int
    ) -> list[VocabularyElement]:
        """Up to ``limit`` elements with their latest version, by (type, key) after ``after``."""
        newer = _V.alias("newer")
        stmt = _columns().where(
            ~select(newer.c.id).where(
                newer.c.vocabulary_type == _V.c.vocabulary_type, newer.c.key == _V.c.key,
                newer.c.version > _V.c.version,
            ).exists()
        )
        if query.vocabulary_type:
            stmt = stmt.where(_V.c.vocabulary_type == query.vocabulary_type)
        if query.key:
            stmt = stmt.where(_V.c.key == query.key)
        if query.key_prefix:
            stmt = stmt.where(_V.c.key.startswith(query.key_prefix, autoescape=True))
        if query.name:
            text = query.name.lower()
            stmt = stmt.where(or_(func.lower(_V.c.name).contains(text, autoescape=True),
                                  func.lower(_V.c.attributes).contains(text, autoescape=True)))
        if after is not None:
            stmt = stmt.where(tuple_(_V.c.vocabulary_type, _V.c.key) > tuple_(*after))
        stmt = stmt.order_by(_V.c.vocabulary_type, _V.c.key).limit(limit)
        return _elements(self.conn.execute(stmt))

    def histories(self, keys: Sequence[str], vocabulary_type: str | None = None) -> list[VocabularyElement]:
        """Every element with one of ``keys`` (of ``vocabulary_type`` only, if given), all versions."""
        wanted = sorted(set(keys))
        stmt = _columns().where(_V.c.key.in_(bindparam("keys", expanding=True)))
        if vocabulary_type is not None:
            stmt = stmt.where(_V.c.vocabulary_type == vocabulary_type)
        stmt = stmt.order_by(_V.c.vocabulary_type, _V.c.key, _V.c.version)
        rows: list[Any] = []
        for part in chunks(wanted):
            rows.extend(self.conn.execute(stmt, {"keys": list(part)}))
        if len(wanted) > CHUNK:  # several statements: each is ordered, the whole is not
            rows.sort(key=lambda r: (r.vocabulary_type, r.key, r.version))
        return _elements(rows)
