"""The HTTP client a regional node pushes battery health summaries with: ``POST /federation/peer/health`` on the
peer (documented in docs/regions-federation.md), authenticated with an API key of this node's party there
(``Authorization: Bearer …``), within a time limit — as recall relays reach their peers.

The peer's answer decides what the outbox does: 201 stored, 200 had it (both delivered); 400 or 409 (the
summary is malformed, or replayed / out of order) will not change on retry (refused for good); anything else —
down, too slow, 401/403 (a key not yet configured), 404 (no passport there yet), 5xx — is tried again.
"""

from __future__ import annotations

from typing import Any

from roadpass.regions.health_relay import PushRefused
from roadpass.regions.peer_client import peer_request
from roadpass.regions.ports import PeerUnavailable

__all__ = ["PEER_HEALTH_PATH", "HttpHealthClient"]

PEER_HEALTH_PATH = "/federation/peer/health"
_FINAL = frozenset({400, 409})


class HttpHealthClient:
    """Pushes summaries to peer nodes over HTTP(S) (one short-lived request each: summaries are daily)."""

    def push_health(self, url: str, api_key: str, body: dict[str, Any], *, timeout: float) -> bool:
        """Deliver ``body``; True when stored now (201), False when the peer had it (200)."""
        response = peer_request("POST", url.rstrip("/") + PEER_HEALTH_PATH, api_key, timeout, json=body)
        if response.status_code in (200, 201):
            return response.status_code == 201
        reason = response.text[:300]
        if response.status_code in _FINAL:
            raise PushRefused(response.status_code, reason)
        raise PeerUnavailable("refused", f"HTTP {response.status_code}: {reason}")
