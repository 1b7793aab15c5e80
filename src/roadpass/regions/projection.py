"""What of an EPCIS event may cross one border: each field classed, the policy asked, the event projected.

A field the policy allows crosses as it is; ``allow_pseudonymised`` replaces its identifiers with the origin
region's pseudonyms; ``allow_aggregated`` and ``deny`` leave it home (aggregates are counted elsewhere, never
sent per event). An event that would arrive with no identifier left is not sent at all. The projection says
what it removed and transformed, and under which rule, so that every transfer can be ledgered with them.
The eventID crosses unchanged: the receiving node stores each event once (EPCIS 2.0 §7.4.1 idempotent
capture), and the id is a hash or a random UUID, not an identifier of a unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from roadpass.regions.model import DataClass, Decision, TransferRule
from roadpass.regions.policy import Classification, TransferPolicy
from roadpass.regions.pseudonymise import Pseudonymiser

__all__ = ["EVENT_KIND", "IDENTIFIER_FIELDS", "Border", "Projection", "project_event"]

EVENT_KIND = "epcis_event"
#: Fields whose values are unit or lot identifiers (EPCIS 2.0 §7.3): what pseudonymisation replaces.
IDENTIFIER_FIELDS = frozenset({"epcList", "parentID", "childEPCs", "inputEPCList", "outputEPCList"})
_QUANTITY_FIELDS = frozenset({"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"})


@dataclass(frozen=True, slots=True)
class Border:
    """One transfer's border: from the node's region to a peer's, under a policy and a classification."""

    origin: str
    destination: str
    policy: TransferPolicy
    classification: Classification
    pseudonymiser: Pseudonymiser


@dataclass(slots=True)
class Projection:
    """An event as it may cross (``event`` None: it stays home), and what was done to it under which rule."""

    event: dict[str, Any] | None
    removed: list[str] = field(default_factory=list)
    pseudonymised: list[str] = field(default_factory=list)
    aggregated: list[str] = field(default_factory=list)
    rules: dict[str, TransferRule] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What a ledger entry records of this projection: fields removed/pseudonymised/aggregated, bases."""
        return {"sent": self.event is not None, "removed": sorted(self.removed),
                "pseudonymised": sorted(self.pseudonymised), "aggregated": sorted(self.aggregated),
                "bases": sorted({f"{rule.data_class}:{rule.decision}:{rule.basis}" for rule in self.rules.values()})}


def _has_geo(value: Any) -> bool:
    """A precise location: a ``geo:`` URI anywhere in the value, or a sensor report of a location."""
    if isinstance(value, str):
        return value.startswith("geo:")
    if isinstance(value, Mapping):
        if str(value.get("type", "")).endswith(("Location", "location")) or "coordinateReferenceSystem" in value:
            return True
        return any(_has_geo(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_geo(v) for v in value)
    return False


def _pseudonymise(name: str, value: Any, pseudonymiser: Pseudonymiser) -> Any:
    if name in ("parentID",) and isinstance(value, str):
        return pseudonymiser.pseudonym(value)
    if isinstance(value, list):
        return [pseudonymiser.pseudonym(v) if isinstance(v, str) else v for v in value]
    return value


def project_event(event: Mapping[str, Any], border: Border) -> Projection:
    """``event`` as it may cross ``border``: each top-level field classed (unknown ones — user extensions —
    are personal until classified) and treated as the policy decides for its class at this border."""
    in_use = border.classification.in_use(event.get("bizStep"))
    out: dict[str, Any] = {}
    projection = Projection(event=None)
    had_identifiers = False
    for name, value in event.items():
        rule = border.classification.rule(EVENT_KIND, name)
        data_class = rule.classify(origin=border.origin, in_use=in_use, geo=_has_geo(value))
        decision = border.policy.decide(border.origin, border.destination, data_class)
        projection.rules[name] = decision
        had_identifiers |= name in IDENTIFIER_FIELDS or name in _QUANTITY_FIELDS
        if decision.decision is Decision.ALLOW:
            out[name] = value
        elif decision.decision is Decision.ALLOW_PSEUDONYMISED:
            if name in IDENTIFIER_FIELDS:
                out[name] = _pseudonymise(name, value, border.pseudonymiser)
                projection.pseudonymised.append(name)
            elif name in _QUANTITY_FIELDS or data_class is DataClass.PERSONAL:
                projection.removed.append(name)  # class-level keys with amounts: no pseudonym to give them
            else:
                out[name] = value  # about the pseudonymous unit, not an identifier of it
        elif decision.decision is Decision.ALLOW_AGGREGATED:
            projection.aggregated.append(name)
        else:
            projection.removed.append(name)
    still_identified = any(name in out for name in IDENTIFIER_FIELDS | _QUANTITY_FIELDS)
    if not had_identifiers or still_identified:
        projection.event = out
    return projection
