"""Genealogy over REST: as-built trees and where-used (recall) sets, with ``at=`` for any instant.

The EPCIS standard has no current-state or hierarchy query; these endpoints are roadpass's answer.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from roadpass.access.policy import Op, decide_unit
from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, problem
from roadpass.trace.genealogy import AsBuiltNode, HitPosition, WhereUsedHit, WhereUsedResult
from roadpass.trace.query import Visibility
from roadpass.trace.service import TraceService, UnitNotFound, UnitRef
from roadpass.trace.timeutil import FOREVER, iso_utc, parse_time

__all__ = ["as_built_json", "router", "visible_hits", "where_used_json"]

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


def _fingerprint(target: str, at: str | None) -> str:
    # A token is good for the answer it was issued on: the same unit or lot at the same instant.
    return hashlib.sha256(orjson.dumps([target, at])).hexdigest()[:16]


def encode_hit_token(position: HitPosition, target: str, at: str | None) -> str:
    """An opaque URL-safe ``nextPageToken``: the last hit's position and the answer it belongs to."""
    raw = orjson.dumps([position.vin, position.key, _fingerprint(target, at)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_hit_token(token: str, target: str, at: str | None) -> HitPosition:
    """The position a ``nextPageToken`` made by :func:`encode_hit_token` for this answer carries."""
    try:
        vin, key, fingerprint = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise ValueError("not a token this repository issued") from exc
    if fingerprint != _fingerprint(target, at) or not isinstance(key, str) or not isinstance(vin, str | None):
        raise ValueError("issued for another where-used question (identifier or at)")
    return HitPosition(vin, key)


def _instant(at: str | None) -> int | Response | None:
    if at is None:
        return None
    try:
        return parse_time(at, "at")
    except ValueError as exc:
        return problem(400, str(exc), parameter="at")


def visible_hits(
    trace: TraceService, unit: UnitRef, hits: WhereUsedResult, visibility: Visibility | None
) -> WhereUsedResult | None:
    """Where-used hits the caller may see: all of them for the owner of the unit or lot asked about (a
    recall needs the whole blast radius), else the vehicles that are the caller's, shared with it or in
    its mandate. None when that leaves nothing of a unit the caller may not see (answered as not found)."""
    if visibility is None or visibility.sees_unit(unit.key, trace.unit_market(unit.id)):
        return hits
    kept = [h for h in hits if visibility.sees_unit(h.key, h.market if h.vin else None)]
    return WhereUsedResult.from_hits(kept) if kept else None


@router.get("/as-built/{identifier:path}", summary="The as-built tree under a unit (VIN, EPC, DL URI).")
def as_built(identifier: str, app: AppDep, access: AccessDep, at: AtQuery = None) -> Response:
    """The whole tree under a unit at ``at`` (default now), if the unit is the caller's or shared with it."""
    instant = _instant(at)
    if isinstance(instant, Response):
        return instant
    try:
        unit = app.trace.resolve(identifier)
        decision = decide_unit(access.principal, Op.TRACE_AS_BUILT, unit.key, app.trace.unit_market(unit.id))
        if not decision.allowed:
            access.deny(decision)
            return problem(404, f"no unit is known as {identifier!r}")
        tree = app.trace.as_built(unit.key, instant)
    except UnitNotFound as exc:
        return problem(404, str(exc))
    return JsonResponse({"at": at, "nodes": tree.count(), "tree": as_built_json(tree)})


@router.get("/where-used/{identifier:path}", summary="Every vehicle that contains or contained a unit or lot.")
def where_used(
    identifier: str,
    request: Request,
    app: AppDep,
    access: AccessDep,
    at: AtQuery = None,
    per_page: Annotated[
        str | None, Query(alias="perPage", description="Hits per page; without it and a token, all hits")
    ] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    """The recall blast radius of a unit or lot, rolled up by market and supplier (as far as the caller may
    see: see :func:`visible_hits`).

    Counts and roll-ups always cover the whole answer. With ``perPage`` (or a ``nextPageToken``) the hits
    come a page at a time, keyed on the last hit's position (vehicles by VIN, then other holders by key),
    with ``nextPageToken`` and a ``Link: <…>; rel="next"`` header while more follow."""
    instant = _instant(at)
    if isinstance(instant, Response):
        return instant
    paged = per_page is not None or next_page_token is not None
    size = app.settings.page_size_default
    if per_page is not None:
        largest = app.settings.page_size_max
        if not per_page.isdigit() or not 1 <= int(per_page) <= largest:
            return problem(400, f"perPage: must be a whole number from 1 to {largest}", parameter="perPage")
        size = int(per_page)
    try:
        unit, hits = app.trace.where_used(identifier, instant)
    except UnitNotFound as exc:
        return problem(404, str(exc))
    kept = visible_hits(app.trace, unit, hits, access.visibility)
    if kept is None:
        access.deny(access.decision.__class__(False, 404, access.decision.effect, access.decision.rule,
                                              "neither the unit nor any vehicle carrying it is the caller's"))
        return problem(404, f"no unit is known as {identifier!r}")
    if not paged:
        return JsonResponse(where_used_json(unit.key, at, kept))
    try:
        after = decode_hit_token(next_page_token, unit.key, at) if next_page_token else None
    except ValueError as exc:
        return problem(400, f"nextPageToken: {exc}", parameter="nextPageToken")
    page = kept.page(after, size)
    body = where_used_json(unit.key, at, kept, page.hits)
    headers: dict[str, str] = {}
    if page.after is not None:
        token = encode_hit_token(page.after, unit.key, at)
        body["nextPageToken"] = token
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
        headers["Link"] = f'<{request.url.path}?{urlencode([*query, ("nextPageToken", token)])}>; rel="next"'
    return JsonResponse(body, headers=headers)
