"""service records (work orders, their parts and recall campaigns) and warranty claims

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-06 04:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None

PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "service_record",
        sa.Column("id", PK, nullable=False, autoincrement=True),
        sa.Column("record_key", sa.String(length=100), nullable=False, comment="the work order's own id"),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("repairer_party_id", sa.Integer(), nullable=True,
                  comment="party.id of the repairer (none: unknown)"),
        sa.Column("performed_at", sa.BigInteger(), nullable=False, comment="when the work was done (UTC µs)"),
        sa.Column("odometer_km", sa.Integer(), nullable=False),
        sa.Column("technician", sa.Text(), nullable=False),
        sa.Column("operations", sa.Text(), nullable=False, comment="JSON list of {code, description, hours}"),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_record")),
        sa.UniqueConstraint("record_key", name=op.f("uq_service_record_record_key")),
    )
    op.create_index(op.f("ix_service_record_vin"), "service_record", ["vin"])
    op.create_index("ix_service_record_recorded_at", "service_record", ["recorded_at"])
    op.create_table(
        "service_record_part",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False, comment="removed or fitted"),
        sa.Column("epc", sa.Text(), nullable=False, comment="the serialised part, canonical key (GS1 Digital Link)"),
    )
    op.create_index("ix_service_record_part_record_id", "service_record_part", ["record_id"])
    op.create_table(
        "service_record_campaign",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("campaign_key", sa.Text(), nullable=False, comment="the recall campaign the work remedied"),
        sa.Column("vin", sa.Text(), nullable=False),
    )
    op.create_index("ix_service_record_campaign_campaign_key_vin", "service_record_campaign",
                    ["campaign_key", "vin"])
    op.create_table(
        "warranty_claim",
        sa.Column("id", PK, nullable=False),
        sa.Column("claim_key", sa.String(length=100), nullable=False),
        sa.Column("vin", sa.String(length=17), nullable=False),
        sa.Column("epc", sa.Text(), nullable=False, comment="the claimed part's EPC URN"),
        sa.Column("record_key", sa.String(length=100), nullable=True,
                  comment="the service record the repair was done under"),
        sa.Column("repairer_party_id", sa.Integer(), nullable=True),
        sa.Column("market", sa.String(length=2), nullable=False,
                  comment="ISO 3166-1 alpha-2 of the coverage applied"),
        sa.Column("product", sa.String(length=100), nullable=False, comment="the coverage table's product key"),
        sa.Column("claimed_at", sa.BigInteger(), nullable=False, comment="the claim date coverage is judged on"),
        sa.Column("odometer_km", sa.Integer(), nullable=False),
        sa.Column("state_of_health", sa.Integer(), nullable=True,
                  comment="% at the claim, when a battery is claimed"),
        sa.Column("defect", sa.Text(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False, comment="submitted, accepted, rejected, settled"),
        sa.Column("reason", sa.Text(), nullable=True,
                  comment="why it was rejected, or the coverage it was accepted under"),
        sa.Column("submitted_by", sa.Text(), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warranty_claim")),
        sa.UniqueConstraint("claim_key", name=op.f("uq_warranty_claim_claim_key")),
    )
    op.create_index(op.f("ix_warranty_claim_vin"), "warranty_claim", ["vin"])
    op.create_table(
        "warranty_claim_step",
        sa.Column("id", PK, nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=True,
                  comment="the coverage entry (and its citation) the step applied"),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warranty_claim_step")),
    )
    op.create_index(op.f("ix_warranty_claim_step_claim_id"), "warranty_claim_step", ["claim_id"])


def downgrade() -> None:
    for table in ("warranty_claim_step", "warranty_claim", "service_record_campaign", "service_record_part",
                  "service_record"):
        op.drop_table(table)
