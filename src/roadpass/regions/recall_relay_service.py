"""The recall relay: the home node hands a campaign's non-personal definition to every peer region's node
through a durable outbox, and reads back each region's completion counts; a regional node opens the campaign
it is handed (resolving and notifying locally) and reports counts by market only.

Transport: roadpass's documented API (``POST /federation/peer/recalls``, ``GET
/federation/peer/recalls/{key}``) with the home node's party's API key on each peer, not an EPCIS
subscription: a campaign is neither an event nor master data of a unit (EPCIS 2.0 §7 has no vocabulary for
it), and the peer must answer with what it did (opened, already had, refused) for the outbox to know when
to stop. The outbox is a table (``federated_recall``): a row per campaign and peer stays ``pending`` until
the peer confirms, and every relay, status read and ``roadpass nodes recall-status`` delivers what is pending
(opening is idempotent on the campaign key: a repeat delivery finds the campaign there and changes nothing).
While ``roadpass serve`` runs, the relay worker (:mod:`roadpass.regions.relay_worker`) runs :meth:`round`:
campaigns opened here are relayed, pending definitions go out and completion counts come back without anyone
relaying by hand or reading a status.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from typing import Any

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.regions.federation_service import FederationService
from roadpass.regions.outbox import deliver_in_order, send_recorded
from roadpass.regions.ports import PeerUnavailable, RecallPeerClient, TransferRow
from roadpass.regions.recall_relay import (
    DELIVERED,
    PENDING,
    CampaignSource,
    RelayRecords,
    RelayRow,
    RelayStatus,
    Unrestricted,
    project_report,
    to_relay,
)
from roadpass.regions.transfer import Peer

__all__ = ["RELAY_ACTION", "REPORT_ACTION", "RecallRelayService"]

RELAY_ACTION = "regions.recall.relay"
REPORT_ACTION = "regions.recall.report"
REPORT_CHANNEL = "federation:recall-report"


def _now_us() -> int:
    return time.time_ns() // 1000


class RecallRelayService:
    """Recall campaigns across regions, on the node that defines them and on the nodes that carry them out."""

    def __init__(self, records: Transactions[RelayRecords], federation: FederationService,
                 campaigns: CampaignSource, client: RecallPeerClient) -> None:
        self.records = records
        self.federation = federation
        self.campaigns = campaigns
        self.client = client
        #: How old a region's last report may grow before the relay worker asks again (seconds): each report
        #: is a transfer the region records and ledgers, so it is asked for now and then, not every round.
        self.report_every = 600.0

    # --- the home side --------------------------------------------------------------------------------------

    def relay(self, campaign_key: str, *, actor: str) -> RelayStatus:
        """Put the campaign's definition in the outbox for every peer (once per peer; ledgered) and deliver
        what is pending. LookupError when there is no such campaign here."""
        self._enqueue(campaign_key, self.federation.regions.peers, actor=actor)
        return self.status(campaign_key)

    def _enqueue(self, campaign_key: str, peers: Sequence[Peer], *, actor: str) -> None:
        definition = self.campaigns.definition(campaign_key)
        with self.records.write() as records:
            for peer in peers:
                pk = records.insert_relay(RelayRow(campaign_key, peer.node, peer.region, definition, PENDING, 0,
                                                   _now_us()))
                if pk is not None:
                    records.append_ledger(actor, RELAY_ACTION, f"recall definition to {peer.node} ({peer.region}):"
                                          " scope, remedy, defect, dates; no personal data",
                                          (Subject("federated_recall", "id", pk),))

    def relay_new(self) -> int:
        """Put every campaign opened here and not relayed yet in the outbox for each peer this node may ask
        (it holds the peer's ``apiKey``), ledgered as relayed by this node; how many campaigns."""
        peers = [p for p in self.federation.regions.peers if p.node in self.federation.api_keys]
        if not peers:
            return 0
        with self.records.read() as records:
            relayed = records.relayed_campaigns()
        keys = to_relay([campaign for campaign, _totals in self.campaigns.campaigns(Unrestricted())], relayed)
        for key in keys:
            try:
                self._enqueue(key, peers, actor=f"node:{self.federation.regions.node_id}")
            except LookupError:
                continue  # gone meanwhile
        return len(keys)

    def deliver_pending(self, skip: Collection[str] = ()) -> dict[str, bool]:
        """Send every pending definition to its peer (peers in ``skip`` left for later); each outcome
        recorded. Per peer tried, whether it answered."""
        with self.records.read() as records:
            pending = records.relays(state=PENDING)
        return deliver_in_order(pending, lambda row: row.peer, self._send, skip=skip)

    def _send(self, row: RelayRow) -> bool:
        def send() -> None:
            peer, key = self.federation.peer_and_key(row.peer)
            self.client.open_recall(peer.url, key, row.definition, timeout=self.federation.timeout)

        return send_recorded(self.records, row.id, send)

    def _pull(self, rows: Sequence[RelayRow], skip: Collection[str] = ()) -> dict[str, bool]:
        """Ask each region that has the campaign of ``rows`` for its counts and keep them (a region that does
        not answer keeps its last report, or none); per peer asked, whether it answered."""
        outcomes: dict[str, bool] = {}
        for row in rows:
            if row.state != DELIVERED or row.peer in skip or outcomes.get(row.peer) is False:
                continue  # not there yet, backing off, or down this round: its other campaigns wait too
            try:
                peer, key = self.federation.peer_and_key(row.peer)
            except PeerUnavailable:
                continue  # not configured: nothing to ask
            try:
                report = self.client.recall_report(peer.url, key, row.campaign_key, timeout=self.federation.timeout)
            except PeerUnavailable:
                outcomes[row.peer] = False
                continue  # not reported this time: the last report (if any) stands, and its time says how old
            with self.records.write() as records:
                records.save_report(row.id, report, _now_us())
            outcomes.setdefault(row.peer, True)
        return outcomes

    def round(self, skip: Collection[str] = ()) -> dict[str, bool]:
        """The relay worker's round (:mod:`roadpass.regions.relay_worker`): deliver what is pending, and pull
        the completion counts of every delivered campaign whose last report is older than
        ``report_every`` seconds (or that has none), so that they come back with no status read. Per peer
        tried, whether it answered. Campaigns opened here since the last round are relayed first."""
        self.relay_new()
        outcomes = self.deliver_pending(skip)
        stale = _now_us() - int(self.report_every * 1_000_000)
        with self.records.read() as records:
            rows = [r for r in records.relays(state=DELIVERED) if r.reported_at is None or r.reported_at <= stale]
        down = {*skip, *(peer for peer, ok in outcomes.items() if not ok)}
        for peer, ok in self._pull(rows, down).items():
            outcomes[peer] = outcomes.get(peer, True) and ok
        return outcomes

    def status(self, campaign_key: str) -> RelayStatus:
        """Deliver what is pending, ask each region that has the campaign for its counts (a region that does
        not answer keeps its last report, or none), and put them beside this node's own counts."""
        self.deliver_pending()
        with self.records.read() as records:
            rows = records.relays(campaign_key=campaign_key)
        self._pull(rows)
        with self.records.read() as records:
            rows = records.relays(campaign_key=campaign_key)
        try:
            own = self.campaigns.completion_counts(campaign_key)
        except LookupError:
            own = {}
        return RelayStatus(campaign_key, self.federation.regions.region or "", own, rows)

    # --- the regional side ----------------------------------------------------------------------------------

    def accept(self, body: object, *, party: str | None) -> bool:
        """Open the campaign a peer node (asking as ``party``) hands over: resolved through this node's own
        where-used, its market's dealers and repairers notified here, ledgered as opened by that node. True
        when opened, False when this node has it already (a repeated delivery). NotAPeer; ValueError (the
        recall service's refusal) when the definition is invalid."""
        peer = self.federation.peer_of_party(party)
        key = body.get("campaignKey") if isinstance(body, dict) else None
        if isinstance(key, str):
            try:
                self.campaigns.definition(key)
                return False
            except LookupError:
                pass
        self.campaigns.create(body, actor=f"node:{peer.node}", owner=party or "")
        return True

    def report(self, campaign_key: str, *, party: str | None) -> dict[str, Any]:
        """This node's completion counts by market for the peer that asks as ``party``, as its region's
        policy lets them cross; recorded and ledgered as a transfer. NotAPeer; LookupError."""
        peer = self.federation.peer_of_party(party)
        counts = self.campaigns.completion_counts(campaign_key)
        regions = self.federation.regions
        border = regions.border(peer)
        by_market, withheld = project_report(counts, border)
        summary = {"origin": border.origin, "destination": border.destination, "policyVersion": border.policy.version,
                   "campaign": campaign_key, "markets": len(by_market), "withheld": withheld}
        row = TransferRow(peer=peer.node, origin=border.origin, destination=border.destination,
                          subscription_id=REPORT_CHANNEL, subscriber=party or "", policy_version=border.policy.version,
                          events=len(counts), sent=len(by_market), summary=summary, at=_now_us())
        with regions.transfers.write() as records:
            pk = records.insert_transfer(row)
            records.append_ledger(f"node:{regions.node_id}", REPORT_ACTION,
                                  f"transfer policy {border.policy.version}: completion counts by market only",
                                  (Subject("region_transfer", "id", pk),))
        return {"campaignKey": campaign_key, "node": regions.node_id, "region": border.origin,
                "byMarket": by_market, "withheld": withheld}
