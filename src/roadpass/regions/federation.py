"""Work that spans regions, the rules without I/O: a where-used answer projected for the region that asks,
and the answers of several regions put together — marked partial when a region did not answer.

A regional node answers a where-used asked from another region with what its transfer policy allows to
cross to that region (issue: regional nodes §3): every field of the answer is classed by the classification
(``where_used_answer`` in ``classification.yaml``) and treated as the policy decides for its class at that
border. The roll-ups are counts that identify no one (GDPR Recital 26); each hit names a vehicle in use
(pseudonymous, CJEU C-319/22): it crosses as it is, under the origin region's pseudonyms, or not at all
(counts only) — never silently: the projection says what it removed or pseudonymised and under which rule.

The asking node never learns less than it is told: a region that is down, timed out or refused is named,
and the federated answer is then ``partial`` (never silently short).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from roadpass.regions.model import Decision
from roadpass.regions.projection import Border, Projection

__all__ = [
    "ANSWERED",
    "WHERE_USED_KIND",
    "FederatedWhereUsed",
    "RegionAnswer",
    "project_where_used",
]

WHERE_USED_KIND = "where_used_answer"
ANSWERED = "answered"
#: What of a hit crosses under a pseudonym: its market and whether it still holds the unit (no VIN, no
#: fitting times: a VIN is the identifier itself, and dated fittings single a vehicle out (GDPR Recital 26)).
_PSEUDONYMOUS_HIT_FIELDS = ("market", "current")


def _pseudonymous_hit(hit: Mapping[str, Any], border: Border) -> dict[str, Any]:
    pseudonym = border.pseudonymiser.pseudonym
    out: dict[str, Any] = {"id": pseudonym(str(hit["id"]))}
    out.update({name: hit[name] for name in _PSEUDONYMOUS_HIT_FIELDS if name in hit})
    out["via"] = [pseudonym(str(key)) for key in hit.get("via") or ()]
    return out


def project_where_used(answer: Mapping[str, Any], border: Border) -> Projection:
    """``answer`` (a where-used answer as ``GET /trace/where-used`` gives it) as it may cross ``border``: each
    field classed (one no rule names is personal until classified, so it stays home) and treated as the
    policy decides. The projection's ``event`` is the answer that crosses."""
    out: dict[str, Any] = {}
    projection = Projection(event=out)
    for name, value in answer.items():
        rule = border.classification.rule(WHERE_USED_KIND, name)
        # Every hit is a top-level holder in a keeper's hands or about to be: classed as in use.
        data_class = rule.classify(origin=border.origin, in_use=True)
        decision = border.policy.decide(border.origin, border.destination, data_class)
        projection.rules[name] = decision
        if decision.decision is Decision.ALLOW:
            out[name] = value
        elif decision.decision is Decision.ALLOW_PSEUDONYMISED and name == "hits":
            out[name] = [_pseudonymous_hit(hit, border) for hit in value]
            projection.pseudonymised.append(name)
        elif decision.decision is Decision.ALLOW_AGGREGATED:
            projection.aggregated.append(name)  # the roll-ups are the aggregate: they cross as counts
        else:
            projection.removed.append(name)
    return projection


@dataclass(frozen=True, slots=True)
class RegionAnswer:
    """One region's part of a federated answer: which node, whether it answered (``status`` "answered",
    else "unreachable", "timeout", "refused" or "withheld"), and what it answered (as its policy allowed)."""

    node: str
    region: str
    status: str
    answer: dict[str, Any] | None = None
    reason: str | None = None

    @property
    def answered(self) -> bool:
        """Whether this region answered (an answer of no vehicles is an answer)."""
        return self.status == ANSWERED

    def as_json(self) -> dict[str, Any]:
        """The region's part as the API and CLI show it."""
        found: dict[str, Any] = {"node": self.node, "region": self.region, "status": self.status}
        if self.answer is not None:
            found["answer"] = self.answer
        if self.reason is not None:
            found["reason"] = self.reason
        return found


@dataclass(frozen=True, slots=True)
class FederatedWhereUsed:
    """A where-used asked on this node and answered by every region: each region's part, which answered and
    which did not; ``partial`` whenever one did not (the totals then undercount, and say so)."""

    identifier: str
    regions: Sequence[RegionAnswer]
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        """True when a region did not answer: the answer is short by what that region holds."""
        return any(not region.answered for region in self.regions)

    @classmethod
    def of(cls, identifier: str, regions: Sequence[RegionAnswer]) -> FederatedWhereUsed:
        """Put the regions' answers together: vehicles ever and now, and by market, summed over the regions
        that answered (markets do not straddle regions, so nothing is counted twice)."""
        vehicles = now = 0
        by_market: dict[str, int] = {}
        for region in regions:
            body = region.answer or {}
            vehicles += int(body.get("vehicles") or 0)
            now += int(body.get("vehiclesNow") or 0)
            for market, count in (body.get("byMarket") or {}).items():
                by_market[market] = by_market.get(market, 0) + int(count)
        totals = {"vehicles": vehicles, "vehiclesNow": now,
                  "byMarket": dict(sorted(by_market.items(), key=lambda item: (-item[1], item[0])))}
        return cls(identifier, tuple(regions), totals)

    def as_json(self) -> dict[str, Any]:
        """The federated answer as the API and CLI show it."""
        return {
            "id": self.identifier,
            "partial": self.partial,
            "answered": [r.region for r in self.regions if r.answered],
            "notAnswered": [{"node": r.node, "region": r.region, "status": r.status, "reason": r.reason}
                            for r in self.regions if not r.answered],
            "totals": self.totals,
            "regions": [r.as_json() for r in self.regions],
        }
