"""Server-rendered web UI (Jinja2 + htmx): home per role, trace explorer, where-used, ledger.

Everything is served from the package (no CDN). Each page passes the same policy check as the API
(:mod:`roadpass.access.policy`) and shows only what the signed-in party may see.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from roadpass.access.model import Principal
from roadpass.access.ownership import actor_prefix
from roadpass.access.policy import Decision, Effect, Op, effect
from roadpass.api.deps import AccessDep, AppDep
from roadpass.trace.query import parse_event_query
from roadpass.trace.service import Hidden, UnitNotFound
from roadpass.trace.timeutil import FOREVER, iso_utc, parse_time
from roadpass.trace.views import where_used_json
from roadpass.web.home import home_context

__all__ = ["can", "mount_web", "router", "templates"]

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


router = APIRouter(include_in_schema=False)


def _refused(access: AccessDep, q: str, reason: str) -> UnitNotFound:
    """Record a per-object denial; the caller gets the same message as for an unknown identifier."""
    decision = access.decision
    access.deny(Decision(False, 404, decision.effect, decision.rule, reason))
    return UnitNotFound(f"no unit is known as {q!r}")


def mount_web(app: FastAPI) -> None:
    """Add the home page, trace explorer, where-used and ledger pages to ``app``."""
    app.include_router(router)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, rp: AppDep, access: AccessDep) -> Response:
    """What the signed-in party must act on, and where to start searching."""
    return templates.TemplateResponse(request, "home.html", home_context(rp, access.principal))


@router.get("/ui/trace", response_class=HTMLResponse)
def trace_search(
    request: Request, rp: AppDep, access: AccessDep, q: Annotated[str, Query(max_length=300)] = "",
    at: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """A unit's as-built tree and its event timeline, with product and place names from master data."""
    context: dict[str, Any] = {"q": q, "at": at, "tree": None, "error": None, "events": [], "names": {}}
    status = 200
    if q:
        try:
            instant = parse_time(at, "at") if at else None
            try:
                unit = rp.trace.resolve(q, visibility=access.visibility)
            except Hidden:
                raise _refused(access, q, "the unit is neither yours nor shared with you") from None
            context["unit"] = unit
            context["market"] = rp.trace.unit_market(unit.id)
            context["tree"] = tree = rp.trace.as_built(unit.key, instant)
            # No visibility filter here: an event is visible when any unit it names is, and this unit
            # was just found visible, so every event naming it is.
            query = parse_event_query({"MATCH_anyEPC": [unit.key], "perPage": ["200"], "orderBy": ["eventTime"]})
            events = rp.trace.events(query)[0]
            context["events"] = events
            places = {str((e.get(f) or {}).get("id", "")) for e in events for f in ("bizLocation", "readPoint")}
            # Every name on the page (products of the tree's units, sites of the timeline) in one read.
            context["names"] = rp.master_data.names(tree.keys() | (places - {""}), instant)
        except (UnitNotFound, ValueError) as exc:
            context["error"] = str(exc).strip("'\"") if isinstance(exc, UnitNotFound) else str(exc)
            status = 404 if isinstance(exc, UnitNotFound) else 400
    return templates.TemplateResponse(request, "trace.html", context, status_code=status)


@router.get("/ui/where-used", response_class=HTMLResponse)
def where_used_page(
    request: Request, rp: AppDep, access: AccessDep, q: Annotated[str, Query(max_length=300)] = "",
    at: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """Every vehicle that carries or carried a unit or lot, by market (a bar chart) and supplier."""
    context: dict[str, Any] = {"q": q, "at": at, "result": None, "error": None, "chart": [], "names": {}}
    status = 200
    if q:
        try:
            instant = parse_time(at, "at") if at else None
            try:
                unit, kept = rp.trace.where_used(q, instant, visibility=access.visibility)
            except Hidden:
                raise _refused(access, q, "no vehicle carrying it is the caller's") from None
            result = where_used_json(unit.key, at or None, kept)
            context["result"] = result
            # The unit asked about and the holders without a VIN the table shows, named in one read.
            shown = [h.key for h in kept[:500] if not h.vin]
            context["names"] = rp.master_data.names([unit.key, *shown], instant)
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


@router.get("/ui/ledger", response_class=HTMLResponse)
def ledger_page(
    request: Request, rp: AppDep, access: AccessDep, party: Annotated[str, Query(max_length=200)] = "",
    unit: Annotated[str, Query(max_length=300)] = "",
) -> Response:
    """Recent ledger entries (a party sees its own people's), for one party or one unit."""
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
            # A party reads the entries of its own captures; a unit it may not see is not named.
            try:
                ref = rp.trace.resolve(unit, visibility=access.visibility if own is not None else None)
            except Hidden:
                raise _refused(access, unit, "the unit is neither yours nor shared with you") from None
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


@router.get("/ui/subscriptions", response_class=HTMLResponse)
def subscriptions_page(request: Request, rp: AppDep, access: AccessDep) -> Response:
    """The party's query subscriptions (every party's for the operator) and where their deliveries stand."""
    states = rp.subscriptions.overview(party_scope=access.party_scope)
    return templates.TemplateResponse(
        request, "subscriptions.html", {"states": states, "scoped": access.party_scope is not None})
