"""Genealogy over REST: as-built trees and where-used (recall) sets, with ``at=`` for any instant.

The EPCIS standard has no current-state or hierarchy query; these endpoints are roadpass's answer.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from roadpass.api.deps import AppDep
from roadpass.api.responses import JsonResponse, problem
from roadpass.trace.genealogy import AsBuiltNode, WhereUsedHit
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import FOREVER, iso_utc, parse_time

__all__ = ["as_built_json", "router", "where_used_json"]

router = APIRouter(prefix="/trace", tags=["Genealogy"])

AtQuery = Annotated[
    str | None, Query(description="ISO 8601 instant with offset; default: now", examples=["2026-01-01T00:00:00Z"])
]


def _time(value: int | None) -> str | None:
    return None if value is None or value >= FOREVER or value <= -FOREVER else iso_utc(value)


def as_built_json(node: AsBuiltNode) -> dict[str, Any]:
    """A tree node as JSON."""
    out: dict[str, Any] = {"id": node.key}
    if node.vin:
        out["vin"] = node.vin
    if node.kind is not None:
        out["relation"] = "contains" if node.kind == 1 else "madeFrom"
        out["since"] = _time(node.since)
    if node.children:
        out["children"] = [as_built_json(c) for c in node.children]
    return out


def where_used_json(target: str, at: str | None, hits: list[WhereUsedHit]) -> dict[str, Any]:
    """Where-used hits with roll-ups by market and by supplier."""
    vehicles = [h for h in hits if h.vin]
    return {
        "id": target,
        "at": at,
        "vehicles": len(vehicles),
        "vehiclesNow": sum(1 for h in vehicles if h.current),
        "byMarket": dict(Counter(h.market or "unknown" for h in vehicles).most_common()),
        "bySupplier": dict(Counter(s for h in vehicles for s in (h.suppliers or ("unknown",))).most_common()),
        "hits": [
            {
                "id": h.key,
                "vin": h.vin,
                "market": h.market,
                "current": h.current,
                "intervals": [{"from": _time(s.start), "to": _time(s.end)} for s in h.spans],
                "via": list(h.via),
                "suppliers": list(h.suppliers),
            }
            for h in hits
        ],
    }


def _instant(at: str | None) -> int | Response | None:
    if at is None:
        return None
    try:
        return parse_time(at, "at")
    except ValueError as exc:
        return problem(400, str(exc), parameter="at")


@router.get("/as-built/{identifier:path}", summary="The as-built tree under a unit (VIN, EPC, DL URI).")
def as_built(identifier: str, app: AppDep, at: AtQuery = None) -> Response:
    """The whole tree under a unit at ``at`` (default now)."""
    instant = _instant(at)
    if isinstance(instant, Response):
        return instant
    try:
        tree = app.trace.as_built(identifier, instant)
    except UnitNotFound as exc:
        return problem(404, str(exc))
    return JsonResponse({"at": at, "nodes": tree.count(), "tree": as_built_json(tree)})


@router.get("/where-used/{identifier:path}", summary="Every vehicle that contains or contained a unit or lot.")
def where_used(identifier: str, app: AppDep, at: AtQuery = None) -> Response:
    """The recall blast radius of a unit or lot, rolled up by market and supplier."""
    instant = _instant(at)
    if isinstance(instant, Response):
        return instant
    try:
        unit, hits = app.trace.where_used(identifier, instant)
    except UnitNotFound as exc:
        return problem(404, str(exc))
    return JsonResponse(where_used_json(unit.key, at, hits))
