"""The compliance web page: a products x markets heat map whose cells open the gap list with owners and dates;
each requirement links to its primary source."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from roadpass.api.deps import AppDep
from roadpass.compliance.actions import actions_for
from roadpass.compliance.sources import primary_url
from roadpass.web.routes import templates

__all__ = ["mount_compliance_pages"]


def mount_compliance_pages(app: FastAPI) -> None:
    """Add ``/ui/compliance`` to ``app`` (templates and static files come from roadpass.web)."""
    @app.get("/ui/compliance", response_class=HTMLResponse, include_in_schema=False)
    def compliance_page(
        request: Request, rp: AppDep, on: Annotated[str, Query()] = "", product: Annotated[str, Query()] = "",
        market: Annotated[str, Query()] = "",
    ) -> Response:
        try:
            day = dt.date.fromisoformat(on) if on else dt.date.today()
        except ValueError:
            day = dt.date.today()
        service = rp.compliance
        matrix = service.matrix(day)
        context: dict[str, Any] = {"matrix": matrix, "on": day.isoformat(), "selected": None, "owners": {},
                                   "sources": {}}
        selected = matrix.cell(product, market.upper()) if product and market else None
        if selected is not None:
            pack = service.library.get(selected.market, selected.pack_version)
            context["sources"] = {r.id: {"url": primary_url(r), "title": r.citations[0].instrument,
                                         "reviewed": r.reviewed, "confidence": r.confidence}
                                  for r in pack.requirements}
            stored = {a.requirement_id: a for a in service.actions(product, market.upper()) if a.status == "open"}
            planned = {a.requirement_id: a for a in actions_for(selected, service.product(product).file)}
            context["selected"] = selected
            context["owners"] = {**planned, **stored}
        return templates.TemplateResponse(request, "compliance.html", context)
