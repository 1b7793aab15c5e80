"""Driver-level bulk statements for the hot paths (capture), on SQLite and PostgreSQL.

On PostgreSQL a batch of rows goes over the wire as one ``COPY … FROM STDIN`` stream (psycopg 3's copy
support) instead of one INSERT per row: the PostgreSQL manual's "Populating a Database" page ("Use COPY")
recommends one COPY over a series of INSERTs, which saves the parsing and planning of each. SQLite, in
process, has no wire: ``executemany`` of one prepared INSERT is already its fastest path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain
from typing import Any

from sqlalchemy import Connection, text

from roadpass.store.engine import is_postgresql

__all__ = [
    "CHUNK", "COPY_MIN_ROWS", "bulk_insert", "chunks", "insert_new_keys", "lock_writer", "next_id",
    "observe_copies", "placeholder",
]

#: How many values one IN (...) list or VALUES batch carries (below SQLite's 32,766 variable limit).
CHUNK = 900

#: Below this many rows a plain ``executemany`` costs PostgreSQL no more than starting a COPY.
COPY_MIN_ROWS = 16

# A transaction-scoped PostgreSQL advisory lock that serialises writers, as SQLite's BEGIN IMMEDIATE does;
# it makes explicit id allocation (MAX(id) + 1) safe and keeps the ledger chain from forking.
_WRITER_LOCK_KEY = 0x524F414450415353  # "ROADPASS"

#: Called with (table, columns, rows) for every batch sent by COPY, which SQLAlchemy's statement events do
#: not see (the benchmark's storage floor records the writes it replays).
CopyObserver = Callable[[str, Sequence[str], list[Sequence[Any]]], None]
_copy_observers: list[CopyObserver] = []


def observe_copies(observer: CopyObserver, *, stop: bool = False) -> None:
    """Start (or with ``stop``, end) telling ``observer`` about every batch written through COPY."""
    if stop:
        _copy_observers.remove(observer)
    else:
        _copy_observers.append(observer)


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


def _copy(conn: Connection, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
    """Stream ``rows`` into ``table`` with ``COPY … FROM STDIN`` on the transaction's own connection."""
    raw: Any = conn.connection.driver_connection  # the psycopg.Connection under this transaction
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    for observer in _copy_observers:
        observer(table, columns, rows)


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Insert ``rows``: COPY on PostgreSQL for a batch, else ``executemany`` straight through the driver
    (no per-row ORM or Core overhead)."""
    batch = rows if isinstance(rows, list) else list(rows)
    if not batch:
        return
    if len(batch) >= COPY_MIN_ROWS and is_postgresql(conn.engine):
        _copy(conn, table, columns, batch)
        return
    mark = placeholder(conn)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    conn.exec_driver_sql(sql, batch)


def insert_new_keys(
    conn: Connection, table: str, columns: Sequence[str], rows: Mapping[str, Sequence[Any]]
) -> dict[str, int]:
    """Insert the rows (key → the other columns' values) whose key is not stored yet; key → id of those
    this statement inserted. A key stored already (by anyone, committed or racing) is skipped, never
    stored twice: the unique key decides, not a look-up beforehand.

    PostgreSQL: the rows are copied into a transaction-local staging table and moved by one
    ``INSERT … SELECT … ON CONFLICT (key) DO NOTHING RETURNING`` (ids from the table's sequence). SQLite
    (3.35+ has RETURNING): multi-row VALUES of the same statement, as many rows as the variable limit allows.
    """
    if not rows:
        return {}
    names = ("key", *columns)
    out: dict[str, int] = {}
    if is_postgresql(conn.engine) and len(rows) >= COPY_MIN_ROWS:
        stage = f"stage_{table}"
        listed = ", ".join(names)
        conn.exec_driver_sql(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
            f"SELECT {listed} FROM {table} WITH NO DATA"
        )
        conn.exec_driver_sql(f"TRUNCATE {stage}")
        _copy(conn, stage, names, [(key, *values) for key, values in rows.items()])
        # ORDER BY key: concurrent writers take the unique index's entries in one order (no deadlock).
        sql = (f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {stage} ORDER BY key "
               "ON CONFLICT (key) DO NOTHING RETURNING key, id")
        out.update((str(key), int(pk)) for key, pk in conn.exec_driver_sql(sql))
        return out
    mark = placeholder(conn)
    one = f"({', '.join([mark] * len(names))})"
    items = [(key, *values) for key, values in rows.items()]
    for part in chunks(items, CHUNK // len(names)):
        sql = (f"INSERT INTO {table} ({', '.join(names)}) VALUES {', '.join([one] * len(part))} "
               "ON CONFLICT (key) DO NOTHING RETURNING key, id")
        out.update((str(key), int(pk)) for key, pk in conn.exec_driver_sql(sql, tuple(chain.from_iterable(part))))
    return out
