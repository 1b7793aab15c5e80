"""Software-update tables (UN R156): vehicle types, reports as the vehicles sent them, campaigns, states.

They register on the shared metadata of :mod:`roadpass.store.tables`. Every row is append-only (a state change
is a new ``software_campaign_state`` row), so a ledger entry's content hash never goes stale. Instants are
integer microseconds (UTC); lists are canonical JSON text. VINs are not foreign keys to the trace tables: a
report is kept for the VIN the genealogy named at report time.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = ["software_campaign", "software_campaign_state", "software_report", "software_vehicle_type"]

software_vehicle_type = Table(
    "software_vehicle_type",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("product_key", String(100), nullable=True, comment="the compliance technical file of the type"),
    Column("variants", Text, nullable=False, comment="JSON: variant code -> VIN pattern"),
    Column("actor", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

software_report = Table(
    "software_report",
    metadata,
    Column("id", PK, primary_key=True),
    Column("vin", String(17), nullable=False),
    Column("unit", String(300), nullable=True, comment="the telematics unit that sent it"),
    Column("channel", String(10), nullable=False, comment="mqtt or http"),
    Column("digest", String(64), nullable=False, comment="SHA-256 of the payload as received"),
    Column("reported_at", BigInteger, nullable=False, comment="the vehicle's own time"),
    Column("received_at", BigInteger, nullable=False),
    Column("ecus", Text, nullable=False, comment="JSON: the inventory, per ECU"),
    Column("rxswin", Text, nullable=False, comment="JSON: the vehicle's RXSWINs (every ECU's)"),
    Column("claim_campaign", String(64), nullable=True),
    Column("claim_status", String(20), nullable=True),
    Column("claim_detail", String(500), nullable=True),
    Column("note", Text, nullable=True, comment="why it changed less than it claims"),
    Column("actor", String(200), nullable=False),
    UniqueConstraint("vin", "digest"),
    Index("ix_software_report_vin_time", "vin", "reported_at"),
    Index("ix_software_report_claim", "claim_campaign"),
)

software_campaign = Table(
    "software_campaign",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("vehicle_type", String(64), nullable=False),
    Column("variants", Text, nullable=False, comment="JSON list; empty: every variant"),
    Column("part_number", String(100), nullable=False, comment="the ECU the update targets"),
    Column("from_versions", Text, nullable=False, comment="JSON list; empty: every other version"),
    Column("target_version", String(100), nullable=False),
    Column("target_rxswin", Text, nullable=False, comment="JSON list of RXSWINs the update brings"),
    Column("actor", String(200), nullable=False),
    Column("opened_at", BigInteger, nullable=False),
)

software_campaign_state = Table(
    "software_campaign_state",
    metadata,
    Column("id", PK, primary_key=True),
    Column("campaign_id", ForeignKey("software_campaign.id"), nullable=False),
    Column("vin", String(17), nullable=False),
    Column("state", String(20), nullable=False),
    Column("at", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("report_id", ForeignKey("software_report.id"), nullable=True),
    Column("actor", String(200), nullable=False),
    Index("ix_software_campaign_state_vin", "campaign_id", "vin"),
    Index("ix_software_campaign_state_by_vin", "vin"),
)

LEDGERED_COLUMNS["software_vehicle_type"] = ("id", "key", "name", "product_key", "variants", "actor", "created_at")
LEDGERED_COLUMNS["software_report"] = (
    "id", "vin", "unit", "channel", "digest", "reported_at", "received_at", "ecus", "rxswin", "claim_campaign",
    "claim_status", "claim_detail", "note", "actor",
)
LEDGERED_COLUMNS["software_campaign"] = (
    "id", "key", "name", "vehicle_type", "variants", "part_number", "from_versions", "target_version",
    "target_rxswin", "actor", "opened_at",
)
LEDGERED_COLUMNS["software_campaign_state"] = (
    "id", "campaign_id", "vin", "state", "at", "reason", "report_id", "actor",
)
