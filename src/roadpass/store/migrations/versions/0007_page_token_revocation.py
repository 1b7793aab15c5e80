"""revoked nextPageTokens (EPCIS 2.0 REST: DELETE /nextPageToken/{token})

Revision ID: 0007
Revises: 0001
Create Date: 2026-12-06 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_token_revocation",
        sa.Column("digest", sa.String(length=32), nullable=False,
                  comment="sha-256 of the token, first 32 hex digits"),
        sa.Column("expires_at", sa.BigInteger(), nullable=False,
                  comment="Unix seconds after which the token is dead anyway"),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_page_token_revocation")),
    )


def downgrade() -> None:
    op.drop_table("page_token_revocation")
