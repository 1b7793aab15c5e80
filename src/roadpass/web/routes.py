"""Server-rendered web UI (Jinja2 + htmx): home per role, trace explorer, where-used, ledger.

Everything is served from the package (no CDN). Each page passes the same policy check as the API
(:mod:`roadpass.access.policy`) and shows only what the signed-in party may see.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import bindparam, text

from roadpass.access.model import Principal
from roadpass.access.ownership import actor_prefix
from roadpass.access.policy import Decision, Effect, Op, decide_unit, effect
from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.routes.trace import visible_hits, where_used_json
from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.query import parse_event_query
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import FOREVER, iso_utc, parse_time

__all__ = ["can", "mount_web", "templates"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _when(value: int | None) -> str:
    if value is None or value >= FOREVER or value <= -FOREVER:
        return ""
    try:
        return iso_utc(value)[:16].replace("T", " ")
    except OverflowError:  # beyond year 9999: no calendar date to show
        return ""


def _word(uri: str | None) -> str:
    """The readable tail of a CBV URI (``…/BizStep-retail_selling`` → ``retail selling``)."""
    if not uri:
        return ""
    tail = uri.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail.split("-", 1)[-1].replace("_", " ")


def can(request: Request, operation: str) -> bool:
    """True when the signed-in caller's role may perform ``operation`` at all (for navigation)."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        return False
    if principal.via == "open":
        return True
    return effect(Op(operation), principal.role) is not Effect.DENY


templates.env.filters["when"] = _when
templates.env.filters["word"] = _word
templates.env.globals["can"] = can


def _location_names(rp: Any, ids: set[str]) -> dict[str, str]:
    """Names of business locations (as written in events) from the captured master data (CBV ``#name``)."""
    canonical: dict[str, str] = {}
    for value in ids:
        try:
            canonical[canonical_id(value)] = value
        except IdentifierError:
            continue
    if not canonical:
        return {}
    query = text(
        "SELECT key, name FROM vocabulary_element WHERE name IS NOT NULL AND key IN :keys ORDER BY version"
    ).bindparams(bindparam("keys", expanding=True))
    with rp.uow.read() as conn:
        return {canonical[str(k)]: str(n) for k, n in conn.execute(query, {"keys": sorted(canonical)})}


def _not_found(access: AccessDep, decision: Decision, q: str) -> str:
    """Record a per-object denial and give the same message as for an unknown identifier."""
    access.deny(decision)
    return f"no unit is known as {q!r}"


def mount_web(app: FastAPI) -> None:
    """Add the home page, trace explorer, where-used and ledger pages to ``app``."""

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(request: Request, rp: AppDep, access: AccessDep) -> Response:
        from roadpass.web.home import home_context

        context = home_context(rp, access.principal)
        return templates.TemplateResponse(request, "home.html", context)

    @app.get("/ui/trace", response_class=HTMLResponse, include_in_schema=False)
    def trace_search(
        request: Request, rp: AppDep, access: AccessDep, q: Annotated[str, Query(max_length=300)] = "",
        at: Annotated[str, Query(max_length=40)] = "",
    ) -> Response:
        context: dict[str, Any] = {"q": q, "at": at, "tree": None, "error": None, "events": [], "places": {}}
        status = 200
        if q:
            try:
                instant = parse_time(at, "at") if at else None
                unit = rp.trace.resolve(q)
                market = rp.trace.unit_market(unit.id)
                decision = decide_unit(access.principal, Op.TRACE_AS_BUILT, unit.key, market)
                if not decision.allowed:
                    raise UnitNotFound(_not_found(access, decision, q))
                context["unit"] = unit
                context["market"] = market
                context["tree"] = rp.trace.as_built(unit.key, instant)
                # No visibility filter here: an event is visible when any unit it names is, and this unit
                # was just found visible (decide_unit applies the same rule), so every event naming it is.
                query = parse_event_query({"MATCH_anyEPC": [unit.key], "perPage": ["200"], "orderBy": ["eventTime"]})
                events = rp.trace.events(query)[0]
                context["events"] = events
                places = {str((e.get("bizLocation") or {}).get("id", "")) for e in events} - {""}
                context["places"] = _location_names(rp, places)
            except (UnitNotFound, ValueError) as exc:
                context["error"] = str(exc).strip("'\"") if isinstance(exc, UnitNotFound) else str(exc)
                status = 404 if isinstance(exc, UnitNotFound) else 400
        return templates.TemplateResponse(request, "trace.html", context, status_code=status)

    @app.get("/ui/where-used", response_class=HTMLResponse, include_in_schema=False)
    def where_used_page(
        request: Request, rp: AppDep, access: AccessDep, q: Annotated[str, Query(max_length=300)] = "",
        at: Annotated[str, Query(max_length=40)] = "",
    ) -> Response:
        context: dict[str, Any] = {"q": q, "at": at, "result": None, "error": None, "chart": []}
        status = 200
        if q:
            try:
                instant = parse_time(at, "at") if at else None
                unit, hits = rp.trace.where_used(q, instant)
                kept = visible_hits(rp.trace, unit, hits, access.visibility)
                if kept is None:
                    raise UnitNotFound(_not_found(access, Decision(
                        False, 404, Effect.SCOPED, access.decision.rule, "no vehicle carrying it is the caller's"
                    ), q))
                result = where_used_json(unit.key, at or None, kept)
                context["result"] = result
                now = Counter(h.market or "unknown" for h in kept if h.vin and h.current)
                top = max(result["byMarket"].values(), default=1)
                context["chart"] = [
                    {"market": m, "ever": n, "now": now.get(m, 0), "width": 100 * n / top,
                     "now_width": 100 * now.get(m, 0) / top}
                    for m, n in result["byMarket"].items()
                ]
            except (UnitNotFound, ValueError) as exc:
                context["error"] = str(exc)
                status = 404 if isinstance(exc, UnitNotFound) else 400
        return templates.TemplateResponse(request, "where_used.html", context, status_code=status)

    @app.get("/ui/ledger", response_class=HTMLResponse, include_in_schema=False)
    def ledger_page(
        request: Request, rp: AppDep, access: AccessDep, party: Annotated[str, Query(max_length=200)] = "",
        unit: Annotated[str, Query(max_length=300)] = "",
    ) -> Response:
        own = access.actor_prefixes
        prefix = actor_prefix(party) if party else None
        error = None
        if own is not None:
            prefix = own[0] if own else "\uffff"
            party = access.principal.party.key if access.principal.party else ""
        parties = [] if own is not None else rp.access.parties()
        entries = []
        if unit:
            try:
                ref = rp.trace.resolve(unit)
                decision = decide_unit(access.principal, Op.TRACE_AS_BUILT, ref.key, rp.trace.unit_market(ref.id))
                if not decision.allowed and own is not None:
                    raise UnitNotFound(_not_found(access, decision, unit))
                entries = rp.ledger.recent(limit=100, actor_prefix=prefix, unit_key=ref.key)
            except UnitNotFound as exc:
                error = str(exc)
        else:
            entries = rp.ledger.recent(limit=100, actor_prefix=prefix)
        return templates.TemplateResponse(
            request, "ledger.html",
            {"entries": entries, "party": party, "unit": unit, "parties": parties, "error": error,
             "scoped": own is not None},
        )
