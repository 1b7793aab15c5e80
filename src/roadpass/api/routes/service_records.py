"""Service records over REST: record a work order (its part swaps captured as EPCIS repair events), read a
vehicle's service history, and what is due for a VIN (the repairer's page as JSON)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from roadpass.aftermarket.service.due import record_json
from roadpass.aftermarket.service.model import WorkOrder, WorkOrderInvalid, WorkOrderProblem, parse_work_order
from roadpass.aftermarket.service.service import RecordOutcome
from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, problem
from roadpass.bootstrap import Roadpass
from roadpass.trace.service import Hidden, UnitNotFound

__all__ = ["router"]

router = APIRouter(tags=["Service records"])

_INVALID = "urn:roadpass:problem:work-order-invalid"


def invalid(problems: list[WorkOrderProblem], title: str = "the work order breaks a rule") -> Response:
    """400 naming each field (JSON path) and reason."""
    first = problems[0] if problems else WorkOrderProblem("$", "invalid")
    return problem(400, f"{first.path}: {first.reason}" if len(problems) == 1 else title, type_=_INVALID,
                   errors=[{"instance": p.path, "title": p.reason} for p in problems])


def _orders(body: Any, party_id: int | None) -> list[WorkOrder]:
    """One work order, or ``{"workOrders": [...]}`` for a batch; paths of a batch are ``$.workOrders[i]``."""
    if isinstance(body, dict) and "workOrders" in body:
        items = body["workOrders"]
        if not isinstance(items, list) or not items:
            raise WorkOrderInvalid([WorkOrderProblem("$.workOrders", "must be a non-empty list of work orders")])
        orders: list[WorkOrder] = []
        problems: list[WorkOrderProblem] = []
        for i, item in enumerate(items):
            try:
                orders.append(parse_work_order(item, repairer_party_id=party_id))
            except WorkOrderInvalid as exc:
                problems.extend(WorkOrderProblem(f"$.workOrders[{i}]" + p.path[1:], p.reason) for p in exc.problems)
        if problems:
            raise WorkOrderInvalid(problems)
        return orders
    return [parse_work_order(body, repairer_party_id=party_id)]


@router.post("/service-records", summary="Record a work order (or {workOrders: [...]}, all or none).",
             status_code=201)
async def record(request: Request, app: AppDep, access: AccessDep) -> Response:
    """Store work orders; their removed and fitted parts become EPCIS AggregationEvents (bizStep repairing)
    captured through the normal capture path. The caller must see each vehicle."""
    body = await json_body(request, "a work order", _INVALID)
    if isinstance(body, Response):
        return body
    party = access.principal.party
    try:
        orders = _orders(body, party.id if party is not None else None)
    except WorkOrderInvalid as exc:
        return invalid(exc.problems)
    batch = isinstance(body, dict) and "workOrders" in body
    return await _record(app, access, orders, batch)


async def _record(app: Roadpass, access: Access, orders: list[WorkOrder], batch: bool) -> Response:
    # Recording is a capture (allowed to the role), but only on vehicles the caller sees: the principal's own
    # visibility applies, not the operation's.
    seen = access.principal.visibility

    def run() -> RecordOutcome:
        if batch:
            return app.service_records.record_many(orders, actor=access.principal.actor, visibility=seen)
        return app.service_records.record(orders[0], actor=access.principal.actor, visibility=seen)

    try:
        outcome = await run_in_threadpool(run)
    except Hidden:
        return await run_in_threadpool(hidden, access, "no vehicle is known with that VIN",
                                       "the vehicle is neither the caller's nor shared with it")
    except WorkOrderInvalid as exc:
        if batch:
            exc = WorkOrderInvalid([WorkOrderProblem(p.path.replace("$[", "$.workOrders[", 1), p.reason)
                                    for p in exc.problems])
        return invalid(exc.problems)
    status = 201 if outcome.stored else 200
    return JsonResponse({"stored": outcome.stored, "alreadyRecorded": outcome.already_recorded,
                         "recordKeys": list(outcome.record_keys), "captureID": outcome.capture_id,
                         "events": outcome.events, "ledgerSeq": outcome.ledger_seq}, status_code=status)


@router.get("/vehicles/{vin}/service-records", summary="A vehicle's service history, latest first.")
def history(vin: str, app: AppDep, access: AccessDep) -> Response:
    """The work orders recorded for the vehicle, if the caller sees it."""
    try:
        rows = app.service_records.history(vin, visibility=access.visibility)
    except Hidden:
        return hidden(access, f"no vehicle is known with VIN {vin!r}", "the vehicle is not the caller's")
    except UnitNotFound as exc:
        return problem(404, str(exc))
    return JsonResponse({"vin": vin, "records": [record_json(r) for r in rows]})


@router.get("/vehicles/{vin}/due", summary="What is due for a VIN: recalls, warranty, history, battery health.")
async def due(vin: str, app: AppDep, access: AccessDep) -> Response:
    """The repairer's VIN page as JSON. A kept answer is served on the event loop (it reads no table); one
    to compute goes to a worker thread."""
    desk = app.repairer_desk
    try:
        answer = desk.kept(vin, visibility=access.visibility)
        if answer is None:
            answer = await run_in_threadpool(desk.compute, vin, visibility=access.visibility)
    except Hidden:  # the refusal is ledgered: a write, so in a worker thread
        return await run_in_threadpool(
            hidden, access, f"no vehicle is known with VIN {vin!r}", "the vehicle is not the caller's")
    except UnitNotFound as exc:
        return problem(404, str(exc))
    return JsonResponse(answer.as_json())
