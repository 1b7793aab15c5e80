"""The repairer's VIN page: what is due (open recalls, warranty state, service history, the battery's state of
health) and a form to record the work done, through the same services and access rules as the API."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from roadpass.access.policy import Decision
from roadpass.aftermarket.service.model import WorkOrderInvalid, WorkOrderProblem, parse_work_order
from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.bootstrap import Roadpass
from roadpass.trace.service import Hidden, UnitNotFound
from roadpass.web.routes import templates

__all__ = ["mount_repairer_pages"]

_NOT_FOUND = "no vehicle you may see has that VIN"


def _page(request: Request, rp: Roadpass, access: Access, vin: str, extra: dict[str, Any], status: int = 200
          ) -> Response:
    """Render the VIN page (or the VIN form with the reason the vehicle cannot be shown)."""
    context: dict[str, Any] = {"vin": vin, "due": None, "error": None, "done": None, "problems": [],
                               "form": {}, **extra}
    try:
        context["due"] = rp.repairer_desk.due(vin, visibility=access.visibility).as_json()
    except Hidden:
        # The vehicle exists but is not the caller's: ledger the refusal, answer as if it did not exist.
        decision = access.decision
        access.deny(Decision(False, 404, decision.effect, decision.rule, "the vehicle is not the caller's"))
        context["error"], status = _NOT_FOUND, 404
    except UnitNotFound:
        context["error"], status = _NOT_FOUND, 404
    return templates.TemplateResponse(request, "repairer_vin.html", context, status_code=status)


def _body(vin: str, fields: dict[str, str], party_id: int | None) -> dict[str, Any]:
    """The work order body the form's fields make (the API's words)."""
    parts = [{"removed": fields["removed"] or None, "fitted": fields["fitted"] or None}] \
        if fields["removed"] or fields["fitted"] else []
    operations = [{"code": fields["operation"], "description": fields["description"]}] if fields["operation"] else []
    return {
        "recordKey": f"WO-{vin}-{time.time_ns() // 1_000_000}",
        "vin": vin,
        "performedAt": f"{fields['performed_on']}T12:00:00Z" if fields["performed_on"] else "",
        "odometerKm": int(fields["odometer"]) if fields["odometer"].isdigit() else fields["odometer"] or None,
        "technician": fields["technician"],
        "operations": operations,
        "parts": parts,
        "campaigns": [fields["campaign"]] if fields["campaign"] else [],
        "repairerPartyId": party_id,
    }


def mount_repairer_pages(app: FastAPI) -> None:
    """Add ``/ui/service`` (find a VIN) and ``/ui/service/{vin}`` (what is due, record work) to ``app``."""

    @app.get("/ui/service", response_class=HTMLResponse, include_in_schema=False)
    def service_search(request: Request, rp: AppDep, access: AccessDep,
                       vin: Annotated[str, Query(max_length=17)] = "") -> Response:
        if vin:
            return _page(request, rp, access, vin.strip().upper(), {})
        return templates.TemplateResponse(request, "repairer_vin.html", {"vin": "", "due": None, "error": None,
                                                                         "done": None, "problems": [], "form": {}})

    @app.get("/ui/service/{vin}", response_class=HTMLResponse, include_in_schema=False)
    def service_vin(vin: str, request: Request, rp: AppDep, access: AccessDep) -> Response:
        return _page(request, rp, access, vin.strip().upper(), {})

    @app.post("/ui/service/{vin}", response_class=HTMLResponse, include_in_schema=False)
    def record_work(
        vin: str, request: Request, rp: AppDep, access: AccessDep,
        performed_on: Annotated[str, Form()] = "", odometer: Annotated[str, Form()] = "",
        technician: Annotated[str, Form()] = "", operation: Annotated[str, Form()] = "",
        description: Annotated[str, Form()] = "", removed: Annotated[str, Form()] = "",
        fitted: Annotated[str, Form()] = "", campaign: Annotated[str, Form()] = "",
    ) -> Response:
        vin = vin.strip().upper()
        fields = {"performed_on": performed_on, "odometer": odometer.strip(), "technician": technician,
                  "operation": operation.strip(), "description": description, "removed": removed.strip(),
                  "fitted": fitted.strip(), "campaign": campaign}
        party = access.principal.party
        problems: list[WorkOrderProblem] = []
        try:
            order = parse_work_order(_body(vin, fields, party.id if party else None),
                                     repairer_party_id=party.id if party else None)
            outcome = rp.service_records.record(order, actor=access.principal.actor,
                                                visibility=access.principal.visibility)
        except WorkOrderInvalid as exc:
            problems = exc.problems
        except (Hidden, UnitNotFound):
            return _page(request, rp, access, vin, {})
        if problems:
            return _page(request, rp, access, vin, {"problems": [p.as_json() for p in problems], "form": fields}, 422)
        done = f"work order {order.record_key} recorded ({outcome.events} repair event(s) captured)"
        return _page(request, rp, access, vin, {"done": done})
