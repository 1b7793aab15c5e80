"""Ledger storage: append chained entries inside the caller's transaction, read them back, recompute content."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Table, func, or_, select, text

from roadpass.ledger.chain import (
    GENESIS_HASH,
    LedgerDraft,
    LedgerEntry,
    Subject,
    canonical_rows_hash,
    compute_entry_hash,
)
from roadpass.store import tables as t
from roadpass.store.engine import is_postgresql

__all__ = ["SqlLedgerRecords", "append", "rows_hash"]


def _now_us() -> int:
    return time.time_ns() // 1000


def _table(name: str) -> Table:
    table = t.metadata.tables.get(name)
    if table is None or name not in t.LEDGERED_COLUMNS:
        raise ValueError(f"table {name!r} is not ledgered")
    return table


def rows_hash(
    conn: Connection, subjects: Sequence[Subject], written: Mapping[int, Sequence[Sequence[Any]]] | None = None
) -> str:
    """Content hash of the rows the subjects name, as they are stored now.

    ``written`` gives, by subject position, rows the caller has just inserted in this transaction (in
    primary-key order, ledgered columns only), so that a large capture is not read back to be hashed;
    ``verify`` always reads from the table.
    """

    def rows() -> Iterator[Sequence[Any]]:
        for position, subject in enumerate(subjects):
            if written is not None and position in written:
                yield from written[position]
                continue
            table = _table(subject.table)
            cols = [table.c[name] for name in t.LEDGERED_COLUMNS[subject.table]]
            pk = next(iter(table.primary_key.columns))
            query = select(*cols).where(table.c[subject.column] == subject.value).order_by(pk)
            for row in conn.execute(query):
                yield tuple(row)

    return canonical_rows_hash(rows())


def append(conn: Connection, draft: LedgerDraft) -> LedgerEntry:
    """Append ``draft`` to the chain inside the open write transaction ``conn``."""
    lock = " FOR UPDATE" if is_postgresql(conn.engine) else ""
    head = conn.execute(text(f"SELECT seq, entry_hash FROM ledger_head WHERE id = 1{lock}")).first()
    prev_seq, prev_hash = (0, GENESIS_HASH) if head is None else (int(head[0]), str(head[1]))
    seq = prev_seq + 1
    recorded_at = _now_us()
    entry_hash = compute_entry_hash(
        seq=seq,
        recorded_at=recorded_at,
        actor=draft.actor,
        action=draft.action,
        rule=draft.rule,
        subjects=draft.subjects,
        content_hash=draft.content_hash,
        prev_hash=prev_hash,
    )
    conn.execute(
        t.ledger_entry.insert().values(
            seq=seq,
            recorded_at=recorded_at,
            actor=draft.actor,
            action=draft.action,
            rule=draft.rule,
            subjects=orjson.dumps([s.as_json() for s in draft.subjects]).decode(),
            content_hash=draft.content_hash,
            prev_hash=prev_hash,
            entry_hash=entry_hash,
        )
    )
    if head is None:
        conn.execute(t.ledger_head.insert().values(id=1, seq=seq, entry_hash=entry_hash))
    else:
        conn.execute(t.ledger_head.update().where(t.ledger_head.c.id == 1).values(seq=seq, entry_hash=entry_hash))
    return LedgerEntry(
        seq, recorded_at, draft.actor, draft.action, draft.rule, draft.subjects, draft.content_hash, prev_hash,
        entry_hash,
    )


def _entry(row: Any) -> LedgerEntry:
    subjects = tuple(Subject(s["table"], s["column"], s["value"]) for s in orjson.loads(row.subjects))
    return LedgerEntry(
        int(row.seq), int(row.recorded_at), row.actor, row.action, row.rule, subjects, row.content_hash,
        row.prev_hash, row.entry_hash,
    )


class SqlLedgerRecords:
    """:class:`roadpass.ledger.ports.LedgerRecords` on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def count(self) -> int:
        """How many entries the chain holds."""
        return int(self.conn.execute(select(func.count()).select_from(t.ledger_entry)).scalar() or 0)

    def head(self) -> tuple[int, str] | None:
        """The recorded chain head."""
        row = self.conn.execute(select(t.ledger_head.c.seq, t.ledger_head.c.entry_hash)).first()
        return None if row is None else (int(row[0]), str(row[1]))

    def iter_entries(self, *, batch: int = 5000) -> Iterator[LedgerEntry]:
        """Every entry in chain order, fetched in keyset batches."""
        last = 0
        e = t.ledger_entry
        while True:
            rows = self.conn.execute(select(e).where(e.c.seq > last).order_by(e.c.seq).limit(batch)).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            last = int(rows[-1].seq)

    def entries_with_action(self, action: str) -> list[LedgerEntry]:
        """Every entry recording ``action``, in chain order."""
        e = t.ledger_entry
        return [_entry(row) for row in self.conn.execute(select(e).where(e.c.action == action).order_by(e.c.seq))]

    def attached_event_partitions(self) -> frozenset[str]:
        """The partitions attached to the event table now, schema-qualified (none on SQLite)."""
        if self.conn.dialect.name != "postgresql":
            return frozenset()
        return frozenset(self.conn.execute(text(
            "SELECT n.nspname || '.' || c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.inhparent = to_regclass('epcis_event')"
        )).scalars())

    def event_partition_jobs(self, partition: str) -> frozenset[int] | None:
        """The capture jobs whose events the table ``partition`` (``schema.table``) holds; None without it."""
        if self.conn.dialect.name != "postgresql" or self.conn.execute(
                text("SELECT to_regclass(:n)"), {"n": partition}).scalar() is None:
            return None
        quote = self.conn.dialect.identifier_preparer.quote
        schema, _dot, table = partition.partition(".")
        jobs = self.conn.execute(text(f"SELECT DISTINCT job_id FROM {quote(schema)}.{quote(table)}")).scalars()
        return frozenset(int(job) for job in jobs)

    def rows_hash(self, subjects: Sequence[Subject]) -> str:
        """The content hash of the rows ``subjects`` name, as stored now."""
        return rows_hash(self.conn, subjects)

    def entries(
        self, *, limit: int, actor: str | None = None, actor_prefix: str | None = None, subject: str | None = None,
        any_subject: Sequence[str] = (),
    ) -> list[LedgerEntry]:
        """The newest entries, newest first, filtered by actor, actor prefix, subject value or any of
        several subject needles."""
        e = t.ledger_entry
        query = select(e).order_by(e.c.seq.desc()).limit(limit)
        if actor:
            query = query.where(e.c.actor == actor)
        if actor_prefix:
            query = query.where(e.c.actor >= actor_prefix, e.c.actor < actor_prefix + "\uffff")
        if subject:
            query = query.where(e.c.subjects.contains(subject))
        if any_subject:
            query = query.where(or_(*[e.c.subjects.contains(n) for n in any_subject[:500]]))
        return [_entry(row) for row in self.conn.execute(query)]

    def entries_for_unit(self, unit_key: str, *, limit: int, actor_prefix: str | None = None) -> list[LedgerEntry]:
        """The newest entries of the captures that recorded events naming a unit."""
        jobs = self.conn.execute(
            select(t.epcis_event.c.job_id).distinct()
            .where(t.epcis_event.c.id.in_(
                select(t.event_epc.c.event_pk).where(
                    t.event_epc.c.unit_id.in_(select(t.unit.c.id).where(t.unit.c.key == unit_key))
                )
            ))
        ).scalars().all()
        if not jobs:
            return []
        # Subjects are stored as canonical JSON; the closing brace keeps job 1 from matching job 10.
        needles = [f'"table":"capture_job","column":"id","value":{int(j)}}}}}' for j in jobs]
        return self.entries(limit=limit, actor_prefix=actor_prefix, any_subject=needles)
