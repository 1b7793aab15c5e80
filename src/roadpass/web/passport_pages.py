"""Server-rendered battery passport pages: the public passport (read on a phone at a recycling outlet)
and the list of passports. Both render the same data the API serves, through the same access rules: the
public page shows the public view only (Reg. (EU) 2023/1542 Art. 77(2)(a))."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roadpass.api.deps import AccessDep
from roadpass.passport.access import Role
from roadpass.passport.service import AccessDenied, PassportNotFound
from roadpass.telematics.health_chart import health_chart_svg
from roadpass.web.routes import templates

__all__ = ["mount_passport_pages", "public_facts"]


def _get(payload: Any, *path: str) -> Any:
    for key in path:
        payload = payload.get(key) if isinstance(payload, dict) else None
    return payload


def public_facts(view: dict[str, Any]) -> dict[str, Any]:
    """What the public page shows, taken from the public view only (a missing value stays missing)."""
    sections = view.get("sections", {})
    gpi = sections.get("GeneralProductInformation", {})
    cfp = sections.get("CarbonFootprintForBatteries", {})
    tech = _get(sections, "PerformanceAndDurability", "batteryTechicalProperties") or {}
    recycled = _get(sections, "Circularity", "recycledContent") or []
    return {
        "status": view.get("batteryStatus") or gpi.get("batteryStatus"),
        "category": view.get("batteryCategory") or gpi.get("batteryCategory"),
        "ceased": view.get("ceased"),
        "ceased_at": view.get("ceasedAt"),
        "cfp_class": cfp.get("carbonFootprintPerformanceClass"),
        "cfp_value": cfp.get("batteryCarbonFootprint"),
        "chemistry": _get(sections, "MaterialComposition", "batteryChemistry"),
        "capacity_ah": tech.get("ratedCapacity"),
        "energy_kwh": tech.get("ratedEnergy"),
        "voltage": tech.get("nominalVoltage"),
        "mass_kg": gpi.get("batteryMass"),
        "manufacturer": _get(gpi, "manufacturerInformation", "contactName"),
        "manufacturer_country": _get(gpi, "manufacturingPlace", "addressCountry"),
        "manufactured": str(gpi.get("manufacturingDate") or "")[:10],
        "recycled": [r for r in recycled if isinstance(r, dict)],
        "end_of_life": _get(sections, "Circularity", "endOfLifeInformation") or {},
        "extinguishing": _get(sections, "Circularity", "safetyMeasures", "extinguishingAgent") or [],
        "predecessors": view.get("predecessorPassportIds") or [],
        "successor": view.get("successorPassportId"),
    }


def mount_passport_pages(app: FastAPI) -> None:
    """Add ``/passport/{id}`` (public page), ``/ui/passports`` (list), ``/ui/passports/{id}`` (as the caller's
    role may see it) and the Digital Link entry point."""

    @app.get("/passport/{passport_id}", response_class=HTMLResponse, include_in_schema=False)
    def public_page(request: Request, passport_id: str) -> Response:
        service = request.app.state.roadpass.passports
        try:
            body = service.view_json(passport_id, Role.PUBLIC, actor="public-page")
        except PassportNotFound as exc:
            return templates.TemplateResponse(request, "passport_public.html", {"error": str(exc)}, status_code=404)
        view = orjson.loads(body)
        return templates.TemplateResponse(
            request, "passport_public.html", {"view": view, "facts": public_facts(view), "error": None}
        )

    @app.get("/ui/passports", response_class=HTMLResponse, include_in_schema=False)
    def passport_list(
        request: Request, q: Annotated[str, Query()] = "", page: Annotated[int, Query(ge=1)] = 1
    ) -> Response:
        service = request.app.state.roadpass.passports
        error = None
        if q and not q.startswith("urn:roadpass:"):
            try:  # a battery identifier, VIN-free: go straight to its live passport
                return RedirectResponse(f"/passport/{service.resolve(q)}", status_code=303)
            except PassportNotFound as exc:
                error = str(exc)
        rows = service.list_passports(limit=50, offset=(page - 1) * 50, query=q or None)
        return templates.TemplateResponse(
            request, "passports.html", {"rows": rows, "q": q, "page": page, "error": error}
        )

    @app.get("/ui/passports/{passport_id}", response_class=HTMLResponse, include_in_schema=False)
    def passport_view(passport_id: str, request: Request, access: AccessDep) -> Response:
        """The passport as the signed-in caller's role may see it (Art. 77(2))."""
        role = str(getattr(request.state, "passport_role", "public"))
        context: dict[str, Any] = {"passport_id": passport_id, "view": None, "error": None, "role": role}
        status = 200
        service = request.app.state.roadpass.passports
        try:
            context["view"] = orjson.loads(service.view_json(passport_id, Role(role), actor=access.principal.actor))
        except PassportNotFound as exc:
            context["error"], status = str(exc), 404
        except AccessDenied as exc:
            context["error"], status = str(exc), 403
        context["health_svg"] = health_chart_svg((context["view"] or {}).get("history") or [])  # as the role sees it
        return templates.TemplateResponse(request, "passport_view.html", context, status_code=status)

    @app.get("/01/{gtin}/21/{serial}", include_in_schema=False)
    def digital_link(request: Request, gtin: str, serial: str, passportId: str | None = None) -> Response:
        """GS1 Digital Link entry point: the QR code's URI lands on the passport page."""
        service = request.app.state.roadpass.passports
        try:
            target = passportId or service.resolve(f"https://id.gs1.org/01/{gtin}/21/{serial}")
        except PassportNotFound as exc:
            return templates.TemplateResponse(request, "passport_public.html", {"error": str(exc)}, status_code=404)
        return RedirectResponse(f"/passport/{target}", status_code=307)
