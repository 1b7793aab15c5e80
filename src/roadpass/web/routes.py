"""Server-rendered web UI (Jinja2): trace explorer, where-used, ledger. Everything served from the package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import text

from roadpass.api.deps import AppDep
from roadpass.api.routes.trace import where_used_json
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import FOREVER, iso_utc, parse_time

__all__ = ["mount_web", "templates"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _when(value: int | None) -> str:
    if value is None or value >= FOREVER or value <= -FOREVER:
        return ""
    return iso_utc(value)[:16].replace("T", " ")


templates.env.filters["when"] = _when


def _counts(app: Any) -> dict[str, int]:
    with app.uow.read() as conn:
        row = conn.execute(
            text(
                "SELECT (SELECT COUNT(*) FROM epcis_event), (SELECT COUNT(*) FROM unit WHERE vin IS NOT NULL), "
                "(SELECT COUNT(*) FROM link), (SELECT COALESCE(MAX(seq), 0) FROM ledger_entry)"
            )
        ).one()
    return {"events": int(row[0]), "vehicles": int(row[1]), "links": int(row[2]), "ledger": int(row[3])}


def _sample_ids(app: Any) -> dict[str, str | None]:
    with app.uow.read() as conn:
        vin = conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL ORDER BY id LIMIT 1")).scalar()
        lot = conn.execute(text("SELECT key FROM unit WHERE kind = 2 ORDER BY id LIMIT 1")).scalar()
    return {"vin": vin, "lot": lot}


def mount_web(app: FastAPI) -> None:
    """Add the web UI's pages and static files to ``app``."""
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, rp: AppDep) -> Response:
        return templates.TemplateResponse(
            request, "home.html", {"counts": _counts(rp), "samples": _sample_ids(rp)}
        )

    @app.get("/ui/trace", response_class=HTMLResponse, include_in_schema=False)
    def trace_search(
        request: Request, rp: AppDep, q: Annotated[str, Query()] = "", at: Annotated[str, Query()] = ""
    ) -> Response:
        context: dict[str, Any] = {"q": q, "at": at, "tree": None, "error": None, "events": []}
        if q:
            try:
                instant = parse_time(at, "at") if at else None
                unit = rp.trace.resolve(q)
                context["unit"] = unit
                context["tree"] = rp.trace.as_built(unit.key, instant)
                from roadpass.trace.query import parse_event_query

                query = parse_event_query({"MATCH_anyEPC": [unit.key], "perPage": ["100"]})
                context["events"] = rp.trace.events(query)[0]
            except (UnitNotFound, ValueError) as exc:
                context["error"] = str(exc)
        return templates.TemplateResponse(request, "trace.html", context)

    @app.get("/ui/where-used", response_class=HTMLResponse, include_in_schema=False)
    def where_used_page(
        request: Request, rp: AppDep, q: Annotated[str, Query()] = "", at: Annotated[str, Query()] = ""
    ) -> Response:
        context: dict[str, Any] = {"q": q, "at": at, "result": None, "error": None}
        if q:
            try:
                instant = parse_time(at, "at") if at else None
                unit, hits = rp.trace.where_used(q, instant)
                context["result"] = where_used_json(unit.key, at or None, hits)
            except (UnitNotFound, ValueError) as exc:
                context["error"] = str(exc)
        return templates.TemplateResponse(request, "where_used.html", context)

    @app.get("/ui/ledger", response_class=HTMLResponse, include_in_schema=False)
    def ledger_page(
        request: Request, rp: AppDep, actor: Annotated[str, Query()] = "", verify: Annotated[str, Query()] = ""
    ) -> Response:
        report = rp.ledger.verify() if verify else None
        entries = rp.ledger.recent(limit=100, actor=actor or None)
        return templates.TemplateResponse(
            request, "ledger.html", {"entries": entries, "report": report, "actor": actor}
        )
