"""The region service: this node's region and identity, its peers, the border to each, and the projection of a
subscription's events for the peer it delivers to — each such transfer written to the ledger.

Built once by bootstrap. The transfer policy is read again whenever its file changes (checked at every
transfer), so a policy edit governs the next transfer (issue: regional nodes, "a policy change takes effect
for the next transfer").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.regions.audit import MASTER_DATA_KIND, AuditReport, audit_item, origin_of
from roadpass.regions.policy import PolicyError, TransferPolicy, load_classification, load_policy, load_regions
from roadpass.regions.ports import DeliveryStates, SubscriptionLike, TransferRecords, TransferRow
from roadpass.regions.projection import Border
from roadpass.regions.pseudonymise import Pseudonymiser
from roadpass.regions.transfer import (
    UNKNOWN_REGION,
    Peer,
    external_destination,
    parse_peers,
    project_page,
    unknown_destination_policy,
)

__all__ = ["TRANSFER_ACTION", "NodeStatus", "PeerStatus", "RegionService"]

TRANSFER_ACTION = "regions.transfer"
_AUDIT_BATCH = 500


@dataclass(frozen=True, slots=True)
class PeerStatus:
    """One peer as this node sees it: its subscriptions' outbox depth (events not yet acknowledged), failed
    attempts, the last error, and the last transfer per class of data (decision and basis, when)."""

    peer: Peer
    subscriptions: list[dict[str, Any]]
    last_transfer: dict[str, dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """The peer's status as the API and CLI show it."""
        return {**self.peer.as_json(), "subscriptions": self.subscriptions, "lastTransferPerClass": self.last_transfer,
                "outboxDepth": sum(s["outboxDepth"] for s in self.subscriptions)}


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """This node (name, region, policy version) and each peer's status."""

    node: str
    region: str | None
    policy_version: str
    peers: list[PeerStatus]

    def as_json(self) -> dict[str, Any]:
        """The status as the API and CLI show it."""
        return {"node": self.node, "region": self.region, "policyVersion": self.policy_version,
                "peers": [p.as_json() for p in self.peers]}


class RegionService:
    """Residency for one node: which region it is in, who its peers are, and what may cross to each."""

    def __init__(self, transfers: Transactions[TransferRecords], *, region: str | None, node_id: str | None,
                 key: bytes | None, policy_path: Path | None, peers: Sequence[Mapping[str, Any]]) -> None:
        self.transfers = transfers
        self.regions = load_regions()
        if region is not None and region not in self.regions:
            raise PolicyError("ROADPASS_REGION", f"{region!r} is not one of {', '.join(sorted(self.regions))}")
        if region is not None and key is None:
            raise PolicyError("ROADPASS_PSEUDONYM_KEY", "a node with a region needs its pseudonymisation key")
        self.region = region
        self.node_id = node_id or region or "roadpass"
        self.peers = parse_peers(peers, self.regions)
        self.classification = load_classification(regions=self.regions)
        self.policy_path = policy_path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._policy = self._load()
        self._pseudonymiser = Pseudonymiser(region, key) if region is not None and key is not None else None
        self.deliveries: DeliveryStates | None = None  # the subscriptions feature, set by bootstrap

    # --- the policy, read again when its file changes ---------------------------------------------------

    def _load(self) -> TransferPolicy:
        stamp = None
        if self.policy_path is not None:
            stat = self.policy_path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        policy = load_policy(regions=self.regions, path=self.policy_path)
        # Only a policy that parsed is remembered: a broken edit keeps failing (no transfer goes out under the
        # old rules unnoticed) until it is fixed.
        self._stamp = stamp
        return policy

    def policy(self) -> TransferPolicy:
        """The transfer policy as its file stands now (one ``stat`` per call; parsed again only on change)."""
        if self.policy_path is None:
            return self._policy
        stat = self.policy_path.stat()
        with self._lock:
            if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                self._policy = self._load()
            return self._policy

    # --- borders and projection -------------------------------------------------------------------------

    def peer(self, node: str) -> Peer:
        """The peer named ``node`` (LookupError when none is)."""
        for peer in self.peers:
            if peer.node == node:
                return peer
        raise LookupError(node)

    def peer_for(self, dest: str) -> Peer | None:
        """The peer a webhook ``dest`` delivers to, if any."""
        return next((peer for peer in self.peers if peer.serves(dest)), None)

    def border(self, peer: Peer) -> Border:
        """The border from this node's region to ``peer``'s, under the policy as it stands now."""
        if self.region is None or self._pseudonymiser is None:
            raise PolicyError("ROADPASS_REGION", "this node has no region: it has no borders")
        return Border(self.region, peer.region, self.policy(), self.classification, self._pseudonymiser)

    def unknown_border(self) -> Border:
        """The border to a destination that is no peer: a foreign region no rule names, where only non-personal
        data may go (:func:`roadpass.regions.transfer.unknown_destination_policy`, GDPR Art. 44)."""
        if self.region is None or self._pseudonymiser is None:
            raise PolicyError("ROADPASS_REGION", "this node has no region: it has no borders")
        return Border(self.region, UNKNOWN_REGION, unknown_destination_policy(self.policy()), self.classification,
                      self._pseudonymiser)

    def project(self, subscription: SubscriptionLike,
                events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The subscriptions feature's projector: ``events`` as they may go to the subscription's destination,
        and what was done to them. On a node without a region nothing is projected (empty summary). A
        destination that is no peer is projected as a foreign region no rule names (only non-personal data
        crosses). Each transfer is recorded and ledgered, with who asked, the basis per class and what was
        removed, pseudonymised or withheld, before the events leave."""
        if self.region is None or not events:
            return events, {}
        dest = subscription.request.dest
        peer = self.peer_for(dest)
        sent, summary = project_page(events, self.border(peer) if peer is not None else self.unknown_border())
        body = summary.as_json()
        where = peer.node if peer is not None else external_destination(dest)
        row = TransferRow(peer=where, origin=summary.origin, destination=summary.destination,
                          subscription_id=subscription.id, subscriber=subscription.party or subscription.actor,
                          policy_version=summary.policy_version, events=summary.events, sent=summary.sent,
                          summary=body, at=time.time_ns() // 1000)
        rule = f"transfer policy {summary.policy_version}: " + "; ".join(
            f"{name} {basis}" for name, basis in sorted(summary.bases.items()))
        # GDPR Art. 30(1)(e) (records of processing name each transfer to a third country) and Art. 5(2)
        # (accountability): every transfer is recorded, with its basis, before the events leave.
        with self.transfers.write() as records:
            pk = records.insert_transfer(row)
            records.append_ledger(f"node:{self.node_id}", TRANSFER_ACTION, rule,
                                  (Subject("region_transfer", "id", pk),))
        return sent, body

    # --- status -------------------------------------------------------------------------------------------

    def transfers_to(self, node: str, limit: int = 100) -> list[TransferRow]:
        """The newest transfers to peer ``node``, newest first."""
        with self.transfers.read() as records:
            return records.transfers(peer=node, limit=limit)

    def status(self, *, party: str | None = None) -> NodeStatus:
        """This node and its peers: outbox depth per peer subscription (of party ``party`` only, unless None)
        and the last transfer per class."""
        states = [] if self.deliveries is None else list(self.deliveries.overview(party_scope=None))
        if party is not None:
            states = [s for s in states if s.subscription.party == party]
        peers: list[PeerStatus] = []
        for peer in self.peers:
            subscriptions = [
                {"subscriptionID": s.subscription.id, "query": s.subscription.query_name,
                 "dest": s.subscription.request.dest,
                 "outboxDepth": 0 if s.pending_first is None or s.pending_last is None
                 else max(0, s.pending_last - s.pending_first + 1),
                 "failedAttempts": s.attempts, "lastError": s.last_error}
                for s in states if peer.serves(s.subscription.request.dest)]
            last: dict[str, dict[str, Any]] = {}
            for transfer in self.transfers_to(peer.node):  # newest first: the first seen per class is the last
                for data_class, basis in transfer.summary.get("bases", {}).items():
                    last.setdefault(data_class, {"at": transfer.at, "rule": basis, "transfer": transfer.id})
            peers.append(PeerStatus(peer, subscriptions, last))
        return NodeStatus(self.node_id, self.region, self.policy().version, peers)

    # --- the residency audit ------------------------------------------------------------------------------

    def audit(self) -> AuditReport:
        """Scan this node's stored events and master data (in batches, each its own read) and report every
        datum the transfer policy does not allow in this region (:mod:`roadpass.regions.audit`)."""
        if self.region is None:
            raise PolicyError("ROADPASS_REGION", "this node has no region: there is nothing to audit against")
        policy = self.policy()
        report = AuditReport(self.region, policy.version)
        for kind in ("epcis_event", MASTER_DATA_KIND):
            after, scanned = 0, 0
            while True:
                with self.transfers.read() as records:
                    items = records.stored_items(kind, after=after, limit=_AUDIT_BATCH)
                for item in items:
                    report.findings += audit_item(item, origin=origin_of(item.actor, self.peers, self.region),
                                                  here=self.region, policy=policy, classification=self.classification)
                scanned += len(items)
                if len(items) < _AUDIT_BATCH:
                    break
                after = items[-1].row
            report.scanned[kind] = scanned
        return report
