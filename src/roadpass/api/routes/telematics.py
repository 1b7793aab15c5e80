"""Telematics over REST: the ingest status, units' broker credentials, a pack's or vehicle's signal series.

Handlers are synchronous (FastAPI runs them in a worker thread): every one reads or writes the database.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from roadpass.access.policy import Effect
from roadpass.api.deps import Access, AccessDep, ActorDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, problem
from roadpass.telematics.service import CredentialError, Point, Rollup
from roadpass.trace.query import Visibility
from roadpass.trace.service import Hidden, UnitNotFound
from roadpass.trace.timeutil import FOREVER, iso_utc, parse_time

__all__ = ["router"]

router = APIRouter(tags=["Telematics"])


def _owner_visibility(access: Access) -> Visibility | None:
    # An own-party rule: the caller acts on units its party sees; the operator (ALLOW) on every unit. An
    # authority's market mandate is for reading what is on its market, not for minting or revoking a unit's
    # broker account (the rule table: authorities observe, they do not write).
    if access.decision.effect is Effect.ALLOW and access.decision.allowed:
        return None
    return dataclasses.replace(access.principal.visibility or Visibility(), markets=frozenset())


def _point(value: Point | Rollup) -> object:
    if isinstance(value, Rollup):
        return {"bucket": iso_utc(value.bucket), "samples": value.samples, "mean": value.mean, "min": value.min,
                "max": value.max}
    return [iso_utc(value.ts), value.value]


@router.get("/telematics/status", summary="Messages received, stored, duplicates, refused by reason, lag.")
def status(app: AppDep) -> Response:
    """Ingest counters since the database was created and the last batch's lag."""
    return JsonResponse(app.telematics.status().as_json())


@router.post("/telematics/units/{unit:path}/credentials", summary="A broker account for a telematics unit.",
             status_code=201)
def create_credentials(unit: str, app: AppDep, access: AccessDep, actor: ActorDep) -> Response:
    """Create the unit's MQTT account (the password is in this answer only) and its topic."""
    try:
        issued = app.telematics.create_credential(unit, actor=actor, visibility=_owner_visibility(access))
    except Hidden:
        return hidden(access, f"no unit is known as {unit!r}", "the unit is neither yours nor shared with you")
    except UnitNotFound as exc:
        return problem(404, str(exc), parameter="unit")
    except CredentialError as exc:
        return problem(409, str(exc), parameter="unit")
    return JsonResponse({"unit": issued.unit_key, "username": issued.username, "password": issued.password,
                         "topic": issued.topic}, status_code=201)


@router.delete("/telematics/units/{unit:path}/credentials", summary="Revoke a unit's broker account at once.")
def revoke_credentials(unit: str, app: AppDep, access: AccessDep, actor: ActorDep) -> Response:
    """Revoke the unit's account: the broker reloads its accounts and disconnects the unit."""
    try:
        found = app.telematics.revoke_credential(unit, actor=actor, visibility=_owner_visibility(access))
    except Hidden:
        return hidden(access, f"no unit is known as {unit!r}", "the unit is neither yours nor shared with you")
    except UnitNotFound as exc:
        return problem(404, str(exc), parameter="unit")
    except CredentialError as exc:
        return problem(404, str(exc), parameter="unit")
    return JsonResponse({"unit": found.unit_key, "username": found.username, "revoked": True})


@router.get("/telematics/series", summary="A pack's or vehicle's VSS signals over time, raw or rolled up.")
def series(
    app: AppDep, access: AccessDep,
    subject: Annotated[str, Query(description="pack or vehicle: EPC URN, Digital Link URI or VIN")],
    path: Annotated[list[str], Query(description="VSS path, repeatable",
                                     examples=["Vehicle.Powertrain.TractionBattery.StateOfHealth"])],
    start: Annotated[str | None, Query(description="ISO 8601 with offset; default: the beginning")] = None,
    end: Annotated[str | None, Query(description="ISO 8601 with offset, exclusive; default: open")] = None,
    grain: Literal["raw", "hour", "day"] = "raw",
) -> Response:
    """Samples (``[ts, value]``) or roll-ups (``{bucket, samples, mean, min, max}``) per path."""
    try:
        lo = parse_time(start, "start") if start else 0
        hi = parse_time(end, "end") if end else FOREVER
    except ValueError as exc:
        return problem(400, str(exc), parameter=str(exc).split(":", 1)[0])
    try:
        found = app.telematics.series(subject, path, lo, hi, grain, visibility=access.visibility)
    except Hidden:
        return hidden(access, f"no unit is known as {subject!r}", "the unit is neither yours nor shared with you")
    except UnitNotFound as exc:
        return problem(404, str(exc), parameter="subject")
    except ValueError as exc:
        return problem(400, str(exc), parameter="path")
    body = {p: [_point(v) for v in values] for p, values in found.items()}
    return JsonResponse({"subject": subject, "grain": grain, "series": body})
