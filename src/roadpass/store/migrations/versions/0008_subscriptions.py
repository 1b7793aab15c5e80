"""query subscriptions and their durable delivery outbox (EPCIS 2.0 REST bindings /queries/{queryName}/subscriptions)

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-06 01:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", _PK, nullable=False),
        sa.Column("subscription_id", sa.String(length=36), nullable=False, comment="the REST subscriptionID (UUID)"),
        sa.Column("query_name", sa.String(length=100), nullable=False),
        sa.Column("party_id", _PK, nullable=True,
                  comment="the owning party (none when made with authorisation switched off)"),
        sa.Column("dest", sa.Text(), nullable=False, comment="the webhook URL deliveries are posted to"),
        sa.Column("signature_token", sa.Text(), nullable=True, comment="the HMAC key of GS1-Signature (never shown)"),
        sa.Column("report_if_empty", sa.SmallInteger(), nullable=False,
                  comment="1: deliver even when nothing matched"),
        sa.Column("initial_record_time", sa.BigInteger(), nullable=True),
        sa.Column("schedule", sa.Text(), nullable=True,
                  comment="the schedule (JSON, query-schedule.json); none: a stream"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.Column("deleted_by", sa.String(length=200), nullable=True),
        sa.Column("last_notified_at", sa.BigInteger(), nullable=True,
                  comment="when the receiver last acknowledged (2xx)"),
        sa.Column("failures", sa.Integer(), nullable=False, comment="failed attempts since the last acknowledged one"),
        sa.Column("stream_cursor", sa.BigInteger(), nullable=True,
                  comment="the last epcis_event.id put in the outbox for this stream"),
        sa.ForeignKeyConstraint(["party_id"], ["party.id"], name=op.f("fk_subscription_party_id_party")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription")),
        sa.UniqueConstraint("subscription_id", name=op.f("uq_subscription_subscription_id")),
    )
    op.create_index("ix_subscription_query_name", "subscription", ["query_name"], unique=False)
    op.create_index("ix_subscription_party_id", "subscription", ["party_id"], unique=False)
    op.create_table(
        "outbox",
        sa.Column("id", _PK, nullable=False),
        sa.Column("subscription_pk", _PK, nullable=False),
        sa.Column("first_event", sa.BigInteger(), nullable=False, comment="the first epcis_event.id of the range"),
        sa.Column("last_event", sa.BigInteger(), nullable=False, comment="the last epcis_event.id of the range"),
        sa.Column("batch_size", sa.Integer(), nullable=False, comment="most events one attempt posts (halved on 413)"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="failed attempts so far"),
        sa.Column("next_try_at", sa.BigInteger(), nullable=False, comment="UTC µs of the next attempt"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["subscription_pk"], ["subscription.id"],
                                name=op.f("fk_outbox_subscription_pk_subscription")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_subscription_pk", "outbox", ["subscription_pk"], unique=False)
    op.create_index("ix_outbox_next_try_at", "outbox", ["next_try_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_next_try_at", table_name="outbox")
    op.drop_index("ix_outbox_subscription_pk", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_subscription_party_id", table_name="subscription")
    op.drop_index("ix_subscription_query_name", table_name="subscription")
    op.drop_table("subscription")
