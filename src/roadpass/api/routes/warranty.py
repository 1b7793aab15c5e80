"""Warranty over REST: coverage (data with citations), claims submitted by repairers, decided and settled by
the vehicle's maker."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from roadpass.aftermarket.warranty.coverage import coverage_table
from roadpass.aftermarket.warranty.model import ClaimInvalid, ClaimRow, WorkflowError, parse_claim
from roadpass.aftermarket.warranty.service import ClaimNotFound, NotTheMaker
from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, problem
from roadpass.api.routes.service_records import invalid
from roadpass.bootstrap import Roadpass
from roadpass.trace.service import Hidden, UnitNotFound

__all__ = ["router"]

router = APIRouter(prefix="/warranty", tags=["Warranty"])

_INVALID = "urn:roadpass:problem:warranty-claim-invalid"


@router.get("/coverage", summary="Warranty coverage per market and product, with the clause of each entry.")
def coverage() -> Response:
    """The coverage table roadpass checks claims against (entries marked unconfirmed are "to confirm")."""
    table = coverage_table()
    return JsonResponse({"products": dict(table.products), "coverage": [e.as_json() for e in table.entries]})


@router.post("/claims", summary="Submit a warranty claim (the repairer).", status_code=201)
async def submit(request: Request, app: AppDep, access: AccessDep) -> Response:
    """Store a claim as submitted; the maker decides it (``POST /warranty/claims/{key}/decision``)."""
    body = await json_body(request, "a warranty claim", _INVALID)
    if isinstance(body, Response):
        return body
    party = access.principal.party
    try:
        claim = parse_claim(body, repairer_party_id=party.id if party is not None else None)
    except ClaimInvalid as exc:
        return invalid(exc.problems, "the warranty claim breaks a rule")
    # Submitting is allowed to the role, on the vehicles the caller sees (the principal's own visibility).
    return await _answer(app, access, lambda: app.warranty.submit(claim, actor=access.principal.actor,
                                                                   visibility=access.principal.visibility), 201)


@router.get("/claims/{claim_key}", summary="A warranty claim with its history.")
def claim(claim_key: str, app: AppDep, access: AccessDep) -> Response:
    """The claim, if the caller sees its vehicle."""
    try:
        row = app.warranty.claim(claim_key, visibility=access.visibility)
    except Hidden:
        return hidden(access, f"no warranty claim {claim_key!r}", "the claim's vehicle is not the caller's")
    except ClaimNotFound as exc:
        return problem(404, str(exc))
    return JsonResponse(row.as_json())


@router.post("/claims/{claim_key}/decision", summary="Accept or reject a submitted claim (the maker).")
async def decide(claim_key: str, request: Request, app: AppDep, access: AccessDep) -> Response:
    """Check the claim against coverage and genealogy and record the decision; ``{"reject": "reason"}``
    rejects it with the reviewer's reason instead."""
    body = await json_body(request, "a decision", _INVALID)
    if isinstance(body, Response):
        return body
    reason = body.get("reject") if isinstance(body, dict) else None
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        return problem(400, "$.reject: must be the reason in words", type_=_INVALID)
    return await _answer(app, access, lambda: app.warranty.decide(
        claim_key, actor=access.principal.actor, reject_reason=reason, maker=access.principal.visibility))


@router.post("/claims/{claim_key}/settlement", summary="Settle an accepted claim (the maker).")
async def settle(claim_key: str, request: Request, app: AppDep, access: AccessDep) -> Response:
    """Record the payment of an accepted claim (``{"amountCents": n}``; default the amount claimed)."""
    body = await json_body(request, "a settlement", _INVALID)
    if isinstance(body, Response):
        return body
    amount = body.get("amountCents") if isinstance(body, dict) else None
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0):
        return problem(400, "$.amountCents: must be a non-negative whole number", type_=_INVALID)
    return await _answer(app, access, lambda: app.warranty.settle(
        claim_key, actor=access.principal.actor, amount_cents=amount, maker=access.principal.visibility))


async def _answer(app: Roadpass, access: Access, run: Any, status: int = 200) -> Response:
    """Run a claim write in a worker thread and answer it (or the problem it raised)."""
    try:
        row: ClaimRow = await run_in_threadpool(run)
    except Hidden:
        return await run_in_threadpool(hidden, access, "no vehicle or claim is known under that key",
                                       "the vehicle is neither the caller's nor shared with it")
    except (ClaimNotFound, UnitNotFound) as exc:
        return problem(404, str(exc))
    except NotTheMaker as exc:
        return problem(403, str(exc))
    except WorkflowError as exc:
        field, _, reason = str(exc).partition(": ")
        return problem(409, str(exc), type_=_INVALID, errors=[{"instance": f"$.{field}", "title": reason}])
    return JsonResponse(row.as_json(), status_code=status)
