"""The aggregates' tables (docs/regions-federation.md, "Aggregates to peers"): batches of counts this node
sends to peers (a durable outbox, pending until the peer stored the batch), each peer's cursor over the
transfer records already batched, the events each peer's batches counted (so that none is counted twice),
and the batches peers delivered here (stored once per sender and batch).

They register on the shared metadata of :mod:`roadpass.store.tables`. Instants are integer microseconds (UTC);
bodies are canonical JSON text.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = [
    "region_aggregate_counted", "region_aggregate_cursor", "region_aggregate_outbox", "region_aggregate_received",
]

region_aggregate_outbox = Table(
    "region_aggregate_outbox",
    metadata,
    Column("id", PK, primary_key=True),
    Column("peer", String(100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
    Column("region", String(40), nullable=False, comment="the peer's region"),
    Column("body", Text, nullable=False, comment="JSON: the counts per group, what was suppressed, k, bases"),
    Column("state", String(20), nullable=False, comment="pending (in the outbox) or delivered"),
    Column("attempts", Integer, nullable=False, comment="failed delivery attempts"),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("first_transfer", BigInteger, nullable=False, comment="the first region_transfer id it counts"),
    Column("last_transfer", BigInteger, nullable=False, comment="the last region_transfer id it counts"),
    Index("ix_region_aggregate_outbox_state_id", "state", "id"),
)
LEDGERED_COLUMNS["region_aggregate_outbox"] = ("id", "peer", "region", "body", "created_at", "first_transfer",
                                               "last_transfer")

region_aggregate_cursor = Table(
    "region_aggregate_cursor",
    metadata,
    Column("peer", String(100), primary_key=True, comment="the peer node's name"),
    Column("batched_to", BigInteger, nullable=False, comment="the last region_transfer id batched for it"),
)

region_aggregate_counted = Table(
    "region_aggregate_counted",
    metadata,
    Column("peer", String(100), primary_key=True, comment="the peer node's name"),
    Column("event_id", String(300), primary_key=True, comment="an event withheld from it and counted"),
    Column("batch", BigInteger, nullable=False, comment="the outbox batch that counted it"),
)

region_aggregate_received = Table(
    "region_aggregate_received",
    metadata,
    Column("id", PK, primary_key=True),
    Column("sender", String(100), nullable=False, comment="the sending peer node (from its authenticated party)"),
    Column("region", String(40), nullable=False, comment="the sender's region (as configured here)"),
    Column("batch", BigInteger, nullable=False, comment="the sender's batch number"),
    Column("body", Text, nullable=False, comment="JSON: the batch as delivered"),
    Column("received_at", BigInteger, nullable=False),
    UniqueConstraint("sender", "batch"),
)
LEDGERED_COLUMNS["region_aggregate_received"] = ("id", "sender", "region", "batch", "body", "received_at")
