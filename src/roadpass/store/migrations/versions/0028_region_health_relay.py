"""regional nodes: pack health summaries for the home node's passports (outbox) and those received

Revision ID: 0028
Revises: 0010
Create Date: 2026-12-06 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0010"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "region_health_outbox",
        sa.Column("id", PK, nullable=False, autoincrement=True),
        sa.Column("peer", sa.String(length=100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
        sa.Column("region", sa.String(length=40), nullable=False, comment="the peer's region"),
        sa.Column("battery_id", sa.String(length=500), nullable=False, comment="the battery's own identifier"),
        sa.Column("sequence", sa.Integer(), nullable=False,
                  comment="the summary's number for this battery and peer, from 1"),
        sa.Column("summary_id", sa.String(length=64), nullable=False,
                  comment="SHA-256 of the summary's canonical JSON"),
        sa.Column("summary", sa.Text(), nullable=False, comment="JSON: the projected summary that is sent"),
        sa.Column("state", sa.String(length=20), nullable=False,
                  comment="pending (in the outbox), delivered or refused"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="failed delivery attempts"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("transfer_id", sa.BigInteger(), nullable=False, comment="its region_transfer row"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_health_outbox")),
        sa.UniqueConstraint("peer", "battery_id", "sequence",
                            name=op.f("uq_region_health_outbox_peer_battery_id_sequence")),
    )
    op.create_index("ix_region_health_outbox_state_id", "region_health_outbox", ["state", "id"])
    op.create_table(
        "region_health_received",
        sa.Column("id", PK, nullable=False, autoincrement=True),
        sa.Column("origin_node", sa.String(length=100), nullable=False, comment="the peer node that sent it"),
        sa.Column("origin_region", sa.String(length=40), nullable=False,
                  comment="its region (from its party, never the body)"),
        sa.Column("battery_id", sa.String(length=500), nullable=False, comment="the battery's own identifier"),
        sa.Column("sequence", sa.Integer(), nullable=False, comment="the sender's number for this battery"),
        sa.Column("summary_id", sa.String(length=64), nullable=False,
                  comment="SHA-256 of the summary's canonical JSON"),
        sa.Column("summary", sa.Text(), nullable=False, comment="JSON: the summary as received"),
        sa.Column("passport_id", sa.String(length=100), nullable=False,
                  comment="the passport it was written into"),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_health_received")),
        sa.UniqueConstraint("summary_id", name=op.f("uq_region_health_received_summary_id")),
        sa.UniqueConstraint("origin_node", "battery_id", "sequence",
                            name=op.f("uq_region_health_received_origin_node_battery_id_sequence")),
    )


def downgrade() -> None:
    op.drop_table("region_health_received")
    op.drop_index("ix_region_health_outbox_state_id", table_name="region_health_outbox")
    op.drop_table("region_health_outbox")
