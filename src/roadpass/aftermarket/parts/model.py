"""A parts check's answer and the pure rules that reach its verdict.

The facts come from the trace feature (the serial's units and where-used answer), the access feature (who
holds the company prefix), the recall campaigns and the stolen-part reports; :func:`assess` decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Fitted", "PartCheck", "StolenReport", "Verdict", "assess"]


class Verdict(StrEnum):
    """The one-word answer a repairer acts on."""

    GENUINE = "genuine"  # a known serial, fitted where the record says, no recall, not stolen
    RECALLED = "recalled"  # genuine, but under an open recall: do not fit before the remedy
    UNKNOWN = "unknown"  # no serial is known under this identifier
    SUSPECT = "suspect"  # known, but the record contradicts the scan (two vehicles at once, another vehicle)
    STOLEN = "stolen"  # reported stolen and not recovered


@dataclass(frozen=True, slots=True)
class Fitted:
    """A vehicle that holds the part now; ``vin`` None when withheld from the
    caller (a vehicle that is neither the caller's nor shared with it)."""

    vin: str | None
    market: str | None
    since: int
    withheld: bool = False


@dataclass(frozen=True, slots=True)
class StolenReport:
    """The standing report that a part was stolen."""

    reported_at: int
    reference: str
    reported_by: str


@dataclass(slots=True)
class PartCheck:
    """Everything a parts check answers."""

    identifier: str
    key: str
    serialised: bool
    known: bool
    maker_key: str | None
    maker_name: str | None
    fitted_now: list[Fitted] = field(default_factory=list)
    vehicles_ever: int = 0
    stolen: StolenReport | None = None
    recalls: list[dict[str, Any]] = field(default_factory=list)
    scanned_in: str | None = None
    verdict: Verdict = Verdict.UNKNOWN
    reasons: list[str] = field(default_factory=list)
    checked_at: int = 0


def assess(check: PartCheck) -> PartCheck:
    """Set ``verdict`` and ``reasons`` from the facts gathered in ``check`` (and return it).

    A part cannot be in two vehicles at once: two current holders, or a scan in one vehicle while the
    record has it fitted in another, means a cloned serial or a record gone wrong — suspect either way.
    """
    reasons: list[str] = []
    vehicles_now = check.fitted_now
    if not check.known:
        reasons.append("no unit is known under this serial" + (
            f"; the company prefix is {check.maker_name}'s" if check.maker_name else
            "; no party on this node holds its company prefix"))
    if len(vehicles_now) > 1:
        reasons.append(f"fitted in {len(vehicles_now)} vehicles at once")
    if check.scanned_in and vehicles_now and all(f.vin != check.scanned_in for f in vehicles_now):
        reasons.append(f"scanned in {check.scanned_in} but recorded as fitted in another vehicle")
    if check.stolen is not None:
        reasons.append(f"reported stolen ({check.stolen.reference})")
    if check.recalls:
        reasons.append(f"under {len(check.recalls)} open recall(s)")
    if check.stolen is not None:
        verdict = Verdict.STOLEN
    elif not check.known:
        verdict = Verdict.UNKNOWN
    elif len(vehicles_now) > 1 or (check.scanned_in and vehicles_now and
                                   all(f.vin != check.scanned_in for f in vehicles_now)):
        verdict = Verdict.SUSPECT
    elif check.recalls:
        verdict = Verdict.RECALLED
    else:
        verdict = Verdict.GENUINE
    check.verdict, check.reasons = verdict, reasons
    return check
