"""Node-to-node transfers: a node's peers (as configured), and a page of EPCIS events projected for one peer's
border with a summary of what the projection did — the content of the transfer's ledger entry.

A peer is another roadpass node in a known region, reached at its base url; a subscription whose webhook
``dest`` lies under that url is a transfer to the peer's region (EPCIS 2.0 §8.2.5 subscriptions, delivered
into the peer's ``/capture``). The events go through :func:`roadpass.regions.projection.project_event` one by
one; an event that may only cross as an aggregate is withheld and counted instead: by business step, and by
(business step, UTC day of its eventTime, business location) for the aggregates delivered to the peer later
(:mod:`roadpass.regions.aggregates`: the location is resolved to its market there, and never crosses itself).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from roadpass.regions.model import DataClass, Decision, Region, TransferRule
from roadpass.regions.policy import PolicyError, TransferPolicy
from roadpass.regions.projection import Border, project_event

__all__ = [
    "UNKNOWN_REGION",
    "Peer",
    "TransferSummary",
    "external_destination",
    "parse_peers",
    "project_page",
    "unknown_destination_policy",
]

#: The region of a destination no peer names (docs/regions.md, "Destinations that are not peers").
UNKNOWN_REGION = "unknown"
_UNKNOWN_BASIS = "unknown-destination"
_UNKNOWN_CITATION = (
    "Regulation (EU) 2016/679 Art. 44: personal data goes to a third country only if the conditions of Chapter V "
    "are complied with; a destination that is no known peer lies in no known region, so no adequacy decision "
    "(Art. 45) or appropriate safeguard (Art. 46) can be shown for it, and pseudonymised data is personal data "
    "too (Recital 26): only non-personal data crosses")


@dataclass(frozen=True, slots=True)
class Peer:
    """Another roadpass node: its name, its region, its base url (``https://home.example``) and, optionally,
    the party on this node whose webhook key it signs its deliveries with (what it captured here arose in its
    region: the residency audit judges it by that region's policy)."""

    node: str
    region: str
    url: str
    party: str | None = None

    def serves(self, dest: str) -> bool:
        """Whether a webhook ``dest`` lies under this peer's url (its ``/capture``, or any of its paths)."""
        return dest.startswith(self.url.rstrip("/") + "/")

    def as_json(self) -> dict[str, str]:
        """The peer as configured."""
        found = {"node": self.node, "region": self.region, "url": self.url}
        return found if self.party is None else {**found, "party": self.party}


def parse_peers(raw: Sequence[Mapping[str, Any]], regions: Mapping[str, Region]) -> tuple[Peer, ...]:
    """The peers of ``ROADPASS_PEERS``, each checked: a mistake names its path (``peers[1].region``)."""
    peers: list[Peer] = []
    for i, spec in enumerate(raw):
        for name in ("node", "region", "url"):
            if not isinstance(spec.get(name), str) or not spec[name]:
                raise PolicyError(f"peers[{i}].{name}", "is required (a non-empty string)")
        if spec["region"] not in regions:
            raise PolicyError(f"peers[{i}].region", f"{spec['region']!r} is not a known region")
        if not spec["url"].startswith(("http://", "https://")):
            raise PolicyError(f"peers[{i}].url", "must be an http(s) url")
        if any(p.node == spec["node"] for p in peers):
            raise PolicyError(f"peers[{i}].node", f"{spec['node']!r} is named twice")
        party = spec.get("party")
        if party is not None and (not isinstance(party, str) or not party):
            raise PolicyError(f"peers[{i}].party", "must be a party key (a non-empty string)")
        peers.append(Peer(spec["node"], spec["region"], spec["url"], party))
    return tuple(peers)


@dataclass(slots=True)
class TransferSummary:
    """What one transfer carried and what was done to it: events offered and sent, per field how often it was
    removed, pseudonymised or withheld for aggregation, the rule per class, and the aggregate counts."""

    origin: str
    destination: str
    policy_version: str
    events: int = 0
    sent: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    pseudonymised: Counter[str] = field(default_factory=Counter)
    aggregated: Counter[str] = field(default_factory=Counter)
    bases: dict[str, str] = field(default_factory=dict)
    aggregates: Counter[str] = field(default_factory=Counter)
    groups: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    group_ids: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The summary as stored with the transfer (sorted, so that equal transfers store equal text)."""
        return {
            "origin": self.origin, "destination": self.destination, "policyVersion": self.policy_version,
            "events": self.events, "sent": self.sent, "withheld": self.events - self.sent,
            "removed": dict(sorted(self.removed.items())),
            "pseudonymised": dict(sorted(self.pseudonymised.items())),
            "aggregated": dict(sorted(self.aggregated.items())),
            "bases": dict(sorted(self.bases.items())),
            "aggregatesByBizStep": dict(sorted(self.aggregates.items())),
            **({"aggregateGroups": [{"bizStep": step, "day": day, "bizLocation": location or None, "count": n,
                                     "eventIDs": sorted(self.group_ids.get((step, day, location), ()))}
                                    for (step, day, location), n in sorted(self.groups.items())]}
               if self.groups else {}),
        }


def _day(event: Mapping[str, Any]) -> str:
    """The UTC day of an event's ``eventTime`` (``YYYY-MM-DD``; "" when it has none or it does not parse)."""
    try:
        at = datetime.fromisoformat(str(event.get("eventTime")))
    except ValueError:
        return ""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).astimezone(UTC).date().isoformat()


def _location(event: Mapping[str, Any]) -> str:
    """The business location's id (a site, non-personal); "" for none or a ``geo:`` location (a precise
    location is personal: classification.yaml ``bizLocation.geo``, it is not even kept for the count)."""
    where = event.get("bizLocation")
    found = where.get("id") if isinstance(where, Mapping) else None
    return found if isinstance(found, str) and not found.startswith("geo:") else ""


def project_page(events: Sequence[Mapping[str, Any]], border: Border) -> tuple[list[dict[str, Any]], TransferSummary]:
    """``events`` as they may cross ``border`` (in order; withheld ones left out) and the summary."""
    summary = TransferSummary(border.origin, border.destination, border.policy.version, events=len(events))
    out: list[dict[str, Any]] = []
    for event in events:
        projection = project_event(event, border)
        summary.removed.update(projection.removed)
        summary.pseudonymised.update(projection.pseudonymised)
        summary.aggregated.update(projection.aggregated)
        for rule in projection.rules.values():
            summary.bases[str(rule.data_class)] = f"{rule.decision}: {rule.basis}"
        if projection.event is None:
            # Only a count crosses for it (allow_aggregated): never the event itself.
            summary.aggregates[str(event.get("bizStep") or "none")] += 1
            group = (str(event.get("bizStep") or "none"), _day(event), _location(event))
            summary.groups[group] += 1
            if isinstance(event.get("eventID"), str):
                # Kept here (never sent) so that an event counted by two transfers — a retried delivery, two
                # subscriptions to one peer — is counted once in the aggregates.
                summary.group_ids.setdefault(group, []).append(event["eventID"])
        else:
            out.append(projection.event)
    summary.sent = len(out)
    return out, summary


def unknown_destination_policy(policy: TransferPolicy) -> TransferPolicy:
    """``policy`` as it applies to a subscription whose destination is no known peer, taken as a foreign region
    no rule names (:data:`UNKNOWN_REGION`): non-personal data as the policy says for any destination
    (its rules to ``*`` and its default), every other class denied under GDPR Art. 44."""
    rules = tuple(rule for rule in policy.rules
                  if rule.destination == "*" and rule.data_class is DataClass.NON_PERSONAL)
    defaults: dict[DataClass, TransferRule] = {
        data_class: TransferRule("*", "*", data_class, Decision.DENY, _UNKNOWN_BASIS, _UNKNOWN_CITATION)
        for data_class in DataClass if data_class is not DataClass.NON_PERSONAL}
    if DataClass.NON_PERSONAL in policy.defaults:
        defaults[DataClass.NON_PERSONAL] = policy.defaults[DataClass.NON_PERSONAL]
    unknown = Region(key=UNKNOWN_REGION, city="(not known)", country="(not known)",
                     law="none known: the destination is no peer of this node", source="docs/regions.md")
    return TransferPolicy(version=policy.version, rules=rules, defaults=defaults,
                          regions={**policy.regions, UNKNOWN_REGION: unknown})


def external_destination(dest: str) -> str:
    """How a transfer to a destination that is no peer is recorded: ``external:<host[:port]>``."""
    return f"external:{urlsplit(dest).netloc}"[:100]
