"""A warranty claim as a repairer submits it, and the workflow it follows.

submitted (by the repairer) → accepted or rejected with the reason (by the maker's check against the
coverage and the genealogy, or by a reviewer with a reason) → settled (an accepted claim paid). Nothing
else: a rejected claim stays rejected (a new claim can be submitted), a settled one is final.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from roadpass.aftermarket.service.model import WorkOrderProblem
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.timeutil import iso_utc, parse_time
from roadpass.trace.vin import VinError, parse_vin

__all__ = [
    "ClaimInvalid",
    "ClaimRow",
    "ClaimStatus",
    "ClaimStep",
    "NewClaim",
    "WorkflowError",
    "next_status",
    "parse_claim",
]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")


class ClaimStatus(StrEnum):
    """Where a claim stands."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SETTLED = "settled"


#: Which status each step leads from, to.
_STEPS: dict[str, tuple[ClaimStatus, ClaimStatus]] = {
    "accept": (ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED),
    "reject": (ClaimStatus.SUBMITTED, ClaimStatus.REJECTED),
    "settle": (ClaimStatus.ACCEPTED, ClaimStatus.SETTLED),
}


class WorkflowError(ValueError):
    """A step the claim's status does not allow."""


def next_status(current: str, step: str) -> ClaimStatus:
    """The status ``step`` (accept, reject, settle) leads to from ``current``; :class:`WorkflowError` if none."""
    if step not in _STEPS:
        raise WorkflowError(f"step: unknown step {step!r} (accept, reject, settle)")
    before, after = _STEPS[step]
    if current != before:
        raise WorkflowError(f"status: a {current} claim cannot be {after.value}; only a {before.value} one can")
    return after


class ClaimInvalid(ValueError):
    """A claim body that breaks a rule; ``problems`` name each field and reason."""

    def __init__(self, problems: list[WorkOrderProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.reason}" for p in problems))


@dataclass(frozen=True, slots=True)
class NewClaim:
    """A claim as submitted: the vehicle, the claimed part, the product's coverage asked for, when, the
    odometer, the state of health (given for a battery capacity claim), the defect, the amount."""

    claim_key: str
    vin: str
    epc: str
    product: str
    claimed_at: int
    odometer_km: int
    defect: str
    record_key: str | None = None
    state_of_health: int | None = None
    amount_cents: int | None = None
    repairer_party_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimStep:
    """One step of a claim's history."""

    status: str
    reason: str | None
    rule: str | None
    amount_cents: int | None
    at: int
    actor: str

    def as_json(self) -> dict[str, Any]:
        """The step as answered."""
        return {"status": self.status, "reason": self.reason, "rule": self.rule, "amountCents": self.amount_cents,
                "at": iso_utc(self.at), "actor": self.actor}


@dataclass(frozen=True, slots=True)
class ClaimRow:
    """A stored claim with its current status and history."""

    id: int
    claim: NewClaim
    market: str
    status: str
    reason: str | None
    submitted_by: str
    submitted_at: int
    steps: tuple[ClaimStep, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The claim as the API answers it."""
        c = self.claim
        return {
            "claimKey": c.claim_key, "vin": c.vin, "part": c.epc, "product": c.product, "market": self.market,
            "claimedAt": iso_utc(c.claimed_at), "odometerKm": c.odometer_km, "stateOfHealth": c.state_of_health,
            "defect": c.defect, "recordKey": c.record_key, "amountCents": c.amount_cents, "status": self.status,
            "reason": self.reason, "submittedBy": self.submitted_by, "submittedAt": iso_utc(self.submitted_at),
            "history": [s.as_json() for s in self.steps],
        }


def _int(body: Mapping[str, Any], name: str, low: int, high: int, problems: list[WorkOrderProblem]) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.append(WorkOrderProblem(f"$.{name}", f"must be a whole number from {low} to {high}"))
        return None
    return value


def parse_claim(body: Any, *, repairer_party_id: int | None = None) -> NewClaim:
    """Read a claim body (JSON object); :class:`ClaimInvalid` lists every problem with its JSON path."""
    if not isinstance(body, Mapping):
        raise ClaimInvalid([WorkOrderProblem("$", "must be a JSON object")])
    problems: list[WorkOrderProblem] = []
    key = body.get("claimKey")
    if not isinstance(key, str) or not _KEY.match(key):
        problems.append(WorkOrderProblem("$.claimKey", "must be 1-100 letters, digits or . _ : -"))
    vin = ""
    try:
        vin = parse_vin(str(body.get("vin") or ""), check_digit=False)
    except VinError as exc:
        problems.append(WorkOrderProblem("$.vin", str(exc)))
    epc = ""
    try:
        epc = canonical_id(str(body.get("part") or "").strip())
        if not epc.startswith("https://"):
            problems.append(WorkOrderProblem("$.part", "must be the claimed part's EPC URN or GS1 Digital Link"))
    except IdentifierError as exc:
        problems.append(WorkOrderProblem("$.part", f"not a valid identifier: {exc}"))
    claimed_at = 0
    try:
        claimed_at = parse_time(str(body.get("claimedAt") or ""), "claimedAt")
    except ValueError as exc:
        problems.append(WorkOrderProblem("$.claimedAt", str(exc)))
    product = body.get("product")
    if not isinstance(product, str) or not product:
        problems.append(WorkOrderProblem("$.product", "required: the coverage's product key, e.g. traction_battery"))
    defect = body.get("defect")
    if not isinstance(defect, str) or not defect.strip():
        problems.append(WorkOrderProblem("$.defect", "required text: what is wrong with the part"))
    odometer = _int(body, "odometerKm", 0, 9_999_999, problems)
    if odometer is None and "odometerKm" not in body:
        problems.append(WorkOrderProblem("$.odometerKm", "required: the odometer reading at the claim"))
    soh = _int(body, "stateOfHealth", 0, 100, problems)
    amount = _int(body, "amountCents", 0, 10**9, problems)
    record_key = body.get("recordKey")
    if record_key is not None and (not isinstance(record_key, str) or not _KEY.match(record_key)):
        problems.append(WorkOrderProblem("$.recordKey", "must be a service record key"))
    if problems:
        raise ClaimInvalid(problems)
    assert isinstance(key, str) and isinstance(product, str) and isinstance(defect, str)
    return NewClaim(key, vin, epc, product, claimed_at, odometer or 0, defect.strip(), record_key, soh, amount,
                    repairer_party_id)
