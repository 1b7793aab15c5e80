"""named queries (EPCIS 2.0 REST bindings /queries), owned by a party

Revision ID: 0006
Revises: 0001
Create Date: 2026-12-06 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "named_query",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False, comment="unique among queries not deleted"),
        sa.Column("party_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True,
                  comment="the owning party (none when made with authorisation switched off)"),
        sa.Column("query", sa.Text(), nullable=False, comment="the query body (JSON, query-schema.json)"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.Column("deleted_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["party_id"], ["party.id"], name=op.f("fk_named_query_party_id_party")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_named_query")),
    )
    op.create_index("ix_named_query_party_id", "named_query", ["party_id"], unique=False)
    op.create_index(
        "uq_named_query_live_name", "named_query", ["name"], unique=True,
        sqlite_where=sa.text("deleted_at IS NULL"), postgresql_where=sa.text("deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_named_query_live_name", table_name="named_query")
    op.drop_index("ix_named_query_party_id", table_name="named_query")
    op.drop_table("named_query")
