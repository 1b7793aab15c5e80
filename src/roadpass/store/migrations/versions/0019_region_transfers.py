"""regional nodes: the transfers to peer nodes, as ledgered

Revision ID: 0019
Revises: 0010
Create Date: 2026-12-06 05:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0010"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "region_transfer",
        sa.Column("id", PK, nullable=False, autoincrement=True),
        sa.Column("peer", sa.String(length=100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
        sa.Column("origin", sa.String(length=40), nullable=False, comment="this node's region"),
        sa.Column("destination", sa.String(length=40), nullable=False, comment="the peer's region"),
        sa.Column("subscription_id", sa.String(length=64), nullable=False,
                  comment="the subscription that carried it"),
        sa.Column("subscriber", sa.String(length=200), nullable=False,
                  comment="the party (else actor) that subscribed"),
        sa.Column("policy_version", sa.String(length=40), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False, comment="events offered"),
        sa.Column("sent", sa.Integer(), nullable=False, comment="events sent (the rest stayed home)"),
        sa.Column("summary", sa.Text(), nullable=False, comment="JSON: removed, pseudonymised, aggregated, bases"),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_transfer")),
    )
    op.create_index("ix_region_transfer_peer_id", "region_transfer", ["peer", "id"])


def downgrade() -> None:
    op.drop_index("ix_region_transfer_peer_id", table_name="region_transfer")
    op.drop_table("region_transfer")
