"""Genealogy over REST: as-built trees and where-used (recall) sets, with ``at=`` for any instant.

The EPCIS standard has no current-state or hierarchy query; these endpoints are roadpass's answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from roadpass.access.policy import Op, decide_unit
from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, next_page_link, problem
from roadpass.trace.genealogy import AsBuiltNode, HitPosition, WhereUsedHit, WhereUsedResult
from roadpass.trace.query import QueryError, Visibility, decode_token, encode_token, fingerprint, parse_page_size
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


def encode_hit_token(position: HitPosition, target: str, at: str | None) -> str:
    """An opaque ``nextPageToken``: the last hit's position, bound to its question (unit or lot, ``at``)."""
    return encode_token([position.vin, position.key, fingerprint([target, at])])


def decode_hit_token(token: str, target: str, at: str | None) -> HitPosition:
    """The position a token made by :func:`encode_hit_token` for this same question carries."""
    vin, key, digest = decode_token(token, 3)
    if digest != fingerprint([target, at]) or not isinstance(key, str) or not isinstance(vin, str | None):
        raise QueryError("nextPageToken", "issued for another where-used question (identifier or at)")
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
    try:
        size = parse_page_size("perPage", per_page, app.settings.page_size_max) if per_page is not None else None
    except QueryError as exc:
        return problem(400, str(exc), parameter=exc.parameter)
    try:
        unit, hits = app.trace.where_used(identifier, instant)
    except UnitNotFound as exc:
        return problem(404, str(exc))
    kept = visible_hits(app.trace, unit, hits, access.visibility)
    if kept is None:
        access.deny(access.decision.__class__(False, 404, access.decision.effect, access.decision.rule,
                                              "neither the unit nor any vehicle carrying it is the caller's"))
        return problem(404, f"no unit is known as {identifier!r}")
    if size is None and next_page_token is None:
        return JsonResponse(where_used_json(unit.key, at, kept))
    try:
        after = decode_hit_token(next_page_token, unit.key, at) if next_page_token else None
    except QueryError as exc:
        return problem(400, str(exc), parameter=exc.parameter)
    page = kept.page(after, size or app.settings.page_size_default)
    body = where_used_json(unit.key, at, kept, page.hits)
    headers: dict[str, str] = {}
    if page.after is not None:
        body["nextPageToken"] = token = encode_hit_token(page.after, unit.key, at)
        headers["Link"] = next_page_link(request, token)
    return JsonResponse(body, headers=headers)
