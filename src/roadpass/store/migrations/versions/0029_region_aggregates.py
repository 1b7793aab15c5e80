"""regional nodes: aggregates delivered to peers (outbox, cursor) and received from them

Revision ID: 0029
Revises: 0010
Create Date: 2026-12-06 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0010"
branch_labels = None
depends_on = ("0019",)  # reads region_transfer (no foreign key: the cursor holds an id)

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "region_aggregate_outbox",
        sa.Column("id", PK, nullable=False, autoincrement=True),
        sa.Column("peer", sa.String(length=100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
        sa.Column("region", sa.String(length=40), nullable=False, comment="the peer's region"),
        sa.Column("body", sa.Text(), nullable=False,
                  comment="JSON: the counts per group, what was suppressed, k, bases"),
        sa.Column("state", sa.String(length=20), nullable=False, comment="pending (in the outbox) or delivered"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="failed delivery attempts"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("first_transfer", sa.BigInteger(), nullable=False,
                  comment="the first region_transfer id it counts"),
        sa.Column("last_transfer", sa.BigInteger(), nullable=False, comment="the last region_transfer id it counts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_aggregate_outbox")),
    )
    op.create_index("ix_region_aggregate_outbox_state_id", "region_aggregate_outbox", ["state", "id"])
    op.create_table(
        "region_aggregate_cursor",
        sa.Column("peer", sa.String(length=100), nullable=False, comment="the peer node's name"),
        sa.Column("batched_to", sa.BigInteger(), nullable=False, comment="the last region_transfer id batched for it"),
        sa.PrimaryKeyConstraint("peer", name=op.f("pk_region_aggregate_cursor")),
    )
    op.create_table(
        "region_aggregate_counted",
        sa.Column("peer", sa.String(length=100), nullable=False, comment="the peer node's name"),
        sa.Column("event_id", sa.String(length=300), nullable=False, comment="an event withheld from it and counted"),
        sa.Column("batch", sa.BigInteger(), nullable=False, comment="the outbox batch that counted it"),
        sa.PrimaryKeyConstraint("peer", "event_id", name=op.f("pk_region_aggregate_counted")),
    )
    op.create_table(
        "region_aggregate_received",
        sa.Column("id", PK, nullable=False, autoincrement=True),
        sa.Column("sender", sa.String(length=100), nullable=False,
                  comment="the sending peer node (from its authenticated party)"),
        sa.Column("region", sa.String(length=40), nullable=False, comment="the sender's region (as configured here)"),
        sa.Column("batch", sa.BigInteger(), nullable=False, comment="the sender's batch number"),
        sa.Column("body", sa.Text(), nullable=False, comment="JSON: the batch as delivered"),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_aggregate_received")),
        sa.UniqueConstraint("sender", "batch", name=op.f("uq_region_aggregate_received_sender_batch")),
    )


def downgrade() -> None:
    op.drop_table("region_aggregate_received")
    op.drop_table("region_aggregate_counted")
    op.drop_table("region_aggregate_cursor")
    op.drop_index("ix_region_aggregate_outbox_state_id", table_name="region_aggregate_outbox")
    op.drop_table("region_aggregate_outbox")
