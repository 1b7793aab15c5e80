"""Driver-level bulk statements for the hot paths (capture), portable across SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, text

from roadpass.store.engine import is_postgresql

__all__ = ["CHUNK", "bulk_insert", "chunks", "lock_writer", "next_id", "placeholder"]

#: How many values one IN (...) list or VALUES batch carries (below SQLite's 32,766 variable limit).
CHUNK = 900

# A transaction-scoped PostgreSQL advisory lock that serialises writers, as SQLite's BEGIN IMMEDIATE does;
# it makes explicit id allocation (MAX(id) + 1) safe and keeps the ledger chain from forking.
_WRITER_LOCK_KEY = 0x524F414450415353  # "ROADPASS"


def placeholder(conn: Connection) -> str:
    """The DB-API parameter marker of the connection's driver."""
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most ``size`` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lock_writer(conn: Connection) -> None:
    """Make this transaction the only writer (a no-op on SQLite, where BEGIN IMMEDIATE already did it)."""
    if is_postgresql(conn.engine):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _WRITER_LOCK_KEY - 2**63})


def next_id(conn: Connection, table: str, column: str = "id") -> int:
    """The next free integer id of ``table`` (the caller holds the writer lock)."""
    value = conn.exec_driver_sql(f"SELECT MAX({column}) FROM {table}").scalar()
    return 1 if value is None else int(value) + 1


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``executemany`` straight through the driver: no per-row ORM or Core overhead."""
    batch = rows if isinstance(rows, list) else list(rows)
    if not batch:
        return
    mark = placeholder(conn)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    conn.exec_driver_sql(sql, batch)
