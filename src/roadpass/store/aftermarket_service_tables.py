"""Service records (work orders) and warranty claims, on the shared metadata (the domain never imports this).

A service record is written once and never changed: what a repairer did to a vehicle on a day. The parts it
removed and fitted are also captured as EPCIS AggregationEvents (the genealogy's truth); the
``service_record_part`` rows only let the record be shown, and recall completion be computed, without
re-reading events. A warranty claim changes status (submitted → accepted or rejected → settled); each step
is a new ``warranty_claim_step`` row and a ledger entry, the claim row carries the current status for
listing. Times are integer microseconds since the epoch, UTC; JSON is stored as text.

``service_record``, ``service_record_part`` and ``service_record_campaign`` are a fixed interface: the
recall campaigns read them to compute remedy completion.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = [
    "service_record",
    "service_record_campaign",
    "service_record_part",
    "warranty_claim",
    "warranty_claim_step",
]

service_record = Table(
    "service_record",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("record_key", String(100), nullable=False, unique=True, comment="the work order's own id"),
    Column("vin", String(17), nullable=False, index=True),
    Column("repairer_party_id", Integer, nullable=True, comment="party.id of the repairer (none: unknown)"),
    Column("performed_at", BigInteger, nullable=False, comment="when the work was done (UTC µs)"),
    Column("odometer_km", Integer, nullable=False),
    Column("technician", Text, nullable=False),
    Column("operations", Text, nullable=False, comment="JSON list of {code, description, hours}"),
    Column("recorded_at", BigInteger, nullable=False),
    Column("recorded_by", Text, nullable=False),
    # One write stamps its records with one recorded_at, unique per write: the ledger entry's subject.
    Index("ix_service_record_recorded_at", "recorded_at"),
)
LEDGERED_COLUMNS["service_record"] = (
    "id", "record_key", "vin", "repairer_party_id", "performed_at", "odometer_km", "technician", "operations",
    "recorded_at", "recorded_by",
)

service_record_part = Table(
    "service_record_part",
    metadata,
    Column("record_id", Integer, nullable=False),
    Column("role", String(8), nullable=False, comment="removed or fitted"),
    Column("epc", Text, nullable=False, comment="the serialised part, canonical key (GS1 Digital Link)"),
    Index("ix_service_record_part_record_id", "record_id"),
)

service_record_campaign = Table(
    "service_record_campaign",
    metadata,
    Column("record_id", Integer, nullable=False),
    Column("campaign_key", Text, nullable=False, comment="the recall campaign the work remedied"),
    Column("vin", Text, nullable=False),
    Index("ix_service_record_campaign_campaign_key_vin", "campaign_key", "vin"),
)

warranty_claim = Table(
    "warranty_claim",
    metadata,
    Column("id", PK, primary_key=True),
    Column("claim_key", String(100), nullable=False, unique=True),
    Column("vin", String(17), nullable=False, index=True),
    Column("epc", Text, nullable=False, comment="the claimed part's EPC URN"),
    Column("record_key", String(100), nullable=True, comment="the service record the repair was done under"),
    Column("repairer_party_id", Integer, nullable=True),
    Column("market", String(2), nullable=False, comment="ISO 3166-1 alpha-2 of the coverage applied"),
    Column("product", String(100), nullable=False, comment="the coverage table's product key"),
    Column("claimed_at", BigInteger, nullable=False, comment="the claim date coverage is judged on"),
    Column("odometer_km", Integer, nullable=False),
    Column("state_of_health", Integer, nullable=True, comment="% at the claim, when a battery is claimed"),
    Column("defect", Text, nullable=False),
    Column("amount_cents", Integer, nullable=True),
    Column("status", String(12), nullable=False, comment="submitted, accepted, rejected, settled"),
    Column("reason", Text, nullable=True, comment="why it was rejected, or the coverage it was accepted under"),
    Column("submitted_by", Text, nullable=False),
    Column("submitted_at", BigInteger, nullable=False),
)
LEDGERED_COLUMNS["warranty_claim"] = (
    "id", "claim_key", "vin", "epc", "record_key", "repairer_party_id", "market", "product", "claimed_at",
    "odometer_km", "state_of_health", "defect", "amount_cents", "submitted_by", "submitted_at",
)

warranty_claim_step = Table(
    "warranty_claim_step",
    metadata,
    Column("id", PK, primary_key=True),
    Column("claim_id", Integer, nullable=False, index=True),
    Column("status", String(12), nullable=False),
    Column("reason", Text, nullable=True),
    Column("rule", Text, nullable=True, comment="the coverage entry (and its citation) the step applied"),
    Column("amount_cents", Integer, nullable=True),
    Column("at", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
)
LEDGERED_COLUMNS["warranty_claim_step"] = ("id", "claim_id", "status", "reason", "rule", "amount_cents", "at", "actor")
