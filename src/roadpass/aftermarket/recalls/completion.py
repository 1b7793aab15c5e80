"""Which vehicles a campaign reaches, and when each one's remedy is complete. Pure rules over plain data.

* **Reach** (:func:`affected_vehicles`): every vehicle where-used names for any unit in scope, ever; a
  vehicle *carries* the defect now when any of its intervals is still open. A pack moved to another vehicle
  moves the recall with it (the new vehicle carries it now); the vehicle it left is told it no longer does.
* **Remedy** (:func:`remedy_complete`): a vehicle's remedy is complete when a service record references the
  campaign for that VIN and fitted every remedy part (by GTIN, at least one unit each); a remedy of
  operations only is complete on the reference alone (the record is the repairer's statement that it did
  them). The earliest such record is the completion date.
* **Completion** by market, and over time (:func:`completion_curve`); a market is **overdue** when its
  remedy due date has passed and vehicles there are still open.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from roadpass.aftermarket.recalls.model import (
    AffectedVehicle,
    Campaign,
    Remedy,
    RemedyState,
    ServiceEvidence,
    VehicleState,
)
from roadpass.aftermarket.recalls.scope import gtin_of
from roadpass.trace.genealogy import WhereUsedHit
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.timeutil import from_us, to_us

__all__ = [
    "UNKNOWN_MARKET",
    "CurvePoint",
    "MarketCompletion",
    "Overdue",
    "affected_vehicles",
    "completion_by_market",
    "completion_curve",
    "opened_on",
    "overdue_markets",
    "remedy_complete",
    "vehicle_states",
]

#: The market of a vehicle never sold or registered anywhere (where-used says "unknown" too).
UNKNOWN_MARKET = "unknown"


def affected_vehicles(hits: Iterable[WhereUsedHit]) -> list[AffectedVehicle]:
    """The vehicles among where-used hits (of one or many units in scope), one per VIN, in VIN order."""
    merged: dict[str, tuple[str, str | None, bool, set[str]]] = {}
    for hit in hits:
        if not hit.vin:
            continue  # a loose unit at the top of its chain is no vehicle to notify
        seen = merged.get(hit.vin)
        if seen is None:
            merged[hit.vin] = (hit.key, hit.market, hit.current, set(hit.via))
        else:
            merged[hit.vin] = (seen[0], seen[1] or hit.market, seen[2] or hit.current, seen[3] | set(hit.via))
    return [AffectedVehicle(vin, key, market, now, tuple(sorted(via)))
            for vin, (key, market, now, via) in sorted(merged.items())]


def _gtin(epc: str) -> str | None:
    try:
        return gtin_of(canonical_id(epc))
    except IdentifierError:
        return None


def remedy_complete(remedy: Remedy, fitted: Iterable[str]) -> bool:
    """True when ``fitted`` (EPCs of the parts a record fitted) covers every remedy part by GTIN."""
    if not remedy.parts:
        return True
    gtins = {_gtin(epc) for epc in fitted}
    return all(part in gtins for part in remedy.parts)


def vehicle_states(
    remedy: Remedy, vehicles: Iterable[AffectedVehicle], evidence: Iterable[ServiceEvidence]
) -> list[VehicleState]:
    """Each affected vehicle's state: remedied by the earliest complete record, else open while it carries
    the defect, else no longer fitted."""
    done: dict[str, ServiceEvidence] = {}
    for record in sorted(evidence, key=lambda e: (e.performed_at, e.record_key)):
        if record.vin not in done and remedy_complete(remedy, record.fitted):
            done[record.vin] = record
    out: list[VehicleState] = []
    for v in vehicles:
        market = v.market or UNKNOWN_MARKET
        found = done.get(v.vin)
        if found is not None:
            out.append(VehicleState(v.vin, market, RemedyState.REMEDIED, found.performed_at, found.record_key))
        elif v.carries_now:
            out.append(VehicleState(v.vin, market, RemedyState.OPEN))
        else:
            out.append(VehicleState(v.vin, market, RemedyState.NO_LONGER_FITTED))
    return out


@dataclass(frozen=True, slots=True)
class MarketCompletion:
    """A market's completion: ``affected`` counts open and remedied vehicles (those that still need, or
    needed, the remedy); vehicles the defect left without a remedy are counted apart."""

    market: str
    affected: int
    remedied: int
    open: int
    no_longer_fitted: int

    @property
    def rate(self) -> float:
        """Remedied share of affected vehicles (1.0 when none is affected)."""
        return self.remedied / self.affected if self.affected else 1.0

    def as_json(self) -> dict[str, object]:
        """As the status answer lists it."""
        return {"market": self.market, "affected": self.affected, "remedied": self.remedied, "open": self.open,
                "noLongerFitted": self.no_longer_fitted, "rate": round(self.rate, 4)}


def completion_by_market(states: Iterable[VehicleState], *, until: int | None = None) -> dict[str, MarketCompletion]:
    """Completion per market (most affected first), counting remedies done before ``until`` (UTC µs)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for s in states:
        row = counts[s.market]
        if s.state is RemedyState.REMEDIED and (until is None or (s.remedied_at or 0) < until):
            row[0] += 1
        elif s.state is RemedyState.NO_LONGER_FITTED:
            row[2] += 1
        else:
            row[1] += 1
    ordered = sorted(counts.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    return {m: MarketCompletion(m, r + o, r, o, gone) for m, (r, o, gone) in ordered}


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """Remedied vehicles of a market by the end of ``day``, and the rate that makes."""

    day: str
    remedied: int
    rate: float


def completion_curve(
    states: Sequence[VehicleState], *, start: date, end: date, points: int = 30
) -> dict[str, list[CurvePoint]]:
    """Per market, cumulative completion at evenly spaced days from ``start`` to ``end`` (inclusive)."""
    totals = completion_by_market(states)
    span = max((end - start).days, 0)
    step = max(1, -(-span // max(points - 1, 1)))
    days = [start + timedelta(days=d) for d in range(0, span + 1, step)]
    if not days or days[-1] != end:
        days.append(end)
    done: dict[str, list[int]] = defaultdict(list)
    for s in states:
        if s.state is RemedyState.REMEDIED and s.remedied_at is not None:
            done[s.market].append(s.remedied_at)
    out: dict[str, list[CurvePoint]] = {}
    for market, total in totals.items():
        times = sorted(done.get(market, []))
        series: list[CurvePoint] = []
        i = 0
        for day in days:
            cut = to_us(datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1))
            while i < len(times) and times[i] < cut:
                i += 1
            series.append(CurvePoint(day.isoformat(), i, round(i / total.affected, 4) if total.affected else 1.0))
        out[market] = series
    return out


def opened_on(campaign: Campaign) -> date:
    """The day the campaign began: the first notice to dealers or owners, or the day it was stored if that
    is earlier (49 CFR 573.7 counts quarters from the one "in which the campaign was initiated")."""
    days = [from_us(campaign.created_at).date()]
    days += [date.fromisoformat(campaign.draft.dates[k]) for k in ("dealerNoticeOn", "ownerNoticeOn")
             if k in campaign.draft.dates]
    return min(days)


@dataclass(frozen=True, slots=True)
class Overdue:
    """A market past its remedy due date with vehicles still open."""

    market: str
    due_on: str
    open: int
    rate: float


def overdue_markets(
    campaign: Campaign, completion: Mapping[str, MarketCompletion], today: date
) -> list[Overdue]:
    """Markets whose remedy due date (``marketDue``, else ``dates.remedyDueOn``) is before ``today`` and
    that still have open vehicles, most open first."""
    default = campaign.draft.dates.get("remedyDueOn")
    out: list[Overdue] = []
    for market, c in completion.items():
        due = campaign.draft.market_due.get(market, default)
        if due is not None and date.fromisoformat(due) < today and c.open:
            out.append(Overdue(market, due, c.open, round(c.rate, 4)))
    return sorted(out, key=lambda o: (-o.open, o.market))
