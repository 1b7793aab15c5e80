"""Migrations bring both databases to the table definitions (the equivalent of ``alembic check``)."""

from __future__ import annotations

from roadpass.bootstrap import Roadpass
from roadpass.store.engine import is_postgresql
from roadpass.store.migrate import pending_changes


def test_migrated_database_matches_tables(app: Roadpass) -> None:
    assert pending_changes(app.engine) == []


def test_sqlite_runs_in_wal_mode(sqlite_app: Roadpass) -> None:
    with sqlite_app.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"



def test_identifiers_compare_byte_by_byte_on_both_engines(app: Roadpass) -> None:
    # Migration 0032: keys, eventIDs, hash IDs and the CBV fields under collation "C" on PostgreSQL, as
    # SQLite's BINARY, on the event table's months and the key table too: both order them alike.
    with app.uow.write() as conn:
        for n, key in enumerate(("urn:x:a", "urn:x:B", "urn:x:_")):
            conn.exec_driver_sql(f"INSERT INTO unit (id, key, kind) VALUES ({n + 1}, '{key}', 3)")
    with app.uow.read() as conn:
        ordered = conn.exec_driver_sql("SELECT key FROM unit ORDER BY key").scalars().all()
        if not is_postgresql(app.engine):
            found: set[str] = set()
            months: list[str] = []
        else:
            found = set(conn.exec_driver_sql(
                "SELECT table_schema || '.' || table_name || '.' || column_name FROM information_schema.columns "
                "WHERE collation_name = 'C'").scalars())
            months = conn.exec_driver_sql(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass('epcis_event')").scalars().all()
    assert ordered == ["urn:x:B", "urn:x:_", "urn:x:a"]  # bytes: 0x42 < 0x5F < 0x61
    if is_postgresql(app.engine):
        expected = {"public.unit.key", "public.vocabulary_element.key", "public.passport_version.event_id",
                    "public.passport_version.location", "event_partitions.epcis_event_key.event_id",
                    "event_partitions.epcis_event_key.hash_id"}
        event_columns = ("event_id", "hash_id", "biz_step", "disposition", "read_point", "biz_location")
        expected |= {f"public.epcis_event.{c}" for c in event_columns}
        expected |= {f"event_partitions.{month}.{c}" for month in months for c in event_columns}
        assert months and expected <= found
