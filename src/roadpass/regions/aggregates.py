"""Aggregates across a border, the rules without I/O: what the counts of withheld events become before they
go to the peer, and what a node accepts from a peer.

Where the transfer policy says a class of data may cross only aggregated (``allow_aggregated``), the events
carrying it stay home and each transfer record counts them by (business step, UTC day, business location)
(:func:`roadpass.regions.transfer.project_page`). Those counts are delivered to the peer in **batches**: the
transfers to one peer since the last batch, once the oldest of them is older than the policy's window
(``aggregates.window_hours`` in ``transfer-policies.yaml``), summed per group

    (origin region, market — when the policy lets the business location cross —, bizStep, day)

and every group smaller than the policy's ``aggregates.min_group_size`` (k) is suppressed: only the number
of events and groups left out is sent. A count of 1 would single a vehicle out, and counts that single no one
out are anonymous information (Regulation (EU) 2016/679 Recital 26; Article 29 Working Party Opinion 05/2014
on Anonymisation Techniques (WP216), on aggregation and k-anonymity: grouping with at least k others
prevents singling out, not inference). The value of k is the policy's choice, not a figure the Opinion sets.

Batches are disjoint (each transfer is counted in one batch), so no two deliveries can be subtracted to
recover a group smaller than k.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar

import yaml

from roadpass.ledger.chain import Subject
from roadpass.regions.policy import PolicyError
from roadpass.regions.ports import TransferRow

__all__ = [
    "DELIVERED",
    "PENDING",
    "AggregateBatch",
    "AggregateInvalid",
    "AggregateRecords",
    "AggregateRules",
    "GroupKey",
    "OutboxRow",
    "ReceivedRow",
    "build_batch",
    "due",
    "event_ids_of",
    "load_aggregate_rules",
    "parse_delivery",
    "threshold",
    "withheld_of",
]

PENDING = "pending"
DELIVERED = "delivered"
K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class AggregateRules:
    """The policy's aggregation rules: the smallest group that may be delivered (k), the window over which
    a batch collects transfers, and the citation of both."""

    min_group_size: int
    window_seconds: int
    citation: str


def load_aggregate_rules(data: Mapping[str, Any] | None = None, *, path: Path | None = None) -> AggregateRules | None:
    """The ``aggregates`` section of the transfer policy (the file at ``path``, the shipped one, or ``data``);
    None when the policy has none (then no aggregate leaves: the counts stay in the transfer records)."""
    if data is None:
        text = path.read_text(encoding="utf-8") if path else (
            resources.files("roadpass.regions").joinpath("transfer-policies.yaml").read_text(encoding="utf-8"))
        data = yaml.safe_load(text)
    section = data.get("aggregates") if isinstance(data, Mapping) else None
    if section is None:
        return None
    if not isinstance(section, Mapping):
        raise PolicyError("aggregates", "must be a mapping")
    k = section.get("min_group_size")
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        raise PolicyError("aggregates.min_group_size", "must be an integer of at least 2 (a group of 1 is one vehicle)")
    hours = section.get("window_hours", 24)
    if not isinstance(hours, int | float) or isinstance(hours, bool) or hours < 0:
        raise PolicyError("aggregates.window_hours", "must be a number of hours, 0 or more")
    cite = section.get("cite")
    if not isinstance(cite, str) or not cite:
        raise PolicyError("aggregates.cite", "is required (the basis of the threshold)")
    return AggregateRules(k, int(hours * 3600), cite)


def threshold(counts: Mapping[K, int], k: int) -> tuple[dict[K, int], int, int]:
    """``counts`` split at ``k``: the groups of at least ``k`` (delivered), and how many events and groups
    were suppressed (smaller groups, never named)."""
    kept = {key: n for key, n in counts.items() if n >= k}
    small = [n for n in counts.values() if 0 < n < k]
    return kept, sum(small), len(small)


@dataclass(frozen=True, slots=True, order=True)
class GroupKey:
    """One delivered group: the market (ISO 3166-1 alpha-2; None when unknown or not allowed to cross), the
    business step and the UTC day of the events' eventTime ("" when they had none)."""

    market: str | None
    biz_step: str
    day: str

    def as_json(self) -> dict[str, Any]:
        """The group's key as delivered."""
        return {"market": self.market, "bizStep": self.biz_step, "day": self.day}


@dataclass(slots=True)
class AggregateBatch:
    """The counts one batch delivers to one peer, with what was suppressed and under which rules."""

    origin: str
    destination: str
    policy_version: str
    min_group_size: int
    bases: list[str]
    groups: dict[GroupKey, int]
    withheld: int
    suppressed_events: int
    suppressed_groups: int
    first_transfer: int
    last_transfer: int
    market_allowed: bool = field(default=False)
    event_ids: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, Any]:
        """The batch's body as stored in the outbox and delivered (canonical order)."""
        return {"origin": self.origin, "destination": self.destination, "policyVersion": self.policy_version,
                "minGroupSize": self.min_group_size, "bases": sorted(self.bases), "withheld": self.withheld,
                "marketAllowed": self.market_allowed,
                "groups": [{**key.as_json(), "count": n} for key, n in sorted(self.groups.items(),
                                                                             key=lambda kv: _sort_key(kv[0]))],
                "suppressed": {"events": self.suppressed_events, "groups": self.suppressed_groups},
                "transfers": {"first": self.first_transfer, "last": self.last_transfer}}


def _sort_key(key: GroupKey) -> tuple[str, str, str]:
    return (key.market or "", key.biz_step, key.day)


def _groups_of(transfer: TransferRow) -> Iterable[tuple[str, str, str | None, list[str], int]]:
    """(bizStep, day, bizLocation, eventIDs, count) of one transfer record; a record from before groups were
    kept counts by business step only."""
    groups = transfer.summary.get("aggregateGroups")
    if isinstance(groups, list):
        for g in groups:
            yield (str(g.get("bizStep")), str(g.get("day") or ""), g.get("bizLocation"),
                   [str(i) for i in g.get("eventIDs") or ()], int(g.get("count", 0)))
        return
    for step, n in (transfer.summary.get("aggregatesByBizStep") or {}).items():
        yield str(step), "", None, [], int(n)


def withheld_of(transfer: TransferRow) -> int:
    """How many events one transfer withheld for a count."""
    return sum(group[-1] for group in _groups_of(transfer))


def event_ids_of(transfers: Sequence[TransferRow]) -> set[str]:
    """The eventIDs the transfers withheld (to look up which were counted by an earlier batch)."""
    return {i for t in transfers for group in _groups_of(t) for i in group[3]}


def due(transfers: Sequence[TransferRow], rules: AggregateRules, now_us: int) -> bool:
    """Whether a batch is due: some transfer withheld events, and the oldest such is older than the window."""
    oldest = min((t.at for t in transfers if withheld_of(t)), default=None)
    return oldest is not None and now_us - oldest >= rules.window_seconds * 1_000_000


def build_batch(transfers: Sequence[TransferRow], *, rules: AggregateRules, policy_version: str,
                markets: Mapping[str, str | None], market_allowed: bool,
                counted: Collection[str] = ()) -> AggregateBatch:
    """The batch of ``transfers`` (all to one peer, oldest first): their withheld counts summed per group,
    each business location replaced by its market (``markets``) when the policy lets it cross, else by
    None, and the groups under k suppressed. An event is counted once: not again when another transfer (a
    retried delivery, a second subscription) withheld it too, nor when an earlier batch counted it
    (``counted``); the eventIDs this batch counts are in ``event_ids``."""
    counts: Counter[GroupKey] = Counter()
    bases: set[str] = set()
    seen: set[str] = set()
    for transfer in transfers:
        for step, day, location, ids, n in _groups_of(transfer):
            market = markets.get(location) if market_allowed and location else None
            if ids:
                fresh = {i for i in ids if i not in seen and i not in counted}
                seen |= fresh
                n = len(fresh) + max(0, n - len(ids))  # events without an eventID cannot be told apart
            if n:
                counts[GroupKey(market, step, day)] += n
        bases.update(b for b in (transfer.summary.get("bases") or {}).values()
                     if str(b).startswith("allow_aggregated"))
    kept, suppressed_events, suppressed_groups = threshold(counts, rules.min_group_size)
    first = transfers[0] if transfers else None
    return AggregateBatch(
        origin=first.origin if first else "", destination=first.destination if first else "",
        policy_version=policy_version, min_group_size=rules.min_group_size, bases=sorted(bases), groups=kept,
        withheld=sum(counts.values()), suppressed_events=suppressed_events, suppressed_groups=suppressed_groups,
        first_transfer=first.id if first else 0, last_transfer=transfers[-1].id if transfers else 0,
        market_allowed=market_allowed, event_ids=seen)


class AggregateInvalid(ValueError):
    """A delivered batch is malformed: each problem names its JSON path and the reason."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))
        self.problems = problems


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse_delivery(body: object) -> tuple[int, dict[str, Any]]:
    """A peer's delivered batch checked whole: its batch number (the sender's outbox id: with the sender it
    makes the delivery idempotent) and its body as stored (the known fields only). :class:`AggregateInvalid`
    names every fault; a group below the batch's own k is refused too (a receiving node stores nothing that
    singles a vehicle out)."""
    problems: list[tuple[str, str]] = []
    if not isinstance(body, dict):
        raise AggregateInvalid([("$", "must be a JSON object")])
    batch = body.get("batch")
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        problems.append(("$.batch", "must be a positive integer (the sender's batch number)"))
    k = body.get("minGroupSize")
    if not isinstance(k, int) or isinstance(k, bool) or k < 2:
        problems.append(("$.minGroupSize", "must be an integer of at least 2"))
        k = 2
    if not isinstance(body.get("policyVersion"), str):
        problems.append(("$.policyVersion", "must be a string"))
    groups = body.get("groups")
    if not isinstance(groups, list):
        problems.append(("$.groups", "must be a list"))
        groups = []
    for i, group in enumerate(groups):
        where = f"$.groups[{i}]"
        if not isinstance(group, dict):
            problems.append((where, "must be an object"))
            continue
        if not isinstance(group.get("bizStep"), str) or not isinstance(group.get("day"), str):
            problems.append((where, "needs bizStep and day (strings)"))
        if group.get("market") is not None and not isinstance(group.get("market"), str):
            problems.append((f"{where}.market", "must be a country code or null"))
        if not _count(group.get("count")) or group["count"] < k:
            problems.append((f"{where}.count", f"must be an integer of at least minGroupSize ({k})"))
    suppressed = body.get("suppressed")
    if not isinstance(suppressed, dict) or not all(_count(suppressed.get(n)) for n in ("events", "groups")):
        problems.append(("$.suppressed", "must give events and groups (integers, 0 or more)"))
    bases = body.get("bases", [])
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        problems.append(("$.bases", "must be a list of strings"))
    if problems:
        raise AggregateInvalid(problems)
    # Only the fields named here are kept: anything else a sender adds is not stored (a field no rule names
    # is personal until classified).
    return int(batch), {  # type: ignore[arg-type]
        "policyVersion": body["policyVersion"], "minGroupSize": k, "bases": list(bases),
        "withheld": body["withheld"] if _count(body.get("withheld")) else None,
        "marketAllowed": body.get("marketAllowed") is True,
        "groups": [{"market": g.get("market"), "bizStep": g["bizStep"], "day": g["day"], "count": g["count"]}
                   for g in groups],
        "suppressed": {"events": suppressed["events"], "groups": suppressed["groups"]},  # type: ignore[index]
    }


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One batch in the outbox to one peer: its body, ``pending`` until the peer stored it, failed attempts,
    and the transfer records it counts (ids ``first_transfer`` to ``last_transfer``)."""

    peer: str
    region: str
    body: dict[str, Any]
    state: str
    attempts: int
    created_at: int
    first_transfer: int
    last_transfer: int
    last_error: str | None = None
    delivered_at: int | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class ReceivedRow:
    """One batch a peer delivered here: the sending node and its region (from the authenticated party, never
    from the body), the sender's batch number, the body, when it arrived."""

    sender: str
    region: str
    batch: int
    body: dict[str, Any]
    received_at: int
    id: int = 0


class AggregateRecords(Protocol):
    """The aggregates' outbox, cursor and received batches inside one transaction."""

    def transfers_after(self, peer: str, after: int, *, until_at: int, limit: int) -> list[TransferRow]:
        """Transfers to ``peer`` with ids past ``after``, recorded at or before ``until_at``, oldest first."""
        ...

    def cursor(self, peer: str) -> int:
        """The last transfer id to ``peer`` already batched (0: none)."""
        ...

    def set_cursor(self, peer: str, after: int) -> None:
        """Every transfer to ``peer`` up to id ``after`` is batched."""
        ...

    def counted(self, peer: str, event_ids: Collection[str]) -> set[str]:
        """Those of ``event_ids`` an earlier batch to ``peer`` counted."""
        ...

    def mark_counted(self, peer: str, event_ids: Collection[str], batch: int) -> None:
        """``event_ids`` are counted by ``batch`` to ``peer``."""
        ...

    def insert_outbox(self, row: OutboxRow) -> int:
        """Store a batch in the outbox; its id."""
        ...

    def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Batches in the outbox (in one state, unless None): pending ones oldest first, else newest first."""
        ...

    def mark_delivered(self, row_id: int, at: int) -> None:
        """The peer stored the batch."""
        ...

    def mark_failed(self, row_id: int, error: str) -> None:
        """A delivery attempt failed: count it, keep the error."""
        ...

    def insert_received(self, row: ReceivedRow) -> int | None:
        """Store a batch a peer delivered; its id, or None when that sender's batch is stored already."""
        ...

    def received(self, *, limit: int = 100) -> list[ReceivedRow]:
        """Batches received, newest first."""
        ...

    def totals(self) -> dict[str, dict[str, int]]:
        """Per peer: batches sent (delivered), pending, and received."""
        ...

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...
