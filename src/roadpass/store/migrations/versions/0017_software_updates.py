"""software updates (UN R156): vehicle types, software reports, update campaigns and per-vehicle states

Revision ID: 0017
Revises: 0010
Create Date: 2026-12-06 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0010"
branch_labels = None
depends_on = None

_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "software_vehicle_type",
        sa.Column("id", _PK, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product_key", sa.String(length=100), nullable=True,
                  comment="the compliance technical file of the type"),
        sa.Column("variants", sa.Text(), nullable=False, comment="JSON: variant code -> VIN pattern"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_software_vehicle_type")),
        sa.UniqueConstraint("key", name=op.f("uq_software_vehicle_type_key")),
    )
    op.create_table(
        "software_report",
        sa.Column("id", _PK, nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("unit", sa.String(length=300), nullable=True, comment="the telematics unit that sent it"),
        sa.Column("channel", sa.String(length=10), nullable=False, comment="mqtt or http"),
        sa.Column("digest", sa.String(length=64), nullable=False, comment="SHA-256 of the payload as received"),
        sa.Column("reported_at", sa.BigInteger(), nullable=False, comment="the vehicle's own time"),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("ecus", sa.Text(), nullable=False, comment="JSON: the inventory, per ECU"),
        sa.Column("rxswin", sa.Text(), nullable=False, comment="JSON: the vehicle's RXSWINs (every ECU's)"),
        sa.Column("claim_campaign", sa.String(length=64), nullable=True),
        sa.Column("claim_status", sa.String(length=20), nullable=True),
        sa.Column("claim_detail", sa.String(length=500), nullable=True),
        sa.Column("note", sa.Text(), nullable=True, comment="why it changed less than it claims"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_software_report")),
        sa.UniqueConstraint("vin", "digest", name=op.f("uq_software_report_vin_digest")),
    )
    op.create_index("ix_software_report_vin_time", "software_report", ["vin", "reported_at"], unique=False)
    op.create_index("ix_software_report_claim", "software_report", ["claim_campaign"], unique=False)
    op.create_table(
        "software_campaign",
        sa.Column("id", _PK, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vehicle_type", sa.String(length=64), nullable=False),
        sa.Column("variants", sa.Text(), nullable=False, comment="JSON list; empty: every variant"),
        sa.Column("part_number", sa.String(length=100), nullable=False, comment="the ECU the update targets"),
        sa.Column("from_versions", sa.Text(), nullable=False, comment="JSON list; empty: every other version"),
        sa.Column("target_version", sa.String(length=100), nullable=False),
        sa.Column("target_rxswin", sa.Text(), nullable=False, comment="JSON list of RXSWINs the update brings"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_software_campaign")),
        sa.UniqueConstraint("key", name=op.f("uq_software_campaign_key")),
    )
    op.create_table(
        "software_campaign_state",
        sa.Column("id", _PK, nullable=False),
        sa.Column("campaign_id", _PK, nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("report_id", _PK, nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["software_campaign.id"],
                                name=op.f("fk_software_campaign_state_campaign_id_software_campaign")),
        sa.ForeignKeyConstraint(["report_id"], ["software_report.id"],
                                name=op.f("fk_software_campaign_state_report_id_software_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_software_campaign_state")),
    )
    op.create_index("ix_software_campaign_state_vin", "software_campaign_state", ["campaign_id", "vin"],
                    unique=False)
    op.create_index("ix_software_campaign_state_by_vin", "software_campaign_state", ["vin"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_software_campaign_state_by_vin", table_name="software_campaign_state")
    op.drop_index("ix_software_campaign_state_vin", table_name="software_campaign_state")
    op.drop_table("software_campaign_state")
    op.drop_table("software_campaign")
    op.drop_index("ix_software_report_claim", table_name="software_report")
    op.drop_index("ix_software_report_vin_time", table_name="software_report")
    op.drop_table("software_report")
    op.drop_table("software_vehicle_type")
