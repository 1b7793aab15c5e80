"""The software-update pages: the campaigns of every vehicle type, and one campaign's state per vehicle, with
the installation claims no inventory confirmed (UN R156; a bare "success" installs nothing)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from roadpass.access.policy import scope_of
from roadpass.api.deps import AccessDep, AppDep
from roadpass.telematics.software.model import STATES
from roadpass.telematics.software.service import NotFound
from roadpass.web.routes import templates

__all__ = ["mount_software_pages"]


def mount_software_pages(app: FastAPI) -> None:
    """Add ``/ui/software`` (campaigns) and ``/ui/software/{key}`` (one campaign) to ``app``."""

    @app.get("/ui/software", response_class=HTMLResponse, include_in_schema=False)
    def software_page(request: Request, rp: AppDep, access: AccessDep) -> Response:
        service = rp.software_updates
        # Counts and VINs over the vehicles the caller's party sees (compliance.read allows the role).
        seen = scope_of(access.principal)
        campaigns = [service.campaign_status(c.key, claims_limit=0, visibility=seen) for c in service.campaigns()]
        return templates.TemplateResponse(request, "software.html", {
            "campaigns": campaigns, "types": service.vehicle_types(), "status": None, "states": STATES})

    @app.get("/ui/software/{key}", response_class=HTMLResponse, include_in_schema=False)
    def campaign_page(request: Request, rp: AppDep, access: AccessDep, key: str) -> Response:
        try:
            status = rp.software_updates.campaign_status(key, visibility=scope_of(access.principal))
        except NotFound:
            return templates.TemplateResponse(request, "software.html", {
                "campaigns": [], "types": [], "status": None, "states": STATES, "missing": key}, status_code=404)
        return templates.TemplateResponse(request, "software.html", {
            "campaigns": [], "types": [], "status": status, "detail": status.as_json(), "states": STATES})
