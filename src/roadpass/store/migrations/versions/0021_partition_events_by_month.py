"""epcis_event partitioned by event time, one partition per month (PostgreSQL only)

The table is rebuilt as ``PARTITION BY RANGE (event_time)``; stored rows move into their months' partitions
(one is created for every month that has events, plus this month and the next three, plus a default
partition so that capture of any event time never fails). Global uniqueness of the row id, eventID and hash
ID moves to ``event_partitions.epcis_event_key`` (a primary or unique key of a partitioned table must
include the partition key: PostgreSQL 15 manual, 5.11.2.3), filled by a statement-level trigger; the
foreign key of ``error_declaration.event_pk`` now refers to it. See roadpass.store.partitions.

SQLite keeps the plain table: nothing to do there.

Revision ID: 0021
Revises: 0010
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

import time

from alembic import op
from sqlalchemy import text

from roadpass.store.partitions import DEFAULT_PARTITION, KEY_TABLE, SCHEMA, create_month, month_of, months_ahead

revision = "0021"
down_revision = "0010"
branch_labels = None
depends_on = "0001"  # epcis_event and error_declaration

_FK = "fk_error_declaration_event_pk_epcis_event"
# The table definitions' indexes (tables.py), rebuilt as partitioned indexes: each month gets its own.
_INDEXES = {
    "ix_epcis_event_event_time_id": "event_time, id",
    "ix_epcis_event_record_time_id": "record_time, id",
    "ix_epcis_event_biz_step": "biz_step",
    "ix_epcis_event_biz_location": "biz_location",
    "ix_epcis_event_read_point": "read_point",
    "ix_epcis_event_disposition": "disposition",
    "ix_epcis_event_job_id": "job_id",
    # eventID and hash ID lookups within a month; their uniqueness over all months is the key table's.
    "ix_epcis_event_event_id": "event_id",
    "ix_epcis_event_hash_id": "hash_id",
}


def _take_apart_old() -> None:
    # Free the names (constraints and indexes are schema-wide in PostgreSQL) before the new table takes them.
    op.execute(f"ALTER TABLE error_declaration DROP CONSTRAINT {_FK}")
    op.execute("ALTER TABLE epcis_event RENAME TO epcis_event_unpartitioned")
    for constraint in ("pk_epcis_event", "uq_epcis_event_event_id", "uq_epcis_event_hash_id",
                       "fk_epcis_event_job_id_capture_job"):
        op.execute(f"ALTER TABLE epcis_event_unpartitioned DROP CONSTRAINT {constraint}")
    for index in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {index}")


def _create_partitioned() -> None:
    op.execute(
        "CREATE TABLE epcis_event (LIKE epcis_event_unpartitioned INCLUDING DEFAULTS INCLUDING COMMENTS) "
        "PARTITION BY RANGE (event_time)"
    )
    # The id sequence follows the column it numbers (dropping the old table would drop it otherwise).
    op.execute("ALTER SEQUENCE epcis_event_id_seq OWNED BY epcis_event.id")
    op.execute("ALTER TABLE epcis_event ADD CONSTRAINT pk_epcis_event PRIMARY KEY (id, event_time)")
    op.execute("ALTER TABLE epcis_event ADD CONSTRAINT fk_epcis_event_job_id_capture_job "
               "FOREIGN KEY (job_id) REFERENCES capture_job (id)")
    for index, columns in _INDEXES.items():
        op.execute(f"CREATE INDEX {index} ON epcis_event ({columns})")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    op.execute(f"CREATE TABLE {SCHEMA}.{DEFAULT_PARTITION} PARTITION OF epcis_event DEFAULT")
    op.execute(
        f"CREATE TABLE {KEY_TABLE} (id BIGINT PRIMARY KEY, event_id VARCHAR(300) NOT NULL UNIQUE, "
        "hash_id VARCHAR(120) NOT NULL UNIQUE, event_time BIGINT NOT NULL)"
    )
    op.execute(f"COMMENT ON TABLE {KEY_TABLE} IS 'ids, eventIDs and hash IDs of every event ever stored, "
               "unique over all months (detached ones included)'")
    # One INSERT … SELECT per statement, not a call per row: COPY and multi-row inserts stay set-based.
    op.execute(
        f"CREATE FUNCTION {SCHEMA}.remember_event_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO {KEY_TABLE} (id, event_id, hash_id, event_time) "
        "SELECT id, event_id, hash_id, event_time FROM new_rows; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER epcis_event_keys AFTER INSERT ON epcis_event REFERENCING NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {SCHEMA}.remember_event_keys()"
    )


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    _take_apart_old()
    _create_partitioned()
    stored = conn.execute(text(
        "SELECT DISTINCT (event_time / 1000000 / 86400) FROM epcis_event_unpartitioned"  # days: few rows
    )).scalars().all()
    months = {month_of(int(day) * 86_400_000_000) for day in stored}
    months.update(months_ahead(int(time.time() * 1_000_000), 3))
    for month in sorted(months):
        create_month(conn, month)
    op.execute("INSERT INTO epcis_event SELECT * FROM epcis_event_unpartitioned")
    op.execute("DROP TABLE epcis_event_unpartitioned")
    op.execute(f"ALTER TABLE error_declaration ADD CONSTRAINT {_FK} FOREIGN KEY (event_pk) REFERENCES {KEY_TABLE} (id)")
    op.execute("ANALYZE epcis_event")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE error_declaration DROP CONSTRAINT {_FK}")
    op.execute("ALTER TABLE epcis_event RENAME TO epcis_event_partitioned")
    op.execute("ALTER TABLE epcis_event_partitioned DROP CONSTRAINT pk_epcis_event")
    op.execute("ALTER TABLE epcis_event_partitioned DROP CONSTRAINT fk_epcis_event_job_id_capture_job")
    for index in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {index}")
    op.execute("CREATE TABLE epcis_event (LIKE epcis_event_partitioned INCLUDING DEFAULTS INCLUDING COMMENTS)")
    op.execute("ALTER SEQUENCE epcis_event_id_seq OWNED BY epcis_event.id")
    op.execute("INSERT INTO epcis_event SELECT * FROM epcis_event_partitioned")
    op.execute("DROP TABLE epcis_event_partitioned")
    op.execute(f"DROP SCHEMA {SCHEMA} CASCADE")  # detached months too: archive them before downgrading
    op.execute("ALTER TABLE epcis_event ADD CONSTRAINT pk_epcis_event PRIMARY KEY (id)")
    op.execute("ALTER TABLE epcis_event ADD CONSTRAINT uq_epcis_event_event_id UNIQUE (event_id)")
    op.execute("ALTER TABLE epcis_event ADD CONSTRAINT uq_epcis_event_hash_id UNIQUE (hash_id)")
    op.execute("ALTER TABLE epcis_event ADD CONSTRAINT fk_epcis_event_job_id_capture_job "
               "FOREIGN KEY (job_id) REFERENCES capture_job (id)")
    for index, columns in _INDEXES.items():
        if index not in ("ix_epcis_event_event_id", "ix_epcis_event_hash_id"):
            op.execute(f"CREATE INDEX {index} ON epcis_event ({columns})")
    op.execute(f"ALTER TABLE error_declaration ADD CONSTRAINT {_FK} FOREIGN KEY (event_pk) "
               "REFERENCES epcis_event (id)")
