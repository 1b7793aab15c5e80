"""The HTTP client a node asks its peers with: roadpass's documented API, authenticated with an API key of
this node's party on the peer (``Authorization: Bearer …``), each call within a time limit.

What goes wrong is said, not swallowed: a peer that cannot be reached, does not answer in time, or answers
with an error raises :class:`~roadpass.regions.ports.PeerUnavailable` naming which, so the federated answer
can mark itself partial (issue: regional nodes §3, "never silently short").
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from roadpass.regions.ports import PeerUnavailable

__all__ = ["PEER_RECALLS_PATH", "PEER_WHERE_USED_PATH", "HttpPeerClient", "peer_request"]

#: The peer-side endpoints (documented in docs/regions-federation.md).
PEER_WHERE_USED_PATH = "/federation/peer/where-used"
PEER_RECALLS_PATH = "/federation/peer/recalls"


def peer_request(method: str, url: str, api_key: str, timeout: float, **kwargs: Any) -> httpx.Response:
    """One request to a peer node with this node's API key there; :class:`PeerUnavailable` naming why when the
    peer does not answer (every node-to-node client sends through here)."""
    headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
    try:
        return httpx.request(method, url, headers=headers, timeout=timeout, **kwargs)
    except httpx.TimeoutException as exc:
        raise PeerUnavailable("timeout", f"no answer within {timeout:g} s ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise PeerUnavailable("unreachable", f"{type(exc).__name__}: {exc}") from None


def _json(response: httpx.Response) -> dict[str, Any]:
    if response.status_code not in (200, 201):
        raise PeerUnavailable("refused", f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        body = response.json()
    except ValueError:
        raise PeerUnavailable("refused", "the answer is not JSON") from None
    if not isinstance(body, dict):
        raise PeerUnavailable("refused", "the answer is not a JSON object")
    return body


class HttpPeerClient:
    """Asks peer nodes over HTTP(S) (one short-lived request per question: peers are few, questions rare)."""

    def where_used(self, url: str, api_key: str, identifier: str, *, timeout: float) -> dict[str, Any]:
        """The peer's projected where-used answer; :class:`PeerUnavailable` when there is none."""
        return _json(peer_request("GET", url.rstrip("/") + PEER_WHERE_USED_PATH, api_key, timeout,
                                  params={"id": identifier}))

    def open_recall(self, url: str, api_key: str, definition: dict[str, Any], *, timeout: float) -> None:
        """The peer opens the campaign (201) or has it already (200)."""
        _json(peer_request("POST", url.rstrip("/") + PEER_RECALLS_PATH, api_key, timeout, json=definition))

    def recall_report(self, url: str, api_key: str, campaign_key: str, *, timeout: float) -> dict[str, Any]:
        """The peer's completion counts by market, projected by the peer for this node's region."""
        path = f"{url.rstrip('/')}{PEER_RECALLS_PATH}/{quote(campaign_key, safe='')}"
        return _json(peer_request("GET", path, api_key, timeout))
