"""The federation's table: recall campaigns this node relays to peer regions' nodes — a durable outbox (one
row per campaign and peer, pending until the peer has the campaign) and the completion counts each region
reported back (counts by market only).

It registers on the shared metadata of :mod:`roadpass.store.tables`. Instants are integer microseconds (UTC);
the definition and the report are canonical JSON text.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = ["federated_recall"]

federated_recall = Table(
    "federated_recall",
    metadata,
    Column("id", PK, primary_key=True),
    Column("campaign_key", String(100), nullable=False, comment="the campaign's key on every node"),
    Column("peer", String(100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
    Column("region", String(40), nullable=False, comment="the peer's region"),
    Column("definition", Text, nullable=False, comment="JSON: the non-personal campaign request sent"),
    Column("state", String(20), nullable=False, comment="pending (in the outbox) or delivered"),
    Column("attempts", Integer, nullable=False, comment="failed delivery attempts"),
    Column("last_error", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("delivered_at", BigInteger, nullable=True),
    Column("report", Text, nullable=True, comment="JSON: completion counts by market the region reported"),
    Column("reported_at", BigInteger, nullable=True),
    UniqueConstraint("campaign_key", "peer"),
)
LEDGERED_COLUMNS["federated_recall"] = ("id", "campaign_key", "peer", "region", "definition", "created_at")
