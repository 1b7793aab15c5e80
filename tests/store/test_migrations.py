"""Migrations bring both databases to the table definitions (the equivalent of ``alembic check``)."""

from __future__ import annotations

from sqlalchemy import Connection

from roadpass.bootstrap import Roadpass
from roadpass.store.engine import is_postgresql
from roadpass.store.migrate import pending_changes
from roadpass.store.tables import metadata


def test_migrated_database_matches_tables(app: Roadpass) -> None:
    assert pending_changes(app.engine) == []


def test_sqlite_runs_in_wal_mode(sqlite_app: Roadpass) -> None:
    with sqlite_app.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def _byte_compared(conn: Connection) -> tuple[set[str], list[str]]:
    """PostgreSQL: the columns (schema.table.column) under collation "C", and the event table's months."""
    found = set(conn.exec_driver_sql(
        "SELECT table_schema || '.' || table_name || '.' || column_name FROM information_schema.columns "
        "WHERE collation_name = 'C'").scalars())
    months = conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('epcis_event')").scalars().all()
    return found, list(months)


def test_identifiers_compare_byte_by_byte_on_both_engines(app: Roadpass) -> None:
    # Migration 0032: the identifier columns under collation "C" on PostgreSQL, as SQLite's BINARY, in the
    # event table's months and the key table too: both engines order them alike.
    with app.uow.write() as conn:
        for n, key in enumerate(("urn:x:a", "urn:x:B", "urn:x:_")):
            conn.exec_driver_sql(f"INSERT INTO unit (id, key, kind) VALUES ({n + 1}, '{key}', 3)")
    with app.uow.read() as conn:
        ordered = conn.exec_driver_sql("SELECT key FROM unit ORDER BY key").scalars().all()
        if is_postgresql(app.engine):
            found, months = _byte_compared(conn)
            # The table definitions say which columns are identifiers (tables.identifier).
            declared = {(table.name, column.name) for table in metadata.sorted_tables for column in table.columns
                        if getattr(column.type.dialect_impl(app.engine.dialect), "collation", None) == "C"}
            event_columns = {column for table, column in declared if table == "epcis_event"}
            expected = {f"public.{table}.{column}" for table, column in declared}
            expected |= {f"event_partitions.epcis_event_key.{column}" for column in ("event_id", "hash_id")}
            expected |= {f"event_partitions.{month}.{column}" for month in months for column in event_columns}
            assert months and len(declared) == 10 and expected <= found
    assert ordered == ["urn:x:B", "urn:x:_", "urn:x:a"]  # bytes: 0x42 < 0x5F < 0x61
