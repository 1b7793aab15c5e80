"""The health relay: a regional node sends each pack health update to the maker's home node, whose passport of
that battery then carries it (Reg. (EU) 2023/1542 Art. 77(2), Annex XIII (4)); the home node takes it from a
peer node only, checked, once.

**On the regional node.** The battery health service writes its updates through :class:`HealthSummaryTap`
(bootstrap wires it): after each passport write the pack's values are read back as a summary, projected for
every peer whose border the transfer policy's ``records`` open to ``battery_passport_health`` (shipped: the
maker's home node only), and queued in a durable outbox (``region_health_outbox``) — in one transaction with
the transfer record and its ledger entry (``regions.health.summary``: the basis, the fields removed, the date
coarsened). The regions feature's relay worker (:mod:`roadpass.regions.relay_worker`, started with ``roadpass
serve``) runs :meth:`HealthRelayService.round`: it delivers what is pending; a peer that is down keeps its rows
pending (the worker backs off from it) and gets them, in order, when it is back.

**Transport.** roadpass's documented API: ``POST /federation/peer/health`` on the peer, authenticated with the
API key of this node's party there (``apiKey`` of the peer in ``ROADPASS_PEERS``), as recall relays and
federated where-used questions authenticate. Not an EPCIS subscription: a summary is passport data, neither
an event nor master data, and the outbox must know from the peer's answer whether it was stored.

**On the home node.** :meth:`HealthRelayService.accept` takes a summary only from a party that is a peer node's
(its region comes from that party, never from the body), only when this node's policy lets the kind in from
that region, only with the fields the classification names (anything else, a time of day, or a digest that
does not match the content: refused), and only once: the same summary again is answered "had it" and stored
once; an older sequence for the same battery from the same node (a replayed or reordered delivery) is refused.
It writes the values into the battery's passport through the passport service (one ledger entry
``passport.dynamic`` by ``node:<peer>``, rule naming the region and the basis) and records the receipt
(``regions.health.import``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Final, Generic

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.regions.federation_service import FederationService
from roadpass.regions.health_relay import (
    PENDING,
    HealthPassports,
    HealthPeerClient,
    HealthRelayRecords,
    OutboxRow,
    P,
    PushRefused,
    ReceivedRow,
)
from roadpass.regions.health_summary import (
    HEALTH_KIND,
    RecordPolicy,
    check_received,
    load_record_policy,
    passport_writes,
    policy_document,
    project_summary,
    raw_summary,
    summary_id,
)
from roadpass.regions.model import Decision
from roadpass.regions.outbox import deliver_in_order
from roadpass.regions.policy import PolicyError
from roadpass.regions.ports import PeerUnavailable, TransferRow

__all__ = [
    "CHANNEL",
    "IMPORT_ACTION",
    "SUMMARY_ACTION",
    "AcceptOutcome",
    "DeliveryRound",
    "HealthInvalid",
    "HealthRefused",
    "HealthRelayService",
    "HealthSummaryTap",
]

SUMMARY_ACTION = "regions.health.summary"
IMPORT_ACTION = "regions.health.import"
#: The transfer rows of health summaries carry this in place of a subscription id.
CHANNEL = "federation:battery-health"
SOURCE_PREFIX = "urn:roadpass:regions:health:"
RULE = "Reg. (EU) 2023/1542 Art. 77(2), Annex XIII (4)"
PD: Final = "PerformanceAndDurability"
_DEFAULT_RECORD_RULE = "Reg. (EU) 2023/1542 Art. 77(4), Annex XIII (4)"
log = logging.getLogger(__name__)


def _now_us() -> int:
    return time.time_ns() // 1000


class HealthInvalid(ValueError):
    """A received summary is not one this node takes: every problem as (JSON path, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))
        self.problems = problems


class HealthRefused(Exception):
    """A received summary is refused: ``status`` (403 the policy, 404 no passport, 409 replayed), the field
    and the reason."""

    def __init__(self, status: int, parameter: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.parameter = parameter
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AcceptOutcome:
    """What the home node did with a summary: stored now (True) or had it already, in which passport."""

    stored: bool
    passport_id: str
    summary_id: str

    def as_json(self) -> dict[str, Any]:
        """The answer to the sending node."""
        return {"stored": self.stored, "passportId": self.passport_id, "summaryId": self.summary_id}


@dataclass(slots=True)
class DeliveryRound:
    """One round of the outbox: delivered (of which the peer had already), failed for now, refused for good;
    per peer tried, whether it answered."""

    delivered: int = 0
    had: int = 0
    failed: int = 0
    refused: int = 0
    peers: dict[str, bool] = field(default_factory=dict)


class HealthRelayService(Generic[P]):
    """Pack health summaries from regional nodes into the home node's passports (see the module docstring)."""

    def __init__(self, records: Transactions[HealthRelayRecords], federation: FederationService,
                 passports: HealthPassports[P], client: HealthPeerClient) -> None:
        self.records = records
        self.federation = federation
        self.passports = passports
        self.client = client
        self._accept_lock = threading.Lock()
        self._deliver_lock = threading.Lock()
        self._policy: tuple[object, RecordPolicy] | None = None  # (the file's stamp, its records section)

    def record_policy(self) -> RecordPolicy:
        """The transfer policy's ``records`` section as its file stands now (the whole file checked first: a
        broken edit stops the relay as it stops every transfer)."""
        regions = self.federation.regions
        version = regions.policy().version
        path = regions.policy_path
        stat = None if path is None else path.stat()
        stamp = (str(path), version, None if stat is None else (stat.st_mtime_ns, stat.st_size))
        cached = self._policy
        if cached is None or cached[0] != stamp:  # parsed again only when the file changed
            cached = self._policy = (stamp, load_record_policy(policy_document(path), regions=regions.regions))
        return cached[1]

    # --- the regional side ------------------------------------------------------------------------------

    def queue(self, battery_id: str, condition: dict[str, Any]) -> list[int]:
        """Queue the pack's health (its passport's ``batteryCondition`` now) for every peer the policy lets
        the summary go to, each projected, recorded as a transfer and ledgered; the outbox rows made."""
        regions = self.federation.regions
        if regions.region is None or not regions.peers:
            return []
        policy = self.record_policy()
        raw = raw_summary(battery_id, condition)
        made: list[int] = []
        for peer in regions.peers:
            if policy.decide(HEALTH_KIND, regions.region, peer.region).decision is not Decision.ALLOW:
                continue  # nothing crosses to this peer: no transfer to record
            with self.records.write() as records:
                sequence = records.next_sequence(peer.node, battery_id)
                projection = project_summary({**raw, "sequence": sequence}, origin=regions.region,
                                             destination=peer.region, classification=regions.classification,
                                             records=policy)
                if projection.summary is None:
                    continue
                done = projection.as_json()
                body = {"origin": regions.region, "destination": peer.region, "policyVersion": policy.version,
                        **done, "bases": {HEALTH_KIND: done["basis"]}}
                transfer = records.insert_transfer(TransferRow(
                    peer=peer.node, origin=regions.region, destination=peer.region, subscription_id=CHANNEL,
                    subscriber=f"node:{regions.node_id}", policy_version=policy.version, events=1, sent=1,
                    summary=body, at=_now_us()))
                pk = records.insert_outbox(OutboxRow(
                    peer=peer.node, region=peer.region, battery_id=battery_id, sequence=sequence,
                    summary_id=summary_id(projection.summary), summary=projection.summary, state=PENDING,
                    attempts=0, transfer_id=transfer, created_at=_now_us()))
                # GDPR Art. 30(1)(e), Art. 5(2): each transfer recorded with its basis and what was done to it.
                rule = (f"transfer policy {policy.version}: {HEALTH_KIND} {done['basis']}; removed: "
                        f"{', '.join(done['removed']) or 'nothing'}; coarsened to a day: "
                        f"{', '.join(done['coarsened']) or 'nothing'}")
                records.append_ledger(f"node:{regions.node_id}", SUMMARY_ACTION, rule,
                                      (Subject("region_health_outbox", "id", pk),
                                       Subject("region_transfer", "id", transfer)))
            made.append(pk)
        return made

    def round(self, skip: Collection[str] = ()) -> dict[str, bool]:
        """The relay worker's round (:mod:`roadpass.regions.relay_worker`): deliver what is pending to every
        peer not in ``skip`` (backing off); per peer tried, whether it answered."""
        return self.deliver_pending(skip=skip).peers

    def deliver_pending(self, *, skip: Collection[str] = (), limit: int = 200) -> DeliveryRound:
        """Send pending summaries, oldest first, each outcome recorded; a peer that is down is not tried again
        in this round (its later summaries must not overtake the first one), nor is one in ``skip``."""
        done = DeliveryRound()
        with self._deliver_lock:
            with self.records.read() as records:
                rows = records.outbox(state=PENDING, limit=limit)
            done.peers = deliver_in_order(rows, lambda row: row.peer, lambda row: self._send(row, done), skip=skip)
        return done

    def _send(self, row: OutboxRow, done: DeliveryRound) -> bool:
        try:
            peer, key = self.federation.peer_and_key(row.peer)
            stored = self.client.push_health(peer.url, key, {"summary": row.summary, "summaryId": row.summary_id},
                                             timeout=self.federation.timeout)
        except PushRefused as exc:
            self._failed(row.id, str(exc), refused=True)
            done.refused += 1
            return True  # it answered: a refusal is no reason to back off
        except PeerUnavailable as exc:
            self._failed(row.id, f"{exc.status}: {exc.reason}", refused=False)
            done.failed += 1
            return False
        with self.records.write() as records:
            records.mark_delivered(row.id, _now_us())
        done.delivered += 1
        done.had += not stored
        return True

    def _failed(self, row_id: int, error: str, *, refused: bool) -> None:
        with self.records.write() as records:
            records.mark_failed(row_id, error, refused=refused)

    def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """The outbox rows (in one state, unless None), oldest first."""
        with self.records.read() as records:
            return records.outbox(state=state, limit=limit)

    # --- the home side ----------------------------------------------------------------------------------

    def accept(self, body: object, *, party: str | None) -> AcceptOutcome:
        """Take a summary the peer node asking as ``party`` delivers, and write it into the battery's passport
        once. NotAPeer; :class:`HealthRefused` (policy, no passport, replayed); :class:`HealthInvalid`."""
        regions = self.federation.regions
        peer = self.federation.peer_of_party(party)
        here = regions.region or ""
        rule = self.record_policy().decide(HEALTH_KIND, peer.region, here)
        if rule.decision is not Decision.ALLOW:
            raise HealthRefused(403, "Authorization", f"the transfer policy here lets no {HEALTH_KIND} in from "
                                f"{peer.region} ({rule.basis})")
        summary, problems = check_received(body, classification=regions.classification, origin=peer.region)
        if problems:
            raise HealthInvalid(problems)
        sid = summary_id(summary)
        battery, sequence = str(summary["batteryId"]), int(summary["sequence"])
        with self._accept_lock:
            with self.records.read() as records:
                found = records.received(sid)
                last = records.last_sequence(peer.node, battery)
            if found is not None:
                return AcceptOutcome(False, found.passport_id, sid)
            if sequence <= last:
                raise HealthRefused(409, "$.summary.sequence", f"{sequence} is not after {last}, the last summary "
                                    f"of this battery from {peer.node}: a replayed or reordered delivery")
            try:
                passport_id = self.passports.resolve(battery)
            except LookupError:
                raise HealthRefused(404, "$.summary.batteryId", "no passport of this battery on this node") from None
            text = (f"{RULE}: state of health imported from {peer.node} ({peer.region}), transfer policy "
                    f"{self.record_policy().version}, basis {rule.basis}")
            self.passports.record(passport_id, _change(summary, peer.region), actor=f"node:{peer.node}", rule=text)
            with self.records.write() as records:
                pk = records.insert_received(ReceivedRow(peer.node, peer.region, battery, sequence, sid, summary,
                                                         passport_id, _now_us()))
                if pk is not None:
                    records.append_ledger(f"node:{peer.node}", IMPORT_ACTION, text,
                                          (Subject("region_health_received", "id", pk),))
        return AcceptOutcome(True, passport_id, sid)


def _change(summary: dict[str, Any], region: str) -> Callable[[P], P]:
    """The passport change a summary makes: each value at its path, dated the summary's day, sourced to the
    region it came from."""

    def change(passport: P) -> P:
        for path, value, stamp in passport_writes(summary):
            passport = passport.with_dynamic(PD, path, value, stamp, f"{SOURCE_PREFIX}{region}")
        return passport

    return change


class HealthSummaryTap(Generic[P]):
    """The passport service as the battery health service writes through it on a node: every update it
    records is queued as a summary for the peers the policy allows (none on a node without a region)."""

    def __init__(self, inner: HealthPassports[P], relay: HealthRelayService[Any]) -> None:
        self.inner = inner
        self.relay = relay

    def resolve(self, identifier: str) -> str:
        """The live passport id of a battery."""
        return self.inner.resolve(identifier)

    def get(self, passport_id: str) -> P:
        """The whole passport."""
        return self.inner.get(passport_id)

    def list_passports(self, *, limit: int = 50, offset: int = 0, query: str | None = None) -> list[dict[str, Any]]:
        """Passports, newest first."""
        return self.inner.list_passports(limit=limit, offset=offset, query=query)

    def record(self, passport_id: str, change: Callable[[P], P], *, actor: str,
               rule: str = _DEFAULT_RECORD_RULE) -> P:
        """Record the update, then queue the pack's health for the peers (the passport is written either
        way: a summary that cannot be queued now is superseded by the next update, which carries totals)."""
        after = self.inner.record(passport_id, change, actor=actor, rule=rule)
        condition = after.value_at(PD, "$.batteryCondition")
        try:
            self.relay.queue(after.battery_id, condition if isinstance(condition, dict) else {})
        except (PolicyError, ValueError) as exc:  # a broken policy edit, or a passport date that does not parse
            log.warning("battery health of %s not queued for the home node: %s", after.battery_id, exc)
        return after
