"""How a node delivers an aggregates batch to a peer over HTTP: roadpass's documented API
(``POST /federation/peer/aggregates``), authenticated as the other node-to-node calls are — an API key of this
node's party on the peer (``apiKey`` of the peer in ``ROADPASS_PEERS``), within a time limit. What goes wrong
raises :class:`~roadpass.regions.ports.PeerUnavailable` naming it (the outbox keeps the batch)."""

from __future__ import annotations

from typing import Any

from roadpass.regions.peer_client import peer_request
from roadpass.regions.ports import PeerUnavailable

__all__ = ["PEER_AGGREGATES_PATH", "HttpAggregateClient"]

#: The peer-side endpoint (docs/regions-federation.md, "Aggregates to peers").
PEER_AGGREGATES_PATH = "/federation/peer/aggregates"


class HttpAggregateClient:
    """Delivers aggregates batches to peer nodes (one short-lived request per batch)."""

    def deliver(self, url: str, api_key: str, body: dict[str, Any], *, timeout: float) -> bool:
        """The peer stores the batch: True when it is new there (201), False when it had it (200)."""
        response = peer_request("POST", url.rstrip("/") + PEER_AGGREGATES_PATH, api_key, timeout, json=body)
        if response.status_code not in (200, 201):
            raise PeerUnavailable("refused", f"HTTP {response.status_code}: {response.text[:200]}")
        return response.status_code == 201
