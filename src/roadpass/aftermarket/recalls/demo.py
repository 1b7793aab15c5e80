"""The demo's recall: a campaign on the cell lot that reached the most vehicles, remedied in part.

Remedies are recorded the way a workshop records them: a work order through the service-record feature
(``ServiceRecordService.record_many``) that references the campaign, removes the pack built from the lot and
fits a replacement pack, so the swap is captured as EPCIS events and completion is read from the record.
Markets are remedied to different degrees (some fully, some not at all) and some are past their due date,
so the campaign page has a curve and overdue markets to show. Deterministic: same fleet, same campaign.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from roadpass.aftermarket.recalls.model import AffectedVehicle
from roadpass.aftermarket.recalls.scope import gtin_of
from roadpass.aftermarket.recalls.service import RecallService
from roadpass.aftermarket.service.model import Operation, PartSwap, WorkOrder
from roadpass.aftermarket.service.service import ServiceRecordService
from roadpass.trace.timeutil import to_us

__all__ = ["DEMO_CAMPAIGN", "load_recall_demo"]

DEMO_CAMPAIGN = "RC-2026-CELL-01"
DEMO_ACTOR = "demo"
#: Share of a market's vehicles remedied, by the market's rank (most vehicles first): a curve with spread.
_SHARES = (0.8, 0.55, 1.0, 0.3, 0.0, 0.65, 0.45, 0.2, 0.9, 0.1, 0.5)
_NOTICE = datetime(2026, 9, 1, tzinfo=UTC)


def _request(lot: str, gtin: str) -> dict[str, object]:
    return {
        "campaignKey": DEMO_CAMPAIGN,
        "title": "Traction battery cells of one lot may develop an internal short circuit",
        "manufacturer": "Lanxing Automotive Co., Ltd. (demo)",
        "defect": {
            "description": "Cells of the lot may carry a separator fold from cell winding; under fast charging "
                           "the fold can become an internal short circuit.",
            "risk": "An internal short circuit can lead to thermal runaway and a vehicle fire, increasing the "
                    "risk of injury.",
            "component": "High-voltage traction battery pack (cells of one lot)",
            "determinedOn": "2026-08-25",
            "chronology": "2026-06: two field reports of pack isolation faults; 2026-07: teardown finds separator "
                          "folds in cells of one lot; 2026-08-25: safety-related defect determined.",
        },
        "remedy": {"description": "Replace the traction battery pack free of charge.",
                   "parts": [gtin], "operations": ["HV-PACK-REPLACE"]},
        "scope": {"lots": [lot]},
        "dates": {"dealerNoticeOn": "2026-09-01", "ownerNoticeOn": "2026-09-15",
                  "remedyAvailableOn": "2026-09-15", "remedyDueOn": "2026-11-30"},
        "marketDue": {"MX": "2027-03-31", "SA": "2027-03-31", "TH": "2027-02-28"},
        "references": {"manufacturerCampaign": DEMO_CAMPAIGN},
        "contact": {"name": "Product Safety Office (demo)", "email": "recalls@example.com"},
    }


def _orders(vehicles: list[AffectedVehicle], gtin: str) -> list[WorkOrder]:
    by_market: dict[str, list[AffectedVehicle]] = {}
    for v in vehicles:
        if v.carries_now and v.via:
            by_market.setdefault(v.market or "unknown", []).append(v)
    ranked = sorted(by_market.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    orders: list[WorkOrder] = []
    for rank, (_market, cars) in enumerate(ranked):
        share = _SHARES[rank % len(_SHARES)]
        done = cars[: round(share * len(cars))]
        for k, v in enumerate(done):
            # Spread over the weeks after the owner notice, sooner in better-served markets.
            when = _NOTICE + timedelta(days=14 + (k * 61) // max(len(done), 1) + 3 * rank, hours=9)
            orders.append(WorkOrder(
                record_key=f"{DEMO_CAMPAIGN}-{v.vin}", vin=v.vin, performed_at=to_us(when),
                odometer_km=18_000 + 1_000 * k, technician="demo technician",
                operations=(Operation("HV-PACK-REPLACE", "replace traction battery pack", 3.5),),
                parts=(PartSwap(removed=v.via[0], fitted=f"https://id.gs1.org/01/{gtin}/21/R{v.vin[-8:]}"),),
                campaigns=(DEMO_CAMPAIGN,),
            ))
    return orders


def load_recall_demo(recalls: RecallService, service_records: ServiceRecordService | None) -> None:
    """Open the demo campaign and record part of its remedies (nothing without a stored lot)."""
    best = recalls.largest_lot()
    if best is None or best[1] == 0:
        return
    # The remedy fits a pack of the product the lot's cells went into (the unit right below each vehicle).
    packs = [h.via[0] for h in recalls.trace.where_used(best[0])[1] if h.vin and h.via]
    gtin = gtin_of(packs[0]) if packs else None
    if gtin is None:
        return
    created = recalls.create(_request(best[0], gtin), actor=DEMO_ACTOR, owner="lanxing")
    if service_records is None:
        return
    with recalls.records.read() as records:
        vehicles = records.vehicles(created.campaign.id)
    orders = _orders(vehicles, gtin)
    for start in range(0, len(orders), 200):
        service_records.record_many(orders[start:start + 200], actor=DEMO_ACTOR)
