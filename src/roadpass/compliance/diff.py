"""What changed between two assessment versions of a product in a market, and why.

Causes, per requirement: the rule is new in the pack or withdrawn, amended (``diff_packs``), newly in force
(a date or model year was reached), the product changed (attributes that the scope reads), evidence expired,
was added or withdrawn, or is about to expire; when nothing else explains it, the assessment date moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from roadpass.compliance.pack_models import PackDiff
from roadpass.compliance.results import Assessment, RequirementResult

__all__ = ["AssessmentDiff", "Change", "diff_assessments"]


@dataclass(frozen=True, slots=True)
class Change:
    """A requirement whose status or basis changed, with the causes in words."""

    requirement_id: str
    before: str | None
    after: str | None
    causes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"requirement": self.requirement_id, "before": self.before, "after": self.after,
                "causes": list(self.causes)}


@dataclass(frozen=True, slots=True)
class AssessmentDiff:
    """Changes between two versions of an assessment."""

    product_key: str
    market: str
    old_version: int | None
    new_version: int | None
    old_on: dt.date
    new_on: dt.date
    pack: str | None
    product_changes: tuple[str, ...]
    changes: tuple[Change, ...]
    #: The pack amendments between the two versions, ``"<version>: <summary>"`` (what changed and why).
    amendments: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"product": self.product_key, "market": self.market, "from_version": self.old_version,
                "to_version": self.new_version, "from_on": self.old_on.isoformat(), "to_on": self.new_on.isoformat(),
                "pack": self.pack, "product_changes": list(self.product_changes),
                "changes": [c.to_json() for c in self.changes], "amendments": list(self.amendments)}


def _attribute_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            out.append(f"{name}: {old.get(name, '(none)')} -> {new.get(name, '(none)')}")
    return out


def _evidence_causes(old: Assessment, new: Assessment, before: RequirementResult | None,
                     after: RequirementResult | None) -> list[str]:
    causes = []
    used_before = set(before.evidence) if before else set()
    used_after = set(after.evidence) if after else set()
    for key in sorted(used_before - used_after):
        if key not in new.evidence_state:
            causes.append(f"evidence withdrawn: {key}")
            continue
        expires = new.evidence_state.get(key)
        if expires is not None and dt.date.fromisoformat(expires) <= new.on:
            causes.append(f"evidence expired: {key} on {expires}")
        else:
            causes.append(f"evidence no longer used: {key}")
    for key in sorted(used_after - used_before):
        causes.append(f"evidence added: {key}" if key not in old.evidence_state else f"evidence now used: {key}")
    if after is not None and after.status == "expiring" and (before is None or before.status != "expiring"):
        causes.append(f"evidence expiring on {after.expires_on} (within {new.window_days} days)")
    return causes


def diff_assessments(old: Assessment, new: Assessment, pack_diff: PackDiff | None = None) -> AssessmentDiff:
    """Compare two assessments of the same product and market (``pack_diff`` when pack versions differ)."""
    if (old.product_key, old.market) != (new.product_key, new.market):
        raise ValueError("diff: both assessments must be of the same product and market")
    before = {r.requirement_id: r for r in old.results}
    after = {r.requirement_id: r for r in new.results}
    attr_changes = _attribute_changes(old.attributes, new.attributes)
    product_changed = old.product_hash != new.product_hash
    amended = {c.id: c.fields for c in pack_diff.changed} if pack_diff else {}
    changes = []
    for rid in list(before) + [r for r in after if r not in before]:
        b, a = before.get(rid), after.get(rid)
        same_status = b is not None and a is not None and b.status == a.status
        if same_status and b is not None and a is not None and b.evidence == a.evidence:
            continue
        causes: list[str] = []
        if b is None:
            causes.append(f"new rule in pack {new.pack_version}")
        elif a is None:
            causes.append(f"rule withdrawn in pack {new.pack_version}")
        else:
            if rid in amended:
                causes.append(f"rule amended in pack {new.pack_version} ({', '.join(amended[rid])})")
            if b.in_force == "false" and a.in_force != "false":
                causes.append(f"new rule in force (binds {a.binding_from or 'now'})")
            if b.in_force != "false" and a.in_force == "false":
                causes.append("rule no longer in force for this product")
            if b.applies != a.applies or (product_changed and b.status != a.status and not causes):
                what = "; ".join(attr_changes[:4]) or "technical file changed"
                causes.append(f"product changed: {what}")
        causes += _evidence_causes(old, new, b, a)
        if not causes:
            causes.append(f"assessment date moved from {old.on} to {new.on}")
        changes.append(Change(rid, b.status if b else None, a.status if a else None, tuple(causes)))
    pack = None if old.pack_version == new.pack_version else f"{old.pack_version} -> {new.pack_version}"
    amendments = tuple(f"{v}: {summary}" for v, summary in pack_diff.amendments) if pack_diff else ()
    return AssessmentDiff(new.product_key, new.market, old.version, new.version, old.on, new.on, pack,
                          tuple(attr_changes) if product_changed or attr_changes else (), tuple(changes), amendments)
