"""Genealogy answers as JSON: the one shape the API serves and the CLI and web UI show."""

from __future__ import annotations

from typing import Any

from roadpass.trace.genealogy import AsBuiltNode, WhereUsedHit, WhereUsedResult
from roadpass.trace.timeutil import FOREVER, iso_utc

__all__ = ["as_built_json", "where_used_json"]


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


def where_used_json(
    target: str, at: str | None, result: WhereUsedResult, hits: list[WhereUsedHit] | None = None
) -> dict[str, Any]:
    """Where-used roll-ups by market and by supplier, with every hit or the page of them in ``hits``."""
    return {
        "id": target,
        "at": at,
        "vehicles": result.vehicles,
        "vehiclesNow": result.vehicles_now,
        "hitCount": len(result),
        "byMarket": result.by_market,
        "bySupplier": result.by_supplier,
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
            for h in (result if hits is None else hits)
        ],
    }
