"""scheduled query subscriptions: when each runs next

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.add_column(sa.Column("next_run_at", sa.BigInteger(), nullable=True,
                                   comment="a scheduled subscription: UTC µs of its next run"))
        batch.create_index("ix_subscription_next_run_at", ["next_run_at"])


def downgrade() -> None:
    with op.batch_alter_table("subscription") as batch:
        batch.drop_index("ix_subscription_next_run_at")
        batch.drop_column("next_run_at")
