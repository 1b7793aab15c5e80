"""Recalls across regions, the rules without I/O: what a relayed campaign is, what a regional node may report
back of it, and the campaign's status per region on the node that defined it.

The home node defines a campaign on lots and serials; its definition (scope, remedy, defect, dates — nothing
personal) goes to each peer region's node through a durable outbox (:class:`RelayRow`, pending until the
peer has it). The regional node opens the same campaign from it: it resolves its own affected vehicles
through its own where-used and notifies its own market's dealers and repairers, so owners and VINs never
leave it. It reports completion back as counts by market (``recall_notification`` in
``classification.yaml``: ``affected_count`` and ``completion`` are non-personal aggregates), projected by
its own policy. The home node's status shows each region's counts and marks the regions that have not
reported (issue: regional nodes §3).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from roadpass.ledger.chain import Subject
from roadpass.regions.model import Decision
from roadpass.regions.projection import Border

__all__ = [
    "DELIVERED",
    "PENDING",
    "CampaignLike",
    "CampaignSource",
    "RelayRecords",
    "RelayRow",
    "RelayStatus",
    "Unrestricted",
    "project_report",
    "to_relay",
]

PENDING = "pending"
DELIVERED = "delivered"
_REPORT_KIND = "recall_notification"
#: The report's fields, each classed by the classification's ``recall_notification`` kind.
_REPORT_FIELDS = {"affected": "affected_count", "open": "affected_count", "noLongerFitted": "affected_count",
                  "remedied": "completion"}


class CampaignLike(Protocol):
    """What the relay reads of a stored campaign: its key and who opened it."""

    @property
    def key(self) -> str: ...

    @property
    def created_by(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Unrestricted:
    """The recall service's viewer with no restriction (every campaign, every market): the relay worker
    reads every campaign this node holds to relay the new ones."""

    party_key: str | None = None
    role: str | None = None
    country: str | None = None
    visibility: None = None


class CampaignSource(Protocol):
    """What the federation needs of the recalls feature (bootstrap passes the recall service)."""

    def campaigns(self, viewer: Any) -> Sequence[tuple[CampaignLike, Any]]:
        """Every campaign ``viewer`` sees, with its totals."""
        ...

    def definition(self, key: str) -> dict[str, Any]:
        """The campaign's non-personal definition as a campaign request (LookupError when there is none)."""
        ...

    def create(self, body: object, *, actor: str, owner: str) -> object:
        """Open a campaign from a request (ValueError subclasses when it is invalid or exists)."""
        ...

    def completion_counts(self, key: str) -> dict[str, dict[str, int]]:
        """Completion per market as counts (LookupError when there is no such campaign)."""
        ...


@dataclass(frozen=True, slots=True)
class RelayRow:
    """One campaign relayed to one peer: the outbox state (``pending`` until delivered), failed attempts,
    and the last completion counts the peer's region reported (None: not yet)."""

    campaign_key: str
    peer: str
    region: str
    definition: dict[str, Any]
    state: str
    attempts: int
    created_at: int
    last_error: str | None = None
    delivered_at: int | None = None
    report: dict[str, Any] | None = None
    reported_at: int | None = None
    id: int = 0


class RelayRecords(Protocol):
    """The relay outbox inside one transaction."""

    def insert_relay(self, row: RelayRow) -> int | None:
        """Store a relay row; its id, or None when the campaign is relayed to that peer already."""
        ...

    def relays(self, *, campaign_key: str | None = None, state: str | None = None) -> list[RelayRow]:
        """The relay rows (of one campaign, in one state, unless None), oldest first."""
        ...

    def relayed_campaigns(self) -> set[str]:
        """The campaign keys relayed to any peer."""
        ...

    def mark_delivered(self, row_id: int, at: int) -> None:
        """The peer has the campaign."""
        ...

    def mark_failed(self, row_id: int, error: str) -> None:
        """A delivery attempt failed: count it, keep the error."""
        ...

    def save_report(self, row_id: int, report: dict[str, Any], at: int) -> None:
        """The completion counts the peer's region reported."""
        ...

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...


def to_relay(campaigns: Sequence[CampaignLike], relayed: Collection[str]) -> list[str]:
    """The campaigns the relay worker hands to the peers: those opened on this node (a campaign a peer node
    handed over, opened by ``node:<peer>``, is carried out here, not relayed on) and not relayed yet."""
    return [c.key for c in campaigns if not c.created_by.startswith("node:") and c.key not in relayed]


def project_report(counts: Mapping[str, Mapping[str, int]], border: Border) -> tuple[dict[str, Any], list[str]]:
    """A regional node's completion counts as they may cross ``border``: per market, each count classed
    (``recall_notification``) and kept when its class may cross as it is or as an aggregate (a count is the
    aggregate); the fields withheld are named."""
    allowed: dict[str, bool] = {}
    for name, field in _REPORT_FIELDS.items():
        rule = border.classification.rule(_REPORT_KIND, field)
        data_class = rule.classify(origin=border.origin)
        decision = border.policy.decide(border.origin, border.destination, data_class).decision
        allowed[name] = decision in (Decision.ALLOW, Decision.ALLOW_AGGREGATED, Decision.ALLOW_PSEUDONYMISED)
    out = {market: {name: int(row.get(name, 0)) for name in _REPORT_FIELDS if allowed[name]}
           for market, row in counts.items()}
    return out, sorted(name for name, ok in allowed.items() if not ok)


@dataclass(frozen=True, slots=True)
class RelayStatus:
    """A relayed campaign on the node that defined it: per region the outbox state and the counts reported,
    this node's own counts, and the regions that have not reported."""

    campaign_key: str
    own_region: str
    own: Mapping[str, Mapping[str, int]]
    rows: Sequence[RelayRow]

    def as_json(self) -> dict[str, Any]:
        """The status as the API and CLI show it; ``complete`` only when every region reported."""
        regions: list[dict[str, Any]] = [{"region": self.own_region, "node": "(this node)", "state": DELIVERED,
                                          "reported": True, "byMarket": dict(self.own)}]
        for row in self.rows:
            regions.append({"region": row.region, "node": row.peer, "state": row.state,
                            "attempts": row.attempts, "lastError": row.last_error,
                            "reported": row.report is not None, "reportedAt": row.reported_at,
                            "byMarket": (row.report or {}).get("byMarket", {})})
        missing = [r["region"] for r in regions if not r["reported"]]
        totals: dict[str, int] = {}
        for region in regions:
            for counts in region["byMarket"].values():
                for name, value in counts.items():
                    totals[name] = totals.get(name, 0) + int(value)
        return {"campaignKey": self.campaign_key, "complete": not missing, "notReported": missing,
                "totals": totals, "regions": regions}
