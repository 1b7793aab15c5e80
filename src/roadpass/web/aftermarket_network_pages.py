"""The repair network pages: the network by market (who may do security-related work now, and the accesses
the viewer may see), and the parts check a repairer opens from a scan (``/ui/parts/check?id=<Digital Link>``).
Both render the JSON the API serves, under the same access rules."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from roadpass.aftermarket.network.views import access_json, network_json
from roadpass.aftermarket.parts.service import PartsError, check_json
from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.routes.repairers import viewer_of
from roadpass.web.routes import templates

__all__ = ["mount_aftermarket_network_pages"]


def mount_aftermarket_network_pages(app: FastAPI) -> None:
    """Add ``/ui/repairers`` and ``/ui/parts/check`` to ``app``."""

    @app.get("/ui/repairers", response_class=HTMLResponse, include_in_schema=False)
    def repairers_page(request: Request, rp: AppDep, access: AccessDep,
                       market: Annotated[str, Query(max_length=2)] = "") -> Response:
        at = time.time_ns() // 1000
        network = [network_json(e, at) for e in rp.repair_network.network(market=market or None)]
        markets = sorted({m for r in network for m in r["markets"]} | {r["country"] for r in network})
        accesses = []
        if access.principal.role in ("manufacturer", "authority", "repairer", "operator", "open"):
            accesses = [access_json(r, u) for r, u in rp.repair_network.accesses(viewer_of(access), limit=50)]
        context: dict[str, Any] = {"network": network, "market": market.upper(), "markets": markets,
                                   "accesses": accesses}
        return templates.TemplateResponse(request, "repairers.html", context)

    @app.get("/ui/parts/check", response_class=HTMLResponse, include_in_schema=False)
    def parts_check_page(request: Request, rp: AppDep, access: AccessDep,
                         id: Annotated[str, Query(max_length=500)] = "",
                         vin: Annotated[str, Query(max_length=17)] = "") -> Response:
        context: dict[str, Any] = {"id": id, "vin": vin, "result": None, "error": None}
        status = 200
        if id:
            try:
                found = rp.parts.check(id, checker=access.principal.actor, vin=vin or None,
                                       visibility=access.visibility)
                context["result"] = check_json(found)
            except PartsError as exc:
                context["error"] = f"{exc.field}: {exc.reason}"
                status = 422
        return templates.TemplateResponse(request, "parts_check.html", context, status_code=status)
