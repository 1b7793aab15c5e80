"""Demo service visits and warranty claims on the demo fleet, recorded through the real services.

Per market, a few sold vehicles get an inspection and, later, a repair that swaps a part (captured as EPCIS
repair events). Warranty claims follow: one accepted and settled, one rejected because the claimed part
was never in that vehicle, one rejected as outside coverage (km beyond the maker's limit after the legal
guarantee ended), one left submitted. Everything is deterministic for a given fleet.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from roadpass.aftermarket.service.model import Operation, PartSwap, WorkOrder
from roadpass.aftermarket.service.service import ServiceRecordService
from roadpass.aftermarket.warranty.model import NewClaim, WorkflowError
from roadpass.aftermarket.warranty.service import WarrantyService
from roadpass.trace.query import parse_event_query
from roadpass.trace.service import TraceService, UnitRef
from roadpass.trace.timeutil import parse_time

__all__ = ["ServiceDemo", "load_service_demo"]

_DAY = 86_400_000_000
_GS1 = "https://id.gs1.org/01/"


@dataclass
class ServiceDemo:
    """What the demo recorded."""

    records: int = 0
    claims: dict[str, str] = field(default_factory=dict)  # claim key -> final status


def _sold(trace: TraceService, limit: int) -> list[tuple[UnitRef, str, int]]:
    """Sold vehicles with their market and sale time, in sale order (first ``limit`` sales)."""
    query = parse_event_query({"EQ_bizStep": "retail_selling", "orderBy": "eventTime", "orderDirection": "ASC",
                               "perPage": str(limit)})
    out: list[tuple[UnitRef, str, int]] = []
    for event in trace.events(query)[0]:
        for key in event.get("epcList", []):
            unit = trace.resolve(key)
            market = trace.unit_market(unit.id)
            if unit.vin and market:
                out.append((unit, market, parse_time(event["eventTime"], "eventTime")))
    return out


def _replacement(key: str, serial: str) -> str | None:
    """A new serial of the same trade item as ``key`` (a Digital Link SGTIN), or None for other keys."""
    if not key.startswith(_GS1) or "/21/" not in key:
        return None
    return key.split("/21/")[0] + "/21/" + serial


def _visits(
    trace: TraceService, unit: UnitRef, sold_at: int, number: int, repairer: int | None, now: int
) -> list[WorkOrder]:
    """An inspection six months after the sale and a part swap ten months after it (when in the past)."""
    vin = unit.vin or ""
    orders: list[WorkOrder] = []
    inspect_at, repair_at = sold_at + 180 * _DAY, sold_at + 300 * _DAY
    if inspect_at < now:
        orders.append(WorkOrder(f"WO-{vin}-1", vin, inspect_at, 14_800 + 97 * number, "M. Keller",
                                (Operation("INSP-12", "12-month inspection", 1.5),), repairer_party_id=repairer))
    if repair_at < now:
        tree = trace.as_built(unit.key, repair_at)
        kids = [c.key for c in tree.children if not c.children and _replacement(c.key, "X")]
        if kids:
            old = kids[number % len(kids)]
            new = _replacement(old, f"SV{number:06d}")
            orders.append(WorkOrder(
                f"WO-{vin}-2", vin, repair_at, 24_300 + 131 * number, "A. Demir",
                (Operation("DIAG-01", "diagnosis", 0.5), Operation("REPL-01", "replace faulty part", 1.2)),
                (PartSwap(old, new),), repairer_party_id=repairer))
    return orders


def _claims(
    warranty: WarrantyService, repairs: list[WorkOrder], markets: Mapping[str, str], sold: Mapping[str, int],
    now: int, actor: str,
) -> dict[str, str]:
    """Claims on the demo repairs: accepted and settled, never in that vehicle, outside coverage, pending."""
    out: dict[str, str] = {}
    if len(repairs) < 2:
        return out
    first, other = repairs[0], repairs[1]
    claims = [
        (NewClaim(f"WC-{first.vin}-1", first.vin, first.removed[0], "vehicle", first.performed_at,
                  first.odometer_km, "unit fails its self-test", first.record_key, amount_cents=48_000), "settle"),
        (NewClaim(f"WC-{first.vin}-2", first.vin, other.removed[0], "vehicle", first.performed_at,
                  first.odometer_km, "intermittent fault", amount_cents=31_000), "decide"),
    ]
    late = [o for o in repairs if markets[o.vin] in ("MX", "TH", "ID", "MY") and sold[o.vin] + 400 * _DAY < now]
    if late:
        o = late[0]
        claims.append((NewClaim(f"WC-{o.vin}-3", o.vin, o.removed[0], "vehicle", sold[o.vin] + 400 * _DAY,
                                118_500, "connector corrosion", o.record_key, amount_cents=22_000), "decide"))
    if len(repairs) > 2:
        o = repairs[2]
        claims.append((NewClaim(f"WC-{o.vin}-4", o.vin, o.removed[0], "vehicle", o.performed_at, o.odometer_km,
                                "noise under load", o.record_key, amount_cents=12_500), "submit"))
    for claim, step in claims:
        try:
            row = warranty.submit(claim, actor=actor)
        except WorkflowError:  # loaded before: the claim stands as it was decided
            continue
        if step in ("decide", "settle"):
            row = warranty.decide(claim.claim_key, actor=actor)
        if step == "settle" and row.status == "accepted":
            row = warranty.settle(claim.claim_key, actor=actor)
        out[claim.claim_key] = row.status
    return out


def load_service_demo(
    service_records: ServiceRecordService, warranty: WarrantyService, *, repairers: Mapping[str, int],
    actor: str, per_market: int = 2,
) -> ServiceDemo:
    """Record demo visits on up to ``per_market`` sold vehicles of each market (``repairers``: market → the
    repairer party id recording there), then demo warranty claims."""
    trace = service_records.trace
    now = time.time_ns() // 1000
    picked: dict[str, list[tuple[UnitRef, int]]] = {}
    for unit, market, sold_at in _sold(trace, 2000):
        if len(picked.setdefault(market, [])) < per_market:
            picked[market].append((unit, sold_at))
    orders: list[WorkOrder] = []
    markets: dict[str, str] = {}
    sold: dict[str, int] = {}
    for number, (market, units) in enumerate(sorted(picked.items())):
        for j, (unit, sold_at) in enumerate(units):
            orders.extend(_visits(trace, unit, sold_at, number * per_market + j, repairers.get(market), now))
            markets[unit.vin or ""], sold[unit.vin or ""] = market, sold_at
    result = ServiceDemo()
    if orders:
        outcome = service_records.record_many(orders, actor=actor)
        result.records = outcome.stored + outcome.already_recorded
    repairs = [o for o in orders if o.parts]
    result.claims = _claims(warranty, repairs, markets, sold, now, actor)
    return result
