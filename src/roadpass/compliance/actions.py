"""Gaps and requirements to confirm become action items with an owner (RACI) and a due date; approvals and
risk acceptances are decisions.

A gap's action is to close it (``kind`` "gap"); a requirement to confirm (its scope or its deciding date is
not confirmed at a primary source) gets an action to confirm it (``kind`` "to_confirm"): its reason says what
to read or ask, and the owner is the RACI of the requirement's topic, like a gap's.

A decision records who decided, when, why, and a *snapshot* of the assessment state it decided on (the
assessment version and the results JSON with its SHA-256), so a later change of the state does not silently
change what was approved or accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from roadpass.compliance.product import TechnicalFile
from roadpass.compliance.results import Assessment

__all__ = ["ActionItem", "Decision", "DecisionError", "actions_for", "make_decision"]

DecisionKind = Literal["approval", "risk_acceptance"]
#: Result statuses that make an action item.
ACTION_STATUSES = ("gap", "to_confirm")
#: Days given to close a gap whose deadline has already passed (the market entry is due or overdue).
OVERDUE_GRACE_DAYS = 30


class DecisionError(ValueError):
    """A decision that cannot be recorded (names the field and the reason)."""


@dataclass(frozen=True, slots=True)
class ActionItem:
    """What must be done to close one gap, by whom (RACI) and by when."""

    product_key: str
    market: str
    requirement_id: str
    title: str
    severity: str
    responsible_party: str
    responsible_person: str
    accountable: str
    consulted: tuple[str, ...]
    informed: tuple[str, ...]
    due_on: dt.date
    reason: str
    assessment_version: int | None = None
    status: str = "open"
    id: int | None = None
    #: ``gap`` (close it) or ``to_confirm`` (confirm the requirement at its primary source).
    kind: str = "gap"

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"id": self.id, "product": self.product_key, "market": self.market,
                "requirement": self.requirement_id, "title": self.title, "severity": self.severity,
                "raci": {"responsible_party": self.responsible_party, "responsible_person": self.responsible_person,
                         "accountable": self.accountable, "consulted": list(self.consulted),
                         "informed": list(self.informed)},
                "due_on": self.due_on.isoformat(), "reason": self.reason,
                "assessment_version": self.assessment_version, "status": self.status, "kind": self.kind}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, stored_id: int | None = None) -> ActionItem:
        """Inverse of :meth:`to_json`; ``stored_id`` is the item's row id (the JSON is written before it has one)."""
        raci = data["raci"]
        return cls(
            data["product"], data["market"], data["requirement"], data["title"], data["severity"],
            raci["responsible_party"], raci["responsible_person"], raci["accountable"], tuple(raci["consulted"]),
            tuple(raci["informed"]), dt.date.fromisoformat(data["due_on"]), data["reason"],
            data.get("assessment_version"), data.get("status", "open"),
            stored_id if stored_id is not None else data.get("id"), data.get("kind", "gap"),
        )

    def still_open(self, latest: Assessment | None) -> bool:
        """True while ``latest`` (the newest stored assessment of the item's product and market) shows the gap
        (or, for an item to confirm, still shows the requirement as to confirm)."""
        return latest is not None and any(
            r.requirement_id == self.requirement_id and r.status == self.kind for r in latest.results)


def actions_for(assessment: Assessment, tf: TechnicalFile) -> list[ActionItem]:
    """One action item per gap and per requirement to confirm of ``assessment``, owned per the file's RACI
    for the requirement's topic."""
    out = []
    for r in assessment.results:
        if r.status not in ACTION_STATUSES:
            continue
        raci = tf.raci_for(r.topic)
        due = r.deadline if r.deadline and r.deadline > assessment.on else (
            assessment.on + dt.timedelta(days=OVERDUE_GRACE_DAYS))
        out.append(ActionItem(
            tf.key, assessment.market, r.requirement_id,
            f"{'Close' if r.status == 'gap' else 'Confirm'} {r.requirement_id}: {r.title}", r.severity,
            raci.responsible_party if raci else "unassigned", raci.responsible_person if raci else "unassigned",
            raci.accountable if raci else "unassigned", raci.consulted if raci else (),
            raci.informed if raci else (), due, r.reason, assessment.version, kind=r.status,
        ))
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """An approval or a risk acceptance, with the snapshot of the state it decided on."""

    kind: DecisionKind
    product_key: str
    market: str
    requirement_id: str | None
    decided_by: str
    decided_at: str
    rationale: str
    assessment_version: int | None
    snapshot: dict[str, Any]
    snapshot_hash: str
    valid_until: dt.date | None = None
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"id": self.id, "kind": self.kind, "product": self.product_key, "market": self.market,
                "requirement": self.requirement_id, "decided_by": self.decided_by, "decided_at": self.decided_at,
                "rationale": self.rationale, "assessment_version": self.assessment_version,
                "valid_until": self.valid_until.isoformat() if self.valid_until else None,
                "snapshot_hash": self.snapshot_hash, "snapshot": self.snapshot}


def make_decision(
    kind: DecisionKind, assessment: Assessment, *, decided_by: str, rationale: str,
    requirement_id: str | None = None, valid_until: dt.date | None = None, now: dt.datetime | None = None,
) -> Decision:
    """Record an approval of an assessment, or the acceptance of the risk of one gap, with its snapshot.

    A risk acceptance names a requirement whose status is a gap, expiring or to confirm; an approval of a whole
    assessment with blocker gaps is refused (accept those risks one by one first).
    """
    if not decided_by.strip():
        raise DecisionError("decided_by: who decided must be named")
    if not rationale.strip():
        raise DecisionError("rationale: a decision must say why")
    if kind == "risk_acceptance":
        if requirement_id is None:
            raise DecisionError("requirement: a risk acceptance names the requirement whose gap it accepts")
        result = assessment.result(requirement_id)
        if result.status not in ("gap", "expiring", "to_confirm"):
            raise DecisionError(f"requirement: {requirement_id} is {result.status}, there is no risk to accept")
        snapshot: dict[str, Any] = {"assessment": _meta(assessment), "result": result.to_json()}
    elif kind == "approval":
        blockers = [r.requirement_id for r in assessment.results if r.status == "gap" and r.severity == "blocker"]
        if requirement_id is None and blockers:
            raise DecisionError(f"kind: cannot approve with blocker gaps ({', '.join(blockers)}); "
                                "record risk acceptances first")
        snapshot = {"assessment": _meta(assessment), "results": [r.to_json() for r in assessment.results]}
    else:
        raise DecisionError(f"kind: {kind!r} is not approval or risk_acceptance")
    digest = hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()
    at = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    return Decision(kind, assessment.product_key, assessment.market, requirement_id, decided_by, at, rationale,
                    assessment.version, snapshot, digest, valid_until)


def _meta(assessment: Assessment) -> dict[str, Any]:
    return {"product": assessment.product_key, "market": assessment.market, "version": assessment.version,
            "on": assessment.on.isoformat(), "pack_version": assessment.pack_version,
            "status": assessment.status, "content_hash": assessment.content_hash()}
