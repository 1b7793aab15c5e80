"""Genealogy over REST: as-built trees and where-used (recall) sets, with ``at=`` for any instant.

The EPCIS standard has no current-state or hierarchy query; these endpoints are roadpass's answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, next_page_link, problem
from roadpass.trace.genealogy import HitPosition
from roadpass.trace.query import QueryError, decode_token, encode_token, fingerprint, parse_page_size
from roadpass.trace.service import Hidden, UnitNotFound
from roadpass.trace.timeutil import parse_time
from roadpass.trace.views import as_built_json, where_used_json

__all__ = ["router"]

router = APIRouter(prefix="/trace", tags=["Genealogy"])

AtQuery = Annotated[
    str | None, Query(description="ISO 8601 instant with offset; default: now", examples=["2026-01-01T00:00:00Z"])
]


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


@router.get("/as-built/{identifier:path}", summary="The as-built tree under a unit (VIN, EPC, DL URI).")
def as_built(identifier: str, app: AppDep, access: AccessDep, at: AtQuery = None) -> Response:
    """The whole tree under a unit at ``at`` (default now), if the unit is the caller's or shared with it."""
    instant = _instant(at)
    if isinstance(instant, Response):
        return instant
    try:
        tree = app.trace.as_built(identifier, instant, visibility=access.visibility)
    except Hidden:
        return hidden(access, f"no unit is known as {identifier!r}", "the unit is neither yours nor shared with you")
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
    see: see :meth:`roadpass.trace.service.TraceService.where_used`).

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
        unit, kept = app.trace.where_used(identifier, instant, visibility=access.visibility)
    except Hidden:
        return hidden(access, f"no unit is known as {identifier!r}",
                             "neither the unit nor any vehicle carrying it is the caller's")
    except UnitNotFound as exc:
        return problem(404, str(exc))
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
