"""Named-query persistence: the :class:`roadpass.trace.named_query_ports.NamedQueryRecords` of one transaction.

Rows only: which name is free, who may see a query and what the ledger records are decided in
:mod:`roadpass.trace.named_queries`. Helpers take the caller's open connection and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import ledger as ledger_store
from roadpass.store import tables as t
from roadpass.trace.named_queries import NamedQuery

__all__ = ["SqlNamedQueryRecords"]

_Q = t.named_query


class SqlNamedQueryRecords:
    """Named queries on SQLAlchemy Core (SQLite and PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _select(self) -> Any:
        return (
            select(_Q.c.id, _Q.c.name, _Q.c.query, _Q.c.party_id, t.party.c.key.label("party_key"), _Q.c.actor,
                   _Q.c.created_at)
            .select_from(_Q.outerjoin(t.party, t.party.c.id == _Q.c.party_id))
            .where(_Q.c.deleted_at.is_(None))
        )

    @staticmethod
    def _model(row: Any) -> NamedQuery:
        return NamedQuery(
            id=int(row.id), name=row.name, query=orjson.loads(row.query),
            party_id=None if row.party_id is None else int(row.party_id), party=row.party_key, actor=row.actor,
            created_at=int(row.created_at),
        )

    def live(self, name: str) -> NamedQuery | None:
        """The query called ``name`` that is not deleted."""
        row = self.conn.execute(self._select().where(_Q.c.name == name)).first()
        return None if row is None else self._model(row)

    def listing(self, *, party_id: int | None, after: str | None, limit: int) -> list[NamedQuery]:
        """Queries not deleted, by name, after ``after`` (of party ``party_id`` only, unless None)."""
        query = self._select()
        if party_id is not None:
            query = query.where(_Q.c.party_id == party_id)
        if after is not None:
            query = query.where(_Q.c.name > after)
        return [self._model(row) for row in self.conn.execute(query.order_by(_Q.c.name).limit(limit))]

    def insert(self, *, name: str, query: dict[str, Any], party_id: int | None, actor: str, at: int) -> int | None:
        """Store a new query; its row id, or None when a live query already has the name (unique index)."""
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(_Q.insert().values(
                    name=name, party_id=party_id, query=orjson.dumps(query).decode(), created_at=at, actor=actor))
        except IntegrityError:
            return None
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else None

    def mark_deleted(self, row_id: int, *, actor: str, at: int) -> None:
        """Mark a query deleted (its row stays: the ledger entry that created it still verifies)."""
        self.conn.execute(_Q.update().where(_Q.c.id == row_id, _Q.c.deleted_at.is_(None))
                          .values(deleted_at=at, deleted_by=actor))

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        content = ledger_store.rows_hash(self.conn, subjects)
        return ledger_store.append(self.conn, LedgerDraft(actor, action, rule, tuple(subjects), content)).seq
