"""The regions feature's table: every transfer to a peer node, as ledgered (append-only).

It registers on the shared metadata of :mod:`roadpass.store.tables`. Instants are integer microseconds (UTC);
the summary is canonical JSON text (what was removed, pseudonymised, withheld, and the basis per class).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = ["region_transfer"]

region_transfer = Table(
    "region_transfer",
    metadata,
    Column("id", PK, primary_key=True),
    Column("peer", String(100), nullable=False, comment="the peer node's name (ROADPASS_PEERS)"),
    Column("origin", String(40), nullable=False, comment="this node's region"),
    Column("destination", String(40), nullable=False, comment="the peer's region"),
    Column("subscription_id", String(64), nullable=False, comment="the subscription that carried it"),
    Column("subscriber", String(200), nullable=False, comment="the party (else actor) that subscribed"),
    Column("policy_version", String(40), nullable=False),
    Column("events", Integer, nullable=False, comment="events offered"),
    Column("sent", Integer, nullable=False, comment="events sent (the rest stayed home)"),
    Column("summary", Text, nullable=False, comment="JSON: removed, pseudonymised, aggregated, bases"),
    Column("at", BigInteger, nullable=False),
    Index("ix_region_transfer_peer_id", "peer", "id"),
)
LEDGERED_COLUMNS["region_transfer"] = (
    "id", "peer", "origin", "destination", "subscription_id", "subscriber", "policy_version", "events", "sent",
    "summary", "at",
)
