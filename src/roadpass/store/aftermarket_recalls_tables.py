"""Recall campaigns, the vehicles and units they reach, and their notices, on the shared metadata.

A campaign row is written once. ``recall_vehicle`` keeps one row per VIN the scope ever reached;
``carries_now`` and ``checked_at`` are derived state (re-computed from where-used on every refresh, not
ledgered), the rest is ledgered by the write that added the row (``op_id``). ``recall_unit`` is a derived
index (the units a parts check asks about), rebuilt on each refresh. Completion is not stored: it is read from
the service records that reference the campaign (``service_record_campaign.campaign_key``).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, SmallInteger, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = ["recall_campaign", "recall_notice", "recall_unit", "recall_vehicle"]

recall_campaign = Table(
    "recall_campaign",
    metadata,
    Column("id", PK, primary_key=True),
    Column("campaign_key", String(64), nullable=False, unique=True, comment="what service records reference"),
    Column("title", Text, nullable=False),
    Column("manufacturer", Text, nullable=False),
    Column("owner_party", String(200), nullable=False, comment="party key of the manufacturer that opened it"),
    Column("defect", Text, nullable=False, comment="JSON: description, risk, component, determinedOn, …"),
    Column("remedy", Text, nullable=False, comment="JSON: description, parts (GTIN-14), operations"),
    Column("scope", Text, nullable=False, comment="JSON: lots, units, serialRanges, productionWindow, supplier"),
    Column("dates", Text, nullable=False, comment="JSON: ISO dates (dealerNoticeOn, remedyDueOn, …)"),
    Column("market_due", Text, nullable=False, comment="JSON: remedy due date per market"),
    Column("refs", Text, nullable=False, comment="JSON: numbers authorities gave the campaign"),
    Column("contact", Text, nullable=False, comment="JSON: the official an authority contacts"),
    Column("created_at", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)
LEDGERED_COLUMNS["recall_campaign"] = (
    "id", "campaign_key", "title", "manufacturer", "owner_party", "defect", "remedy", "scope", "dates", "market_due",
    "refs", "contact", "created_at", "created_by", "op_id",
)

recall_vehicle = Table(
    "recall_vehicle",
    metadata,
    Column("id", PK, primary_key=True),
    Column("campaign_id", Integer, nullable=False),
    Column("vin", String(17), nullable=False, index=True),
    Column("unit_key", String(300), nullable=False, comment="the vehicle's canonical key"),
    Column("market", String(2), nullable=True, comment="where sold or registered when reached"),
    Column("via", Text, nullable=False, comment="JSON list: units below the vehicle that brought the defect"),
    Column("first_seen", BigInteger, nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
    Column("carries_now", SmallInteger, nullable=False, comment="derived: 1 while the defective unit is fitted"),
    Column("checked_at", BigInteger, nullable=False, comment="derived: when carries_now was last computed"),
    UniqueConstraint("campaign_id", "vin"),
)
LEDGERED_COLUMNS["recall_vehicle"] = ("id", "campaign_id", "vin", "unit_key", "market", "via", "first_seen", "op_id")

recall_unit = Table(
    "recall_unit",
    metadata,
    Column("id", PK, primary_key=True),
    Column("campaign_id", Integer, nullable=False, index=True),
    Column("unit_key", String(300), nullable=False),
    Column("vin", String(17), nullable=True, comment="the vehicle it is or was in (none: a unit in scope)"),
    Column("carries_now", SmallInteger, nullable=False),
    Index("ix_recall_unit_unit_key", "unit_key"),
)

recall_notice = Table(
    "recall_notice",
    metadata,
    Column("id", PK, primary_key=True),
    Column("campaign_id", Integer, nullable=False, index=True),
    Column("market", String(2), nullable=False),
    Column("party_key", String(200), nullable=False, index=True, comment="the dealer or repairer notified"),
    Column("role", String(20), nullable=False),
    Column("vehicles", Integer, nullable=False, comment="affected vehicles of that market when notified"),
    Column("created_at", BigInteger, nullable=False),
    Column("op_id", String(40), nullable=False, index=True),
)
LEDGERED_COLUMNS["recall_notice"] = ("id", "campaign_id", "market", "party_key", "role", "vehicles", "created_at",
                                     "op_id")
