"""Migrations bring both databases to the table definitions (the equivalent of ``alembic check``)."""

from __future__ import annotations

from roadpass.bootstrap import Roadpass
from roadpass.store.migrate import pending_changes


def test_migrated_database_matches_tables(app: Roadpass) -> None:
    assert pending_changes(app.engine) == []


def test_sqlite_runs_in_wal_mode(sqlite_app: Roadpass) -> None:
    with sqlite_app.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
