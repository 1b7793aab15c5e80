"""Months of the partitioned event table lighter to write (PostgreSQL only)

Capture writes each event row once into its month; every index and check on that row is paid on every
event. Measured on 157,757 events of the benchmark fleet copied into the partitioned table (5.4 s in all):

* the months' own indexes on ``event_id`` and ``hash_id`` (0.8 s) answered the same look-ups the key table's
  unique indexes answer once for all months: look-ups by eventID or hash ID now go through the key table
  (``roadpass.store.partitions.event_keys``), and these two indexes are dropped;
* the foreign key from each event to its capture job (0.84 s: one ``SELECT … FOR KEY SHARE`` per row) checks
  a row the same transaction wrote just before the events; the link and identifier tables carry no
  foreign keys for the same reason (``tables.py``). Dropped here, on the partitioned table only;
* the event document (about 1.1 kB, one in ten over 2.4 kB and so compressed by TOAST) is compressed with
  LZ4 instead of the default pglz where the server was built with it (PostgreSQL 15 manual, ALTER TABLE …
  SET COMPRESSION; 0.9 s of 1.7 s for the bare table). Rows already stored keep their compression.

SQLite keeps its plain table, with its unique indexes and the foreign key: nothing to do there.

Revision ID: 0031
Revises: 0021
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

from roadpass.store.partitions import SCHEMA

revision = "0031"
down_revision = "0021"
branch_labels = None
depends_on = None

_FK = "fk_epcis_event_job_id_capture_job"
_LOOKUPS = {"ix_epcis_event_event_id": "event_id", "ix_epcis_event_hash_id": "hash_id"}


def _has_lz4() -> bool:
    found = op.get_bind().execute(text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")).scalar()
    return bool(found)


def _tables() -> list[str]:
    """The event table and every partition attached to it (a partition does not follow the parent's
    compression method: each is set)."""
    months = op.get_bind().execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass('epcis_event') ORDER BY c.relname")).scalars().all()
    return ["epcis_event", *(f"{SCHEMA}.{name}" for name in months)]


def _compress(method: str) -> None:
    for name in _tables():
        op.execute(f"ALTER TABLE {name} ALTER COLUMN doc SET COMPRESSION {method}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in _LOOKUPS:
        op.execute(f"DROP INDEX IF EXISTS {index}")
    op.execute(f"ALTER TABLE epcis_event DROP CONSTRAINT IF EXISTS {_FK}")
    if _has_lz4():
        _compress("lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _compress("pglz")
    op.execute(f"ALTER TABLE epcis_event ADD CONSTRAINT {_FK} FOREIGN KEY (job_id) REFERENCES capture_job (id)")
    for index, column in _LOOKUPS.items():
        op.execute(f"CREATE INDEX {index} ON epcis_event ({column})")
