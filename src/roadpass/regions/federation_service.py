"""The federation service: a where-used asked on this node and answered by every region's node, and this
node's answer when a peer asks it — projected for the asking region and ledgered as a transfer.

Nodes ask each other through roadpass's documented API (``GET /federation/peer/where-used``) with an API key
of the asking node's party on the peer (``apiKey`` of the peer in ``ROADPASS_PEERS``); the peer knows which
region asks from that party (``party`` of the asking node in its own ``ROADPASS_PEERS``), never from anything
the request claims. Peers are asked in parallel, each with a time limit; one that does not answer in time,
is down or refuses is named and makes the answer partial (issue: regional nodes §3).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from roadpass.ledger.chain import Subject
from roadpass.regions.federation import ANSWERED, FederatedWhereUsed, RegionAnswer, project_where_used
from roadpass.regions.ports import PeerClient, PeerUnavailable, TransferRow
from roadpass.regions.service import RegionService
from roadpass.regions.transfer import Peer
from roadpass.trace.genealogy import WhereUsedResult
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.query import Visibility
from roadpass.trace.service import Hidden, TraceService, UnitNotFound
from roadpass.trace.timeutil import FOREVER, iso_utc

__all__ = ["WHERE_USED_ACTION", "WHERE_USED_CHANNEL", "FederationService", "NotAPeer"]

#: The ledger action of a where-used answer given to a peer (a transfer: GDPR Art. 30(1)(e), Art. 5(2)).
WHERE_USED_ACTION = "regions.where_used"
#: The transfer rows of where-used answers carry this in place of a subscription id.
WHERE_USED_CHANNEL = "federation:where-used"
DEFAULT_TIMEOUT = 5.0


class NotAPeer(LookupError):
    """The caller's party is no peer node's party on this node: it may not ask as a region."""


def _where_used_body(identifier: str, result: WhereUsedResult | None) -> dict[str, Any]:
    """A where-used answer in the shape of ``GET /trace/where-used`` (empty when the unit is not known here
    or nothing of it is the caller's: to another region both mean "no vehicles here")."""
    if result is None:
        return {"id": identifier, "vehicles": 0, "vehiclesNow": 0, "hitCount": 0, "byMarket": {},
                "bySupplier": {}, "hits": []}
    return {
        "id": identifier, "vehicles": result.vehicles, "vehiclesNow": result.vehicles_now, "hitCount": len(result),
        "byMarket": result.by_market, "bySupplier": result.by_supplier,
        "hits": [{"id": h.key, "vin": h.vin, "market": h.market, "current": h.current,
                  "intervals": [{"from": iso_utc(s.start), "to": None if s.end >= FOREVER else iso_utc(s.end)}
                                for s in h.spans],
                  "via": list(h.via), "suppliers": list(h.suppliers)} for h in result],
    }


class FederationService:
    """Where-used across regions, for this node and for the peers that ask it."""

    def __init__(self, regions: RegionService, trace: TraceService, client: PeerClient, *,
                 api_keys: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.regions = regions
        self.trace = trace
        self.client = client
        self.api_keys = dict(api_keys)
        self.timeout = timeout

    # --- the peer side: answer a region that asks ---------------------------------------------------------

    def peer_and_key(self, node: str) -> tuple[Peer, str]:
        """The peer named ``node`` and this node's API key for it; :class:`PeerUnavailable` (refused) when
        either is not configured, as a delivery to it records."""
        key = self.api_keys.get(node)
        peer = next((p for p in self.regions.peers if p.node == node), None)
        if peer is None or key is None:
            raise PeerUnavailable("refused", "the peer or its API key (apiKey) is not configured")
        return peer, key

    def peer_of_party(self, party: str | None) -> Peer:
        """The peer whose node asks as ``party`` on this node; :class:`NotAPeer` when none does."""
        found = next((p for p in self.regions.peers if party is not None and p.party == party), None)
        if found is None or self.regions.region is None:
            raise NotAPeer(party or "")
        return found

    def local_where_used(self, identifier: str, visibility: Visibility | None) -> dict[str, Any]:
        """This node's own where-used answer for ``identifier`` as far as ``visibility`` sees (unprojected)."""
        try:
            unit, result = self.trace.where_used(identifier, visibility=visibility)
        except (Hidden, UnitNotFound):
            return _where_used_body(identifier, None)
        return _where_used_body(unit.key, result)

    def answer_where_used(self, identifier: str, *, party: str | None,
                          visibility: Visibility | None) -> dict[str, Any]:
        """The where-used answer for the peer that asks as ``party``: what the caller sees here, projected for
        the peer's region, recorded and ledgered as a transfer (basis per class, what was removed or
        pseudonymised) before it leaves."""
        peer = self.peer_of_party(party)
        body = self.local_where_used(identifier, visibility)
        border = self.regions.border(peer)
        projection = project_where_used(body, border)
        answer = projection.event or {}
        summary = {"origin": border.origin, "destination": border.destination, "policyVersion": border.policy.version,
                   "asked": identifier, **projection.summary()}
        row = TransferRow(peer=peer.node, origin=border.origin, destination=border.destination,
                          subscription_id=WHERE_USED_CHANNEL, subscriber=party or "",
                          policy_version=border.policy.version,
                          events=int(body["hitCount"]), sent=len(answer.get("hits") or ()), summary=summary,
                          at=time.time_ns() // 1000)
        rule = f"transfer policy {border.policy.version}: " + "; ".join(summary["bases"])
        # GDPR Art. 30(1)(e) and Art. 5(2): each answer to another region is a transfer, recorded with its
        # basis before it leaves.
        with self.regions.transfers.write() as records:
            pk = records.insert_transfer(row)
            records.append_ledger(f"node:{self.regions.node_id}", WHERE_USED_ACTION, rule,
                                  (Subject("region_transfer", "id", pk),))
        return {**answer, "node": self.regions.node_id, "region": border.origin,
                "policyVersion": border.policy.version, "projection": projection.summary()}

    # --- the asking side: every region's answer -----------------------------------------------------------

    @staticmethod
    def _owns(identifier: str, visibility: Visibility) -> bool:
        try:
            key = canonical_id(identifier.strip())
        except IdentifierError:
            return False
        return visibility.sees_unit(key)

    def _ask(self, peer: Peer, identifier: str) -> RegionAnswer:
        key = self.api_keys.get(peer.node)
        if key is None:
            return RegionAnswer(peer.node, peer.region, "refused", reason="no API key for this peer (apiKey)")
        try:
            answer = self.client.where_used(peer.url, key, identifier, timeout=self.timeout)
        except PeerUnavailable as exc:
            return RegionAnswer(peer.node, peer.region, exc.status, reason=exc.reason)
        return RegionAnswer(peer.node, peer.region, ANSWERED, answer=answer)

    def where_used(self, identifier: str, *, visibility: Visibility | None) -> FederatedWhereUsed:
        """``identifier``'s where-used in every region: this node's own (as ``visibility`` sees it) and each
        peer's, asked in parallel, as each peer's policy lets it cross; partial when a peer did not answer.

        Peers are asked with this node's party, which sees the maker's whole blast radius there; so only a
        caller who owns the unit or lot asked about (or sees everything) gets their answers. Anyone else gets
        this node's answer as far as it sees, and the other regions marked ``withheld`` (the answer partial)."""
        own = RegionAnswer(self.regions.node_id, self.regions.region or "", ANSWERED,
                           answer=self.local_where_used(identifier, visibility))
        peers = list(self.regions.peers)
        if not peers:
            return FederatedWhereUsed.of(identifier, [own])
        if visibility is not None and not self._owns(identifier, visibility):
            return FederatedWhereUsed.of(identifier, [own, *(
                RegionAnswer(p.node, p.region, "withheld", reason="other regions answer the owner of the unit or lot")
                for p in peers)])
        with ThreadPoolExecutor(max_workers=min(8, len(peers)), thread_name_prefix="federation") as pool:
            answers = list(pool.map(lambda peer: self._ask(peer, identifier), peers))
        return FederatedWhereUsed.of(identifier, [own, *answers])
