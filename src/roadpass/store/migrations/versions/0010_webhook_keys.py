"""webhook keys: an API key another repository signs its subscription deliveries with

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = "0004"  # the api_key table


def upgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column(
            "webhook_secret", sa.Text(), nullable=True,
            comment="a webhook key: the key itself, to check GS1-Signature of deliveries it signs"))


def downgrade() -> None:
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("webhook_secret")
