"""Answers as JSON: genealogy (the one shape the API serves and the CLI and web UI show) and EPCIS query
documents (the API's and the subscriptions')."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from roadpass.trace.genealogy import AsBuiltNode, WhereUsedHit, WhereUsedResult
from roadpass.trace.timeutil import FOREVER, iso_utc

__all__ = ["EPCIS_CONTEXT", "as_built_json", "query_document", "where_used_json"]

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"


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


def query_document(
    events: Sequence[Mapping[str, Any]], contexts: Iterable[Any], query_name: str, created_at: int
) -> dict[str, Any]:
    """An ``EPCISQueryDocument`` (EPCIS 2.0 §9.1): what ``GET /events`` and every events resource answer and
    what one subscription delivery posts; the captures' own JSON-LD contexts follow the standard one;
    ``created_at`` (UTC µs) is its ``creationDate``."""
    context: list[Any] = [EPCIS_CONTEXT]
    for item in contexts:
        for part in item if isinstance(item, list) else [item]:
            if part not in context:
                context.append(part)
    return {
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": iso_utc(created_at),
        "epcisBody": {"queryResults": {"queryName": query_name, "resultsBody": {"eventList": list(events)}}},
    }
