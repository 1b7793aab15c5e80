"""A campaign's status as JSON, as the API answers it and the CLI prints it."""

from __future__ import annotations

from typing import Any

from roadpass.aftermarket.recalls.completion import CurvePoint
from roadpass.aftermarket.recalls.service import CampaignStatus
from roadpass.trace.timeutil import iso_utc

__all__ = ["status_json"]


def _curve(points: list[CurvePoint]) -> list[dict[str, Any]]:
    return [{"day": p.day, "remedied": p.remedied, "rate": p.rate} for p in points]


def status_json(status: CampaignStatus, *, vehicles: int = 200) -> dict[str, Any]:
    """A campaign's status as JSON: the campaign, completion by market and over time, overdue markets and
    the first ``vehicles`` vehicle states."""
    c = status.campaign
    d = c.draft
    return {
        "campaignKey": c.key, "title": d.title, "manufacturer": d.manufacturer, "openedAt": iso_utc(c.created_at),
        "defect": d.defect.as_json(), "remedy": d.remedy.as_json(), "scope": d.scope.as_json(), "dates": d.dates,
        "marketDue": d.market_due, "references": d.references,
        "markets": None if status.markets is None else sorted(status.markets),
        "on": status.on.isoformat(), "totals": status.totals.as_json(),
        "byMarket": [m.as_json() for m in status.completion.values()],
        "curve": {m: _curve(points) for m, points in status.curve.items()},
        "overdue": [{"market": o.market, "dueOn": o.due_on, "open": o.open, "rate": o.rate} for o in status.overdue],
        "vehicles": [{"vin": s.vin, "market": s.market, "state": s.state.value,
                      "remediedAt": iso_utc(s.remedied_at) if s.remedied_at else None, "record": s.record_key}
                     for s in status.states[:vehicles]],
    }
