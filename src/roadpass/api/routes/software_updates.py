"""Software updates (UN R156) over REST: vehicle types, reports from telematics units, update campaigns and
each vehicle's software history.

Reports arrive over MQTT (``roadpass/units/{unit}/software``) and here, with the same payload
(:mod:`roadpass.telematics.software.reports`); either way the vehicle is the one the unit is fitted in at the
report's time. Errors are RFC 7807 bodies naming each field (``issues``: JSON path and reason).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import anyio
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response

from roadpass.access.policy import scope_of
from roadpass.api.deps import AccessDep, ActorDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, problem
from roadpass.telematics.software.campaigns import CampaignRejected
from roadpass.telematics.software.reports import ReportRejected
from roadpass.telematics.software.service import AlreadyExists, NotFound, UnitNotFitted
from roadpass.trace.service import Hidden, UnitNotFound
from roadpass.trace.timeutil import to_us

__all__ = ["router"]

router = APIRouter(tags=["Software updates (UN R156)"])


def _issues(exc: CampaignRejected | ReportRejected) -> Response:
    return problem(400, "invalid input", issues=[{"path": p, "reason": r} for p, r in exc.problems])


async def _json(request: Request) -> Any | Response:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        return problem(400, f"the body is not JSON: {exc}", issues=[{"path": "", "reason": "not JSON"}])


@router.get("/software/vehicle-types", summary="Registered vehicle types and their variants' VIN patterns.")
def vehicle_types(app: AppDep) -> Response:
    """Every vehicle type (UN R156 para. 2.1) roadpass recognises vehicles of."""
    return JsonResponse([{"key": t.key, "name": t.name, "product_key": t.product_key, "variants": t.variants}
                         for t in app.software_updates.vehicle_types()])


@router.post("/software/vehicle-types", status_code=201, summary="Register a vehicle type.")
async def add_vehicle_type(app: AppDep, actor: ActorDep, request: Request) -> Response:
    """``{"key", "name", "variants": {code: VIN pattern}, "product_key"?}`` (ledgered)."""
    body = await _json(request)
    if isinstance(body, Response):
        return body
    try:
        vtype = await anyio.to_thread.run_sync(functools.partial(app.software_updates.add_vehicle_type, body,
                                                                 actor=actor))
    except CampaignRejected as exc:
        return _issues(exc)
    except AlreadyExists as exc:
        return problem(409, str(exc))
    return JsonResponse({"key": vtype.key, "name": vtype.name, "product_key": vtype.product_key,
                         "variants": vtype.variants}, status_code=201)


@router.post("/software/units/{unit:path}/reports", status_code=201,
             summary="A telematics unit's software report (the MQTT payload, over HTTP).")
async def report(unit: str, app: AppDep, actor: ActorDep, access: AccessDep, request: Request) -> Response:
    """Kept for the vehicle the unit is fitted in at the report's time; 200 for a duplicate (same bytes). The
    caller's party must see the unit or that vehicle (404 otherwise, ledgered)."""
    payload = await request.body()
    received = to_us(dt.datetime.now(dt.UTC))
    try:
        outcome = await anyio.to_thread.run_sync(functools.partial(
            app.software_updates.report, unit, payload, received, actor=actor, channel="http",
            visibility=scope_of(access.principal)))
    except Hidden:
        return await anyio.to_thread.run_sync(hidden, access, f"no unit is known as {unit!r}",
                                              "neither the unit nor its vehicle is the caller's")
    except ReportRejected as exc:
        return _issues(exc)
    except UnitNotFitted as exc:
        return problem(422, str(exc), issues=[{"path": "unit", "reason": str(exc)}])
    return JsonResponse(outcome.as_json(), status_code=200 if outcome.duplicate else 201)


@router.get("/software/campaigns", summary="Update campaigns.")
def campaigns(app: AppDep) -> Response:
    """Every campaign, oldest first."""
    return JsonResponse([c.as_json() for c in app.software_updates.campaigns()])


@router.post("/software/campaigns", status_code=201, summary="Create an update campaign.")
async def create_campaign(app: AppDep, actor: ActorDep, access: AccessDep, request: Request) -> Response:
    """Offered at once to every vehicle of the caller's party (or shared with it) it applies to by its latest
    report (ledgered per vehicle)."""
    body = await _json(request)
    if isinstance(body, Response):
        return body
    try:
        status = await anyio.to_thread.run_sync(functools.partial(
            app.software_updates.create_campaign, body, actor=actor, visibility=scope_of(access.principal)))
    except CampaignRejected as exc:
        return _issues(exc)
    except AlreadyExists as exc:
        return problem(409, str(exc))
    return JsonResponse(status.as_json(), status_code=201, headers={"Location": f"/software/campaigns/"
                                                                               f"{status.campaign.key}"})


@router.get("/software/campaigns/{key}", summary="A campaign's vehicles by state and unconfirmed claims.")
def campaign(key: str, app: AppDep, access: AccessDep) -> Response:
    """Counts per state, completion (installed as the vehicles report it), each vehicle's state and why, over
    the vehicles the caller's party sees (compliance.read allows the role; the VINs are scoped)."""
    try:
        status = app.software_updates.campaign_status(key, visibility=scope_of(access.principal))
    except NotFound as exc:
        return problem(404, str(exc).strip("'\""))
    return JsonResponse(status.as_json())


@router.get("/software/vehicles/{identifier:path}/history", summary="A vehicle's software and RXSWIN history.")
def vehicle_history(identifier: str, app: AppDep, access: AccessDep) -> Response:
    """Reports, ECU software changes, RXSWIN changes and campaign states of a vehicle (VIN, EPC, DL URI)."""
    try:
        history = app.software_updates.vehicle_history(identifier, visibility=access.visibility)
    except Hidden:
        return hidden(access, f"no vehicle is known as {identifier!r}", "the vehicle is neither yours nor shared")
    except (UnitNotFound, NotFound) as exc:
        return problem(404, str(exc).strip("'\""))
    return JsonResponse(history)
