"""recall campaigns: campaigns, the vehicles and units they reach, notices to dealers and repairers

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recall_campaign",
        sa.Column("id", _PK, primary_key=True),
        sa.Column("campaign_key", sa.String(64), nullable=False, comment="what service records reference"),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("manufacturer", sa.Text(), nullable=False),
        sa.Column("owner_party", sa.String(200), nullable=False,
                  comment="party key of the manufacturer that opened it"),
        sa.Column("defect", sa.Text(), nullable=False, comment="JSON: description, risk, component, determinedOn, …"),
        sa.Column("remedy", sa.Text(), nullable=False, comment="JSON: description, parts (GTIN-14), operations"),
        sa.Column("scope", sa.Text(), nullable=False,
                  comment="JSON: lots, units, serialRanges, productionWindow, supplier"),
        sa.Column("dates", sa.Text(), nullable=False, comment="JSON: ISO dates (dealerNoticeOn, remedyDueOn, …)"),
        sa.Column("market_due", sa.Text(), nullable=False, comment="JSON: remedy due date per market"),
        sa.Column("refs", sa.Text(), nullable=False, comment="JSON: numbers authorities gave the campaign"),
        sa.Column("contact", sa.Text(), nullable=False, comment="JSON: the official an authority contacts"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("op_id", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recall_campaign"),
        sa.UniqueConstraint("campaign_key", name="uq_recall_campaign_campaign_key"),
    )
    op.create_index("ix_recall_campaign_op_id", "recall_campaign", ["op_id"])
    op.create_table(
        "recall_vehicle",
        sa.Column("id", _PK, primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("vin", sa.String(17), nullable=False),
        sa.Column("unit_key", sa.String(300), nullable=False, comment="the vehicle's canonical key"),
        sa.Column("market", sa.String(2), nullable=True, comment="where sold or registered when reached"),
        sa.Column("via", sa.Text(), nullable=False,
                  comment="JSON list: units below the vehicle that brought the defect"),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("op_id", sa.String(40), nullable=False),
        sa.Column("carries_now", sa.SmallInteger(), nullable=False,
                  comment="derived: 1 while the defective unit is fitted"),
        sa.Column("checked_at", sa.BigInteger(), nullable=False,
                  comment="derived: when carries_now was last computed"),
        sa.PrimaryKeyConstraint("id", name="pk_recall_vehicle"),
        sa.UniqueConstraint("campaign_id", "vin", name="uq_recall_vehicle_campaign_id_vin"),
    )
    op.create_index("ix_recall_vehicle_vin", "recall_vehicle", ["vin"])
    op.create_index("ix_recall_vehicle_op_id", "recall_vehicle", ["op_id"])
    op.create_table(
        "recall_unit",
        sa.Column("id", _PK, primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_key", sa.String(300), nullable=False),
        sa.Column("vin", sa.String(17), nullable=True,
                  comment="the vehicle it is or was in (none: a unit in scope)"),
        sa.Column("carries_now", sa.SmallInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recall_unit"),
    )
    op.create_index("ix_recall_unit_campaign_id", "recall_unit", ["campaign_id"])
    op.create_index("ix_recall_unit_unit_key", "recall_unit", ["unit_key"])
    op.create_table(
        "recall_notice",
        sa.Column("id", _PK, primary_key=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("market", sa.String(2), nullable=False),
        sa.Column("party_key", sa.String(200), nullable=False, comment="the dealer or repairer notified"),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("vehicles", sa.Integer(), nullable=False, comment="affected vehicles of that market when notified"),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("op_id", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_recall_notice"),
    )
    op.create_index("ix_recall_notice_campaign_id", "recall_notice", ["campaign_id"])
    op.create_index("ix_recall_notice_party_key", "recall_notice", ["party_key"])
    op.create_index("ix_recall_notice_op_id", "recall_notice", ["op_id"])


def downgrade() -> None:
    for table in ("recall_notice", "recall_unit", "recall_vehicle", "recall_campaign"):
        op.drop_table(table)
