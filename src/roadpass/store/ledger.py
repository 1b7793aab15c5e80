"""Ledger storage: append chained entries inside the caller's transaction, read them back, recompute content."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Table, select, text

from roadpass.ledger import (
    GENESIS_HASH,
    LedgerDraft,
    LedgerEntry,
    Subject,
    VerifyReport,
    canonical_rows_hash,
    compute_entry_hash,
    verify_chain,
)
from roadpass.store import tables as t
from roadpass.store.engine import is_postgresql

__all__ = ["append", "entries", "iter_entries", "rows_hash", "verify"]


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


def iter_entries(conn: Connection, *, batch: int = 5000) -> Iterator[LedgerEntry]:
    """Every entry in chain order, fetched in keyset batches."""
    last = 0
    while True:
        rows = conn.execute(
            select(t.ledger_entry).where(t.ledger_entry.c.seq > last).order_by(t.ledger_entry.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield _entry(row)
        last = int(rows[-1].seq)


def entries(
    conn: Connection, *, limit: int = 50, actor: str | None = None, subject_value: str | None = None
) -> list[LedgerEntry]:
    """The most recent entries, newest first, optionally filtered by actor or by a subject's value."""
    query = select(t.ledger_entry).order_by(t.ledger_entry.c.seq.desc()).limit(limit)
    if actor:
        query = query.where(t.ledger_entry.c.actor == actor)
    if subject_value:
        query = query.where(t.ledger_entry.c.subjects.contains(subject_value))
    return [_entry(row) for row in conn.execute(query)]


def verify(conn: Connection, *, stop_at_first: bool = True) -> VerifyReport:
    """Walk the whole chain against the rows stored now; see :func:`roadpass.ledger.verify_chain`."""
    report = verify_chain(iter_entries(conn), lambda e: rows_hash(conn, e.subjects), stop_at_first=stop_at_first)
    head = conn.execute(select(t.ledger_head.c.seq, t.ledger_head.c.entry_hash)).first()
    if report.ok and head is not None and (int(head[0]) != report.entries or head[1] != report.head_hash):
        from roadpass.ledger import Mismatch

        mismatch = Mismatch(int(head[0]), "chain head does not match the last entry (entries were removed)")
        report.ok = False
        report.first_mismatch = mismatch
        report.problems.append(mismatch)
    return report
