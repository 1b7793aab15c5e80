"""telematics: VSS samples and roll-ups, dead letters, counters, ingest batches, unit broker credentials

Revision ID: 0016
Revises: 0010
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0010"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "telematics_path",
        sa.Column("id", PK, primary_key=True),
        sa.Column("path", sa.String(300), nullable=False, comment="VSS 6.0 dotted path"),
        sa.PrimaryKeyConstraint("id", name="pk_telematics_path"),
        sa.UniqueConstraint("path", name="uq_telematics_path_path"),
    )
    op.create_table(
        "telematics_sample",
        sa.Column("subject_id", sa.BigInteger(), autoincrement=False, nullable=False, comment="vehicle or pack unit id"),
        sa.Column("path_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("ts", sa.BigInteger(), autoincrement=False, nullable=False, comment="when sampled, UTC µs"),
        sa.Column("value_num", sa.Double(), nullable=True, comment="numbers and booleans (0/1)"),
        sa.Column("value_text", sa.Text(), nullable=True, comment="strings; arrays as JSON"),
        sa.Column("unit_id", sa.BigInteger(), nullable=False, comment="the telematics unit that reported it"),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "path_id", "ts", name="pk_telematics_sample"),
    )
    op.create_index("ix_telematics_sample_ts", "telematics_sample", ["ts"])
    op.create_table(
        "telematics_rollup",
        sa.Column("subject_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("path_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("grain", sa.Integer(), autoincrement=False, nullable=False, comment="seconds: 3600 or 86400"),
        sa.Column("bucket", sa.BigInteger(), autoincrement=False, nullable=False, comment="bucket start, UTC µs"),
        sa.Column("samples", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Double(), nullable=False),
        sa.Column("low", sa.Double(), nullable=False),
        sa.Column("high", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("subject_id", "path_id", "grain", "bucket", name="pk_telematics_rollup"),
    )
    op.create_table(
        "telematics_refusal",
        sa.Column("id", PK, primary_key=True),
        sa.Column("received_us", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("unit", sa.Text(), nullable=True, comment="canonical key of the unit the topic names"),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("json_path", sa.String(300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False, comment="the message, cut at 4 KiB"),
        sa.PrimaryKeyConstraint("id", name="pk_telematics_refusal"),
    )
    op.create_index("ix_telematics_refusal_received_us", "telematics_refusal", ["received_us"])
    op.create_table(
        "telematics_counter",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_telematics_counter"),
    )
    op.create_table(
        "telematics_batch",
        sa.Column("id", PK, primary_key=True),
        sa.Column("stored_at", sa.BigInteger(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, comment="SHA-256 of the samples stored"),
        sa.PrimaryKeyConstraint("id", name="pk_telematics_batch"),
    )
    op.create_table(
        "telematics_credential",
        sa.Column("id", PK, primary_key=True),
        sa.Column("unit_key", sa.String(500), nullable=False),
        sa.Column("username", sa.String(600), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False, comment="Mosquitto $7$ PBKDF2-SHA512"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True, comment="each revocation is a credential_change row"),
        sa.PrimaryKeyConstraint("id", name="pk_telematics_credential"),
    )
    op.create_index("ix_telematics_credential_unit_key", "telematics_credential", ["unit_key"])
    op.create_table(
        "telematics_credential_change",
        sa.Column("id", PK, primary_key=True),
        sa.Column("credential_id", sa.BigInteger(), nullable=False),
        sa.Column("change", sa.String(20), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_telematics_credential_change"),
    )
    op.create_index("ix_telematics_credential_change_credential_id", "telematics_credential_change",
                    ["credential_id"])


def downgrade() -> None:
    for name in ("telematics_credential_change", "telematics_credential", "telematics_batch", "telematics_counter",
                 "telematics_refusal", "telematics_rollup", "telematics_sample", "telematics_path"):
        op.drop_table(name)
