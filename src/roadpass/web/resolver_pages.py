"""Pages a scan lands on when the item has no passport: the item page (a product by GTIN, a lot, a unit, a
location) and the vehicle page by VIN. Each names the item (master data) and lists the links the caller
may see, as the resolver's linkset does; recalls and service history have their own sections."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from roadpass.api.routes.resolver import (
    PRIMARY_KEY_CONVERTOR,
    audience_of,
    raw_path,
    register_primary_key_convertor,
)
from roadpass.resolver.scan import ScanError, accept_languages
from roadpass.resolver.service import NotResolved, ResolverService
from roadpass.web.routes import templates

__all__ = ["mount_resolver_pages"]

_ITEM = "/item"


def _page(request: Request, path: str) -> Response:
    service: ResolverService = request.app.state.roadpass.resolver
    languages = accept_languages(request.headers.get("accept-language"))
    context: dict[str, Any] = {"error": None, "subject": None, "links": [], "path": path}
    try:
        resolution = service.resolution(path, audience_of(request), service.root_for(str(request.base_url)))
    except ScanError as exc:
        context["error"] = f"not a valid GS1 Digital Link URI: {exc}"
        return templates.TemplateResponse(request, "resolver_item.html", context, status_code=400)
    except NotResolved as exc:
        context["error"] = str(exc)
        return templates.TemplateResponse(request, "resolver_item.html", context, status_code=404)
    context.update(subject=resolution.subject, links=service.titled(resolution, languages))
    return templates.TemplateResponse(request, "resolver_item.html", context)


def mount_resolver_pages(app: FastAPI) -> None:
    """Add ``/item/{Digital Link path}`` and ``/vehicle/{vin}``."""
    register_primary_key_convertor()

    @app.get(f"{_ITEM}/{{ai:{PRIMARY_KEY_CONVERTOR}}}/{{rest:path}}", response_class=HTMLResponse,
             include_in_schema=False)
    def item_page(request: Request, ai: str, rest: str) -> Response:
        """A product, lot, unit or location by its Digital Link path, with its links."""
        return _page(request, raw_path(request.scope)[len(_ITEM):])

    @app.get("/vehicle/{vin}", response_class=HTMLResponse, include_in_schema=False)
    def vehicle_page(request: Request, vin: str) -> Response:
        """A vehicle by its VIN, with its links (recalls, service information where the caller may see them)."""
        service: ResolverService = request.app.state.roadpass.resolver
        try:
            path = service.path_of_vin(vin)
        except NotResolved as exc:
            context: dict[str, Any] = {"error": str(exc), "subject": None, "links": [], "path": f"/vehicle/{vin}"}
            return templates.TemplateResponse(request, "resolver_item.html", context, status_code=404)
        return _page(request, path)
