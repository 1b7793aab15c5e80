"""The aggregates service: the counts the policy lets cross only aggregated are cut into batches per peer,
thresholded (:mod:`roadpass.regions.aggregates`), ledgered and put in a durable outbox; the relay worker
delivers them; a peer's batches are checked, stored once and ledgered here.

Sending: each round reads the transfers to each peer since the last batch (the transfer records are the
source: every transfer already counts what it withheld), and once the oldest is older than the policy's
window cuts a batch, in one write with the outbox row, the peer's cursor and the ledger entry (GDPR Art. 30(1)(e),
Art. 5(2): what leaves, under which basis). Transfers are read only once they are a few seconds old, so a
transfer committed late (PostgreSQL hands out ids before commit) is not skipped by the cursor.

Receiving: only a party that is a peer node's may deliver (the API key authenticates it; the region is the
peer's as configured here, never what the body claims); a batch is stored once per (sender, batch number),
so a replay changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.regions.aggregates import (
    PENDING,
    AggregateRecords,
    AggregateRules,
    OutboxRow,
    ReceivedRow,
    build_batch,
    due,
    event_ids_of,
    load_aggregate_rules,
    parse_delivery,
    withheld_of,
)
from roadpass.regions.federation_service import FederationService
from roadpass.regions.model import Decision
from roadpass.regions.outbox import deliver_in_order, send_recorded
from roadpass.regions.projection import EVENT_KIND
from roadpass.regions.transfer import Peer

__all__ = ["RECEIVE_ACTION", "SEND_ACTION", "AggregatePeerClient", "AggregateService", "LocationMarkets"]

SEND_ACTION = "regions.aggregates.send"
RECEIVE_ACTION = "regions.aggregates.receive"
_LOCATION_TYPE = "urn:epcglobal:epcis:vtype:BusinessLocation"
#: Where capture reads a site's country from (trace/capture.py): CBV 2.0 master data attribute countryCode.
_COUNTRY_ATTRIBUTES = ("urn:epcglobal:cbv:mda#countryCode", "cbvmda:countryCode", "countryCode")
_BATCH_LIMIT = 5000
_SETTLE_US = 2_000_000


class AggregatePeerClient(Protocol):
    """How this node delivers a batch to a peer."""

    def deliver(self, url: str, api_key: str, body: dict[str, Any], *, timeout: float) -> bool:
        """True when the peer stored it now, False when it had it; :class:`PeerUnavailable` otherwise."""
        ...


class _Version(Protocol):
    @property
    def attributes(self) -> dict[str, Any]: ...


class _Element(Protocol):
    @property
    def current(self) -> _Version: ...


class LocationMarkets(Protocol):
    """Master data of business locations (the trace feature's master data service)."""

    def element(self, vocabulary_type_: str, key: str) -> _Element:
        """One element with its versions; LookupError when none is held."""
        ...


def _now_us() -> int:
    return time.time_ns() // 1000


class AggregateService:
    """Aggregates to peers and from them, for one node."""

    def __init__(self, records: Transactions[AggregateRecords], federation: FederationService,
                 locations: LocationMarkets, client: AggregatePeerClient, *, settle_us: int = _SETTLE_US) -> None:
        self.records = records
        self.federation = federation
        self.regions = federation.regions
        self.locations = locations
        self.client = client
        self.settle_us = settle_us
        self._rules: tuple[object, AggregateRules | None] | None = None

    def rules(self) -> AggregateRules | None:
        """The policy's aggregation rules as the policy file stands now (None: it names none). Read again
        only when the region service has read the file again (it checks the file's stat on each call)."""
        policy = self.regions.policy()
        if self._rules is None or self._rules[0] is not policy:
            self._rules = (policy, load_aggregate_rules(path=self.regions.policy_path))
        return self._rules[1]

    # --- sending ------------------------------------------------------------------------------------------

    def _market(self, location: str) -> str | None:
        try:
            attributes = self.locations.element(_LOCATION_TYPE, location).current.attributes
        except (LookupError, ValueError):
            return None
        country = next((str(attributes[a]) for a in _COUNTRY_ATTRIBUTES if attributes.get(a)), None)
        return country.upper()[:2] if country else None

    def _market_allowed(self, peer: Peer) -> bool:
        """Whether a market may go with the counts: the business location itself may cross this border as it
        is (a market is the country of that site, coarser than it)."""
        border = self.regions.border(peer)
        rule = border.classification.rule(EVENT_KIND, "bizLocation")
        decision = border.policy.decide(border.origin, border.destination, rule.classify(origin=border.origin))
        return decision.decision is Decision.ALLOW

    def prepare(self, now_us: int | None = None) -> int:
        """Cut the batches that are due (one per peer at most); how many were put in the outbox."""
        if self.regions.region is None or not self.regions.peers:
            return 0
        rules = self.rules()
        if rules is None:
            return 0
        now = _now_us() if now_us is None else now_us
        cut = 0
        for peer in self.regions.peers:
            # A read first: most rounds find nothing to do and then take no write (SQLite has one writer).
            with self.records.read() as records:
                transfers = records.transfers_after(peer.node, records.cursor(peer.node),
                                                    until_at=now - self.settle_us, limit=_BATCH_LIMIT)
            if not transfers or (any(withheld_of(t) for t in transfers) and not due(transfers, rules, now)):
                continue  # nothing new, or counts are collecting: the window is not over
            cut += self._cut(peer, rules, now)
        return cut

    def _cut(self, peer: Peer, rules: AggregateRules, now: int) -> int:
        """In one write: the transfers to ``peer`` past its cursor batched, the cursor moved, the batch put in
        the outbox and ledgered; 1 when a batch was cut, 0 when there was nothing withheld to count."""
        market_allowed = self._market_allowed(peer)
        version = self.regions.policy().version
        with self.records.write() as records:
            transfers = records.transfers_after(peer.node, records.cursor(peer.node), until_at=now - self.settle_us,
                                                limit=_BATCH_LIMIT)
            if not transfers:
                return 0
            if not any(withheld_of(t) for t in transfers):
                records.set_cursor(peer.node, transfers[-1].id)  # nothing withheld: nothing to send
                return 0
            if not due(transfers, rules, now):
                return 0
            locations = {str(g["bizLocation"]) for t in transfers for g in t.summary.get("aggregateGroups") or ()
                         if g.get("bizLocation")}
            markets = {loc: self._market(loc) for loc in locations} if market_allowed else {}
            counted = records.counted(peer.node, event_ids_of(transfers))
            batch = build_batch(transfers, rules=rules, policy_version=version, markets=markets,
                                market_allowed=market_allowed, counted=counted)
            pk = records.insert_outbox(OutboxRow(peer.node, peer.region, batch.as_json(), PENDING, 0, now,
                                                 batch.first_transfer, batch.last_transfer))
            records.set_cursor(peer.node, batch.last_transfer)
            records.mark_counted(peer.node, batch.event_ids, pk)
            records.append_ledger(
                f"node:{self.regions.node_id}", SEND_ACTION,
                f"transfer policy {version}: counts of {batch.withheld} withheld events to {peer.node} "
                f"({peer.region}) under {'; '.join(batch.bases) or 'allow_aggregated'}; groups under "
                f"k={rules.min_group_size} suppressed ({rules.citation})",
                (Subject("region_aggregate_outbox", "id", pk),))
        return 1

    def deliver_pending(self, skip: Collection[str] = ()) -> dict[str, bool]:
        """Send every pending batch (peers in ``skip`` left for later); per peer tried, whether it answered.
        A peer's batches go in order: after a failure its later ones wait for the next round."""
        with self.records.read() as records:
            pending = records.outbox(state=PENDING, limit=_BATCH_LIMIT)
        return deliver_in_order(pending, lambda row: row.peer, self._send, skip=skip)

    def _send(self, row: OutboxRow) -> bool:
        def send() -> None:
            peer, key = self.federation.peer_and_key(row.peer)
            self.client.deliver(peer.url, key, {**row.body, "batch": row.id}, timeout=self.federation.timeout)

        return send_recorded(self.records, row.id, send)

    def round(self, skip: Collection[str] = ()) -> Mapping[str, bool]:
        """The relay worker's round: cut what is due, deliver what is pending."""
        self.prepare()
        return self.deliver_pending(skip)

    # --- receiving ----------------------------------------------------------------------------------------

    def accept(self, body: object, *, party: str | None) -> bool:
        """Store a batch the peer node asking as ``party`` delivers, ledgered as received from it: True when
        stored now, False when it was stored already (a replay). NotAPeer; AggregateInvalid."""
        peer = self.federation.peer_of_party(party)
        batch, checked = parse_delivery(body)
        row = ReceivedRow(peer.node, peer.region, batch, checked, _now_us())
        with self.records.write() as records:
            pk = records.insert_received(row)
            if pk is None:
                return False
            records.append_ledger(
                f"node:{peer.node}", RECEIVE_ACTION,
                f"aggregates from {peer.node} ({peer.region}) under its policy {checked.get('policyVersion')}: "
                f"counts only, groups of at least {checked.get('minGroupSize')}; "
                f"{'; '.join(map(str, checked.get('bases') or [])) or 'allow_aggregated'}",
                (Subject("region_aggregate_received", "id", pk),))
        return True

    # --- what the node shows ------------------------------------------------------------------------------

    def totals(self) -> dict[str, dict[str, int]]:
        """Per peer: batches sent (delivered), pending, received."""
        with self.records.read() as records:
            return records.totals()

    def overview(self, *, limit: int = 50) -> dict[str, Any]:
        """The aggregates this node received and sent (newest first), and the totals per peer."""
        with self.records.read() as records:
            received = records.received(limit=limit)
            sent = records.outbox(limit=limit)
            totals = records.totals()
        return {
            "node": self.regions.node_id, "region": self.regions.region, "perPeer": totals,
            "received": [{"from": r.sender, "region": r.region, "batch": r.batch, "receivedAt": r.received_at,
                          **{k: r.body.get(k) for k in ("policyVersion", "minGroupSize", "groups", "suppressed",
                                                        "withheld", "bases")}} for r in received],
            "sent": [{"to": r.peer, "region": r.region, "batch": r.id, "state": r.state, "attempts": r.attempts,
                      "lastError": r.last_error, "createdAt": r.created_at, "deliveredAt": r.delivered_at,
                      **{k: r.body.get(k) for k in ("policyVersion", "minGroupSize", "groups", "suppressed",
                                                    "withheld")}} for r in sent],
        }

