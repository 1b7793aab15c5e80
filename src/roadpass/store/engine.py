"""Engines for the two supported databases: SQLite (embedded default) and PostgreSQL.

SQLite is used honestly: WAL journal, one writer at a time taken with ``BEGIN IMMEDIATE`` so that a write
transaction never has to upgrade its lock half-way (the datasette pattern), readers never block.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

__all__ = ["WRITE_OPTION", "is_postgresql", "is_sqlite", "make_engine", "normalise_url"]

#: Execution option that marks a connection as the writer (SQLite: ``BEGIN IMMEDIATE``).
WRITE_OPTION = "roadpass_write"


def normalise_url(url: str | URL) -> URL:
    """Map user-facing URLs onto the drivers roadpass ships (``postgresql://`` → psycopg 3)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def is_postgresql(engine: Engine) -> bool:
    """True when the engine talks to PostgreSQL."""
    return engine.dialect.name == "postgresql"


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let our own BEGIN statements drive transactions instead of the driver's implicit ones.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA wal_autocheckpoint=16384")  # checkpoint every 64 MiB of WAL: fewer, larger copies
    cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB page cache per connection: genealogy walks stay in memory
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.close()


def make_engine(url: str | URL, *, echo: bool = False) -> Engine:
    """Create the engine for ``url``; for SQLite the file's folder is created if missing."""
    parsed = normalise_url(url)
    if parsed.drivername.startswith("sqlite"):
        database = parsed.database
        memory = database in (None, "", ":memory:")
        if not memory and database is not None:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            echo=echo,
            connect_args={"check_same_thread": False},
            poolclass=NullPool if memory else None,
        )
        event.listen(engine, "connect", _sqlite_on_connect)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            immediate = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(parsed, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)
