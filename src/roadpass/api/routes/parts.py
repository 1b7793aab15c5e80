"""Genuine parts over REST: check a part by its EPC URN or GS1 Digital Link, report it stolen or recovered,
and the maker's log of every check of its parts."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from roadpass.access.policy import scope_of
from roadpass.aftermarket.parts.service import PartsError, check_json
from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, problem
from roadpass.trace.service import Hidden, UnitNotFound

__all__ = ["router"]

router = APIRouter(tags=["Genuine parts"])


@router.get("/parts/check", summary="Is this part genuine, where is it fitted, recalled, stolen?")
def check(
    app: AppDep,
    access: AccessDep,
    id: Annotated[str, Query(description="the part's EPC URN or GS1 Digital Link URI (serialised)")],
    vin: Annotated[str | None, Query(description="the vehicle the part was scanned in, if any")] = None,
) -> Response:
    """The verdict (genuine, recalled, unknown, suspect, stolen) with its reasons: known serial, the maker
    whose company prefix issued it, the vehicles it is fitted in now (VINs the caller may not see are
    withheld), open recalls, a standing stolen report. Every check is logged for the maker."""
    try:
        found = app.parts.check(id, checker=access.principal.actor, vin=vin, visibility=access.visibility)
    except PartsError as exc:
        return problem(422, exc.reason, field=exc.field)
    return JsonResponse(check_json(found))


@router.post("/parts/reports", status_code=201, summary="Report a part stolen or recovered.")
async def report(request: Request, app: AppDep, access: AccessDep) -> Response:
    """``{"id", "status": "stolen"|"recovered", "reference"}`` (ledgered): a part the caller's party sees, or
    one fitted in a vehicle it sees (events.capture allows the role; 404 otherwise, ledgered)."""
    body = await json_body(request, "a JSON object", "about:blank")
    if isinstance(body, Response):
        return body
    if not isinstance(body, dict):
        return problem(422, "the body must be a JSON object", field="$")
    values = {name: body.get(name) for name in ("id", "status", "reference")}
    for name, value in values.items():
        if not isinstance(value, str):
            return problem(422, "a string is required", field=f"$.{name}")
    try:
        key = await anyio.to_thread.run_sync(lambda: app.parts.report(
            str(values["id"]), actor=access.principal.actor, status=str(values["status"]),
            reference=str(values["reference"]), visibility=scope_of(access.principal)))
    except PartsError as exc:
        return problem(422, exc.reason, field=f"$.{exc.field}")
    except (Hidden, UnitNotFound):
        return await anyio.to_thread.run_sync(hidden, access, f"no part is known as {values['id']!r}",
                                              "neither the part nor a vehicle it is fitted in is the caller's")
    return JsonResponse({"key": key, "status": values["status"]}, status_code=201)


@router.get("/parts/checks", summary="The log of checks of the caller's parts (the maker's view).")
def checks(app: AppDep, access: AccessDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    """Every check of parts issued under the caller's company prefix, newest first (all of them for the
    operator and authorities)."""
    own = access.principal.party
    maker = None if access.actor_prefixes is None else (own.key if own else "")
    return JsonResponse(app.parts.checks(maker_key=maker, limit=limit))
