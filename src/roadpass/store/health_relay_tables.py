"""The health relay's tables (docs/regions-federation.md, "Battery health across regions"): on a regional node
the durable outbox of pack health summaries for the maker's home node (one row per summary and peer, pending
until the peer has it), and on the home node the summaries received and written into passports (each once).

They register on the shared metadata of :mod:`roadpass.store.tables`. Instants are integer microseconds (UTC);
a summary is canonical JSON text (only what the transfer policy let cross: no VIN, no location, a date).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = ["region_health_outbox", "region_health_received"]

region_health_outbox = Table(
    "region_health_outbox",
    metadata,
    Column("id", PK, primary_key=True),
    Column("peer", String(100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
    Column("region", String(40), nullable=False, comment="the peer's region"),
    Column("battery_id", String(500), nullable=False, comment="the battery's own identifier"),
    Column("sequence", Integer, nullable=False, comment="the summary's number for this battery and peer, from 1"),
    Column("summary_id", String(64), nullable=False, comment="SHA-256 of the summary's canonical JSON"),
    Column("summary", Text, nullable=False, comment="JSON: the projected summary that is sent"),
    Column("state", String(20), nullable=False, comment="pending (in the outbox), delivered or refused"),
    Column("attempts", Integer, nullable=False, comment="failed delivery attempts"),
    Column("last_error", Text, nullable=True),
    Column("transfer_id", BigInteger, nullable=False, comment="its region_transfer row"),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    UniqueConstraint("peer", "battery_id", "sequence"),
    Index("ix_region_health_outbox_state_id", "state", "id"),
)
LEDGERED_COLUMNS["region_health_outbox"] = (
    "id", "peer", "region", "battery_id", "sequence", "summary_id", "summary", "transfer_id", "created_at",
)

region_health_received = Table(
    "region_health_received",
    metadata,
    Column("id", PK, primary_key=True),
    Column("origin_node", String(100), nullable=False, comment="the peer node that sent it"),
    Column("origin_region", String(40), nullable=False, comment="its region (from its party, never the body)"),
    Column("battery_id", String(500), nullable=False, comment="the battery's own identifier"),
    Column("sequence", Integer, nullable=False, comment="the sender's number for this battery"),
    Column("summary_id", String(64), nullable=False, comment="SHA-256 of the summary's canonical JSON"),
    Column("summary", Text, nullable=False, comment="JSON: the summary as received"),
    Column("passport_id", String(100), nullable=False, comment="the passport it was written into"),
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("summary_id"),
    UniqueConstraint("origin_node", "battery_id", "sequence"),
)
LEDGERED_COLUMNS["region_health_received"] = (
    "id", "origin_node", "origin_region", "battery_id", "sequence", "summary_id", "summary", "passport_id",
    "received_at",
)
