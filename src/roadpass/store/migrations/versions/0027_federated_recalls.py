"""regional nodes: recall campaigns relayed to peer regions (durable outbox) and their completion reports

Revision ID: 0027
Revises: 0010
Create Date: 2026-12-06 05:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0010"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "federated_recall",
        sa.Column("id", PK, nullable=False, autoincrement=True),
        sa.Column("campaign_key", sa.String(length=100), nullable=False, comment="the campaign's key on every node"),
        sa.Column("peer", sa.String(length=100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
        sa.Column("region", sa.String(length=40), nullable=False, comment="the peer's region"),
        sa.Column("definition", sa.Text(), nullable=False, comment="JSON: the non-personal campaign request sent"),
        sa.Column("state", sa.String(length=20), nullable=False, comment="pending (in the outbox) or delivered"),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="failed delivery attempts"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at", sa.BigInteger(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True,
                  comment="JSON: completion counts by market the region reported"),
        sa.Column("reported_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federated_recall")),
        sa.UniqueConstraint("campaign_key", "peer", name=op.f("uq_federated_recall_campaign_key_peer")),
    )


def downgrade() -> None:
    op.drop_table("federated_recall")
