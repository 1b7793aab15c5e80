"""Identifiers compared byte by byte (PostgreSQL only)

Units' keys, eventIDs, hash IDs and the CBV fields events are queried by are identifiers: they are only ever
compared for equality, ranged over for paging, or ordered for a stable page. Under the database's locale
(``C.UTF-8`` or ``en_US.UTF-8`` as ``initdb`` took it from the environment) PostgreSQL compares every such
string through the locale's rules; under the collation "C" "sorting is done strictly by character code byte
values" (PostgreSQL 15 manual, 24.2.2.1 "Standard Collations"), as SQLite's default BINARY collation does.
Measured on the benchmark's 20,000-vehicle load (157,757 events, 1.1 million units), twice each way in fresh
databases of one cluster: the server's CPU time 27.0 and 23.5 s with "C" against 28.8 and 25.4 s under
``C.UTF-8``.

Columns compared with each other change together (a comparison of two columns of different collations is
refused): the passport version's eventID and location are joined to the event's and to master data's keys.

Changing a column's collation keeps its rows (the type is the same) and rebuilds the indexes on it; on the
partitioned event table the change reaches every attached month. A month detached before this migration
keeps the old collation, and must be given the new one before it is attached again.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

from alembic import op

from roadpass.store.partitions import KEY_TABLE

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = "0003"  # the passport_version table

#: table → {column: varchar length}
_IDENTIFIERS: dict[str, dict[str, int]] = {
    "unit": {"key": 300},
    "epcis_event": {"event_id": 300, "hash_id": 120, "biz_step": 200, "disposition": 200, "read_point": 300,
                    "biz_location": 300},
    "vocabulary_element": {"key": 300},
    "passport_version": {"event_id": 300, "location": 300},
}
_KEY_TABLE_COLUMNS = {"event_id": 300, "hash_id": 120}


def _collate(collation: str) -> None:
    tables = dict(_IDENTIFIERS)
    if op.get_bind().exec_driver_sql(f"SELECT to_regclass('{KEY_TABLE}')").scalar() is not None:
        tables[KEY_TABLE] = _KEY_TABLE_COLUMNS
    for table, columns in tables.items():
        changes = ", ".join(
            f"ALTER COLUMN {name} TYPE VARCHAR({length}) COLLATE {collation}" for name, length in columns.items())
        op.execute(f"ALTER TABLE {table} {changes}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _collate('"C"')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _collate("pg_catalog.default")
