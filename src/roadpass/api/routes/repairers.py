"""The repair network over REST: repairers, sites, SERMI approvals, personal authorisations, security-related
access (request a credential, use it, list accesses), and repair information that is not security-related.

Bodies are JSON objects; a bad field is answered 422 as an RFC 7807 problem naming it (``field``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from roadpass.aftermarket.network.service import NetworkError, NotFound, Viewer
from roadpass.aftermarket.network.views import (
    access_json,
    approval_json,
    authorisation_json,
    day_us,
    network_json,
    site_json,
)
from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, problem

__all__ = ["router", "viewer_of"]

router = APIRouter(tags=["Repair network"])
T = TypeVar("T")
_INVALID = "about:blank"


def _now() -> int:
    return time.time_ns() // 1000


def viewer_of(access: Access) -> Viewer:
    """Who sees which security-related accesses: the operator (and an open node) all, an authority those in
    its markets, a manufacturer those to its vehicles, a repairer its own."""
    principal = access.principal
    party = principal.party
    markets = principal.visibility.markets if principal.visibility is not None else frozenset()
    return Viewer(party.key if party else None, principal.role, frozenset(markets),
                  everything=principal.role in ("operator", "open"))


def _caller(access: Access) -> str | None:
    """The party a security-related request or use is made by (None: the operator, on a repairer's behalf)."""
    principal = access.principal
    return principal.party.key if principal.party and principal.role != "operator" else None


def _text(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise NetworkError(f"$.{name}", "a non-empty string is required")
    return value.strip()


def _texts(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NetworkError(f"$.{name}", "a list of strings is required")
    return [v.strip() for v in value if v.strip()]


async def _run(fn: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(fn)


async def _body(request: Request) -> dict[str, Any] | Response:
    body = await json_body(request, "a JSON object", _INVALID)
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return problem(422, "the body must be a JSON object", field="$")
    return body


def _bad(exc: NetworkError) -> Response:
    field = exc.field if exc.field.startswith("$") else f"$.{exc.field}"
    return problem(422, exc.reason, field=field)


@router.get("/repairers", summary="The repair network: repairers, sites, approvals, people authorised.")
def list_repairers(app: AppDep, market: str | None = None) -> Response:
    """Every repairer (of one market), authorised or independent, with whether it may handle
    security-related information now."""
    at = _now()
    return JsonResponse([network_json(e, at) for e in app.repair_network.network(market=market)])


@router.post("/repairers", status_code=201, summary="Register a repairer's aftermarket facts (operator).")
async def register_repairer(request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"party", "kind": "authorised"|"independent", "brands", "qualifications", "markets"}``; the party
    must exist with role ``repairer``. A new registration of the same party is a new version."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        party = _text(body, "party") or ""
        kind = _text(body, "kind") or ""
        brands, quals, markets = _texts(body, "brands"), _texts(body, "qualifications"), _texts(body, "markets")
        repairer = await _run(lambda: app.repair_network.register_repairer(
            actor=access.principal.actor, party_key=party, kind=kind, brands=brands, qualifications=quals,
            markets=markets))
    except NetworkError as exc:
        return _bad(exc)
    return JsonResponse({"party": repairer.party_key, "kind": repairer.kind.value, "version": repairer.version},
                        status_code=201)


@router.post("/repairers/{party}/sites", status_code=201, summary="Add a repairer's workshop by GLN (operator).")
async def add_site(party: str, request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"gln", "name", "country"?}``."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        gln, name = _text(body, "gln") or "", _text(body, "name") or ""
        country = _text(body, "country", required=False)
        site = await _run(lambda: app.repair_network.add_site(
            actor=access.principal.actor, party_key=party, gln=gln, name=name, country=country))
    except NetworkError as exc:
        return _bad(exc)
    return JsonResponse(site_json(site), status_code=201)


@router.post("/repairers/{party}/approvals", status_code=201,
             summary="Record an independent operator's SERMI approval by a CAB (operator).")
async def add_approval(party: str, request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"assessingBody", "country", "validFrom", "validUntil", "status"?, "approval"?}`` — give
    ``approval`` to record a new version (e.g. ``status: withdrawn``) of an existing approval."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        cab, country = _text(body, "assessingBody") or "", _text(body, "country") or ""
        start, end = day_us(body.get("validFrom"), "$.validFrom"), day_us(body.get("validUntil"), "$.validUntil")
        status, key = _text(body, "status", required=False) or "active", _text(body, "approval", required=False)
        approval = await _run(lambda: app.repair_network.record_approval(
            actor=access.principal.actor, party_key=party, assessing_body=cab, country=country, valid_from=start,
            valid_until=end, status=status, approval_key=key))
    except NetworkError as exc:
        return _bad(exc)
    return JsonResponse(approval_json(approval, _now()), status_code=201)


@router.post("/repairers/{party}/authorisations", status_code=201,
             summary="Record a person's authorisation for security-related information (operator).")
async def add_authorisation(party: str, request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"personName", "personEmail"?, "identityCheckedBy"?, "identityCheckedAt"?, "residenceCountry",
    "validFrom", "validUntil"}``."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        name, email = _text(body, "personName") or "", _text(body, "personEmail", required=False)
        checker = _text(body, "identityCheckedBy", required=False)
        checked = day_us(body["identityCheckedAt"], "$.identityCheckedAt") if body.get("identityCheckedAt") else None
        country = _text(body, "residenceCountry") or ""
        start, end = day_us(body.get("validFrom"), "$.validFrom"), day_us(body.get("validUntil"), "$.validUntil")
        made = await _run(lambda: app.repair_network.authorise_person(
            actor=access.principal.actor, party_key=party, person_name=name, person_email=email,
            identity_checked_by=checker, identity_checked_at=checked, residence_country=country, valid_from=start,
            valid_until=end))
    except NetworkError as exc:
        return _bad(exc)
    return JsonResponse(authorisation_json(made, _now()), status_code=201)


@router.get("/repairers/{party}/authorisations", summary="A repairer's personal authorisations (its own).")
def list_authorisations(party: str, app: AppDep, access: AccessDep) -> Response:
    """The people a repairer has authorised, with their state now: the repairer's own and the operator's."""
    own = access.principal.party
    if access.actor_prefixes is not None and (own is None or own.key != party):
        return problem(404, f"no repairer {party!r} of yours")
    at = _now()
    return JsonResponse([authorisation_json(a, at) for a in app.repair_network.authorisations(party)])


@router.post("/authorisations/{key}/revoke", summary="Revoke a person's authorisation now (employer or operator).")
async def revoke(key: str, request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"reason"}``: every later request and every use of a credential already issued is refused."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    own = access.principal.party
    by_party = None if access.actor_prefixes is None else (own.key if own else "")
    try:
        reason = _text(body, "reason") or ""
        done = await _run(lambda: app.repair_network.revoke(
            actor=access.principal.actor, authorisation_key=key, reason=reason, by_party=by_party))
    except NetworkError as exc:
        return _bad(exc)
    except NotFound:
        return problem(404, f"no authorisation {key!r} of yours")
    return JsonResponse(authorisation_json(done, _now()))


@router.get("/rmi/{vin}", summary="Repair information that is not security-related: the same for every repairer.")
def rmi(vin: str, app: AppDep) -> Response:
    """What every repairer gets for a vehicle, authorised or independent (Reg. (EU) 2018/858 Art. 61(1))."""
    return JsonResponse(app.repair_network.rmi(vin.strip().upper()))


@router.post("/security-access", status_code=201,
             summary="Ask for a security-related function on one VIN: a short-lived credential or a refusal.")
async def request_access(request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"authorisation", "vin", "function"}``. Answered 201 with ``credential`` (shown this once) when
    granted, 403 with the reason and rule when refused; both are stored and ledgered."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    principal = access.principal
    try:
        key, vin, function = _text(body, "authorisation") or "", _text(body, "vin") or "", _text(body, "function") or ""
    except NetworkError as exc:
        return _bad(exc)
    caller = _caller(access)
    grant = await _run(lambda: app.repair_network.request_access(
        actor=principal.actor, authorisation_key=key, vin=vin, function=function, caller_party=caller,
        caller_email=principal.user))
    out = {**access_json(grant.request, []), "credential": grant.credential}
    if not grant.request.granted:
        return problem(403, grant.request.reason, rule=grant.request.rule, request=grant.request.request_key)
    return JsonResponse(out, status_code=201)


@router.post("/security-access/use", summary="Present a credential for its VIN and function.")
async def use_access(request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"credential", "vin", "function"}``: 200 when accepted, 403 with the reason when refused (a revoked
    person's credential is refused at once); both are stored and ledgered."""
    body = await _body(request)
    if isinstance(body, Response):
        return body
    try:
        token, vin, function = (_text(body, "credential") or "", _text(body, "vin") or "",
                                _text(body, "function") or "")
        use = await _run(lambda: app.repair_network.use_credential(
            actor=access.principal.actor, token=token, vin=vin, function=function, caller_party=_caller(access)))
    except NetworkError as exc:
        return _bad(exc)
    except NotFound:
        # No request to attribute it to: the attempt is ledgered as a denial of the caller instead.
        return await _run(lambda: hidden(access, "no credential is known under that value",
                                         "an unknown security-access credential was presented"))
    if not use.accepted:
        return problem(403, use.reason, request=use.request_key)
    return JsonResponse({"request": use.request_key, "accepted": True, "reason": use.reason})


@router.get("/security-access", summary="Security-related accesses the caller may see.")
def list_accesses(app: AppDep, access: AccessDep, limit: int = 100) -> Response:
    """A repairer's own; a manufacturer's every access to its vehicles; an authority's those in its markets."""
    found = app.repair_network.accesses(viewer_of(access), limit=max(1, min(limit, 1000)))
    return JsonResponse([access_json(r, uses) for r, uses in found])
