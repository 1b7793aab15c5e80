"""Battery health across regions (docs/regions-federation.md, "Battery health across regions").

``POST /federation/peer/health`` is what a regional node calls on the maker's home node: a pack's state-of-health
summary for the battery's passport, taken only from a peer node's party (its region is that party's, never the
body's), checked against this node's classification and policy, written into the passport once.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, problem
from roadpass.api.routes.federation import from_peer
from roadpass.regions.health_relay_service import HealthInvalid, HealthRefused
from roadpass.regions.policy import PolicyError

__all__ = ["router"]

router = APIRouter(tags=["Regional nodes"])

_INVALID = "https://roadpass.dev/problems/battery-health-summary-invalid"


@router.post("/federation/peer/health", summary="A peer node's battery health summary for a passport here.")
async def peer_health(request: Request, app: AppDep, access: AccessDep) -> Response:
    """Write a pack's state-of-health summary from a peer region's node into the battery's passport: 201 when
    stored, 200 when this node has it already (stored once). 400 names every field that may not cross or is
    malformed (or a digest that does not match: altered); 403 when the caller is no peer node's party or the
    policy lets no such summary in from its region; 404 when the battery has no passport here; 409 for an
    older summary of the same battery from the same node (a replayed or reordered delivery)."""
    try:
        outcome = await from_peer(request, access, "a battery health summary", _INVALID, app.health_relay.accept)
    except HealthInvalid as exc:
        return problem(400, "the battery health summary is not one this node takes", type_=_INVALID,
                       errors=[{"parameter": path, "reason": reason} for path, reason in exc.problems])
    except HealthRefused as exc:
        return problem(exc.status, "the battery health summary is refused", parameter=exc.parameter,
                       reason=exc.reason)
    except PolicyError as exc:
        return problem(409, "this node cannot take data across a border", parameter=exc.path, reason=exc.reason)
    if isinstance(outcome, Response):
        return outcome
    return JsonResponse(outcome.as_json(), status_code=201 if outcome.stored else 200)
