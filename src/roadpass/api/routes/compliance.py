"""Compliance over REST: packs, technical files, evidence, assessments, matrix, plans, diffs, decisions, exports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from roadpass.api.deps import ActorDep, AppDep
from roadpass.api.responses import JsonResponse, problem
from roadpass.compliance.actions import DecisionError
from roadpass.compliance.demo import DEMO_COSTS
from roadpass.compliance.product import ProductError
from roadpass.compliance.service import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/compliance", tags=["Compliance"])
DayQuery = Annotated[dt.date | None, Query(description="Assessment date (default today).")]


def _error(exc: Exception) -> Response:
    if isinstance(exc, NotFound):
        return problem(404, str(exc).strip("'\""))
    if isinstance(exc, ProductError):
        return problem(400, "invalid input", issues=[{"path": p, "reason": r} for p, r in exc.issues])
    return problem(422, str(exc))


@router.get("/packs", summary="Regulation packs (validated on load); requirements=true lists every requirement.")
def packs(app: AppDep, requirements: bool = False) -> Response:
    """Markets, versions and, on request, every requirement with all its fields."""
    lib = app.compliance.library
    out = []
    for market in lib.markets():
        pack = lib.get(market)
        entry: dict[str, Any] = {"market": market, "version": pack.version, "versions": list(lib.versions(market)),
                                 "status": pack.status, "title": pack.title, "requirements": len(pack.requirements)}
        if requirements:
            entry["requirements"] = [dict(r.raw) for r in pack.requirements]
        out.append(entry)
    return JsonResponse(out)


@router.get("/products", summary="Technical files (latest versions).")
def products(app: AppDep) -> Response:
    """Every product's latest technical file version."""
    return JsonResponse([r.summary() for r in app.compliance.products()])


@router.post("/products", status_code=201, summary="Import a technical file (YAML or JSON body).")
async def import_product(app: AppDep, actor: ActorDep, request: Request) -> Response:
    """A changed file becomes a new version; an unchanged one is reported as such."""
    try:
        row = app.compliance.import_product(await request.body(), actor=actor)
    except ProductError as exc:
        return _error(exc)
    return JsonResponse(row.imported(), status_code=201 if row.created else 200)


@router.get("/products/{key}", summary="One technical file.")
def product(app: AppDep, key: str) -> Response:
    """The latest version of a technical file."""
    try:
        row = app.compliance.product(key)
    except NotFound as exc:
        return _error(exc)
    return JsonResponse(row.to_json())


@router.post("/products/{key}/sbom", summary="Import a CycloneDX JSON SBOM/HBOM for a product.")
async def import_sbom(app: AppDep, actor: ActorDep, key: str, request: Request) -> Response:
    """Validated against the CycloneDX schema; the product gets a new version."""
    try:
        row = app.compliance.import_sbom(key, await request.body(), actor=actor)
    except (NotFound, ProductError) as exc:
        return _error(exc)
    return JsonResponse({"product": row.key, "version": row.version,
                         "components": len(row.file.sbom.components) if row.file.sbom else 0})


@router.get("/evidence", summary="Evidence held (for one product or all).")
def evidence(app: AppDep, product: str | None = None) -> Response:
    """Evidence items with their links."""
    return JsonResponse([e.model_dump(mode="json") for e in app.compliance.evidence(product)])


@router.post("/evidence", status_code=201, summary="Register evidence metadata (with the file's sha256).")
def add_evidence(app: AppDep, actor: ActorDep, body: dict[str, Any]) -> Response:
    """Stored once per SHA-256; links to products and requirements are added."""
    try:
        ev, created = app.compliance.add_evidence(body, actor=actor)
    except (NotFound, ProductError) as exc:
        return _error(exc)
    return JsonResponse({"created": created, **ev.model_dump(mode="json")}, status_code=201 if created else 200)


@router.get("/assess/{product}/{market}", summary="Assess a product in a market.")
def assess(app: AppDep, actor: ActorDep, product: str, market: str, on: DayQuery = None, record: bool = False,
           proposed: bool = False) -> Response:
    """Each requirement met / gap / expiring / not applicable with the reason; record=true stores a version."""
    try:
        a = app.compliance.assess(product, market.upper(), on, record=record, include_proposed=proposed, actor=actor)
    except NotFound as exc:
        return _error(exc)
    return JsonResponse(a.to_json())


@router.get("/matrix", summary="Products x markets.")
def matrix(app: AppDep, on: DayQuery = None, results: bool = False) -> Response:
    """Status and counts per product and market (results=true adds every requirement's result)."""
    return JsonResponse(app.compliance.matrix(on).to_json(results=results))


@router.get("/plan/{product}/{market}", summary="Evidence reuse and the cheapest set of new tests.")
def plan(app: AppDep, product: str, market: str, on: DayQuery = None, demo_costs: bool = False) -> Response:
    """Held evidence accepted in the market (and on what basis) and the set cover of new items."""
    try:
        p = app.compliance.plan(product, market.upper(), on, costs=DEMO_COSTS if demo_costs else None)
    except NotFound as exc:
        return _error(exc)
    return JsonResponse(p.to_json())


@router.get("/diff/{product}/{market}", summary="What changed between two assessment versions, and why.")
def diff(app: AppDep, product: str, market: str,
         from_version: Annotated[int | None, Query(alias="from")] = None,
         to_version: Annotated[int | None, Query(alias="to")] = None) -> Response:
    """Default: the last two stored versions."""
    try:
        return JsonResponse(app.compliance.diff(product, market.upper(), from_version, to_version).to_json())
    except NotFound as exc:
        return _error(exc)


@router.get("/history/{product}/{market}", summary="Stored assessment versions.")
def history(app: AppDep, product: str, market: str) -> Response:
    """Versions, dates, pack versions and statuses."""
    return JsonResponse(app.compliance.history(product, market.upper()))


@router.get("/actions", summary="Action items (RACI, due dates, derived status).")
def actions(app: AppDep, product: str | None = None, market: str | None = None) -> Response:
    """Open while the gap is in the latest assessment."""
    return JsonResponse([i.to_json() for i in app.compliance.actions(product, market.upper() if market else None)])


class DecisionIn(BaseModel):
    """A decision to record."""

    kind: Literal["approval", "risk_acceptance"]
    product: str
    market: str
    decided_by: str
    rationale: str
    requirement: str | None = None
    valid_until: dt.date | None = None


@router.post("/decisions", status_code=201, summary="Record an approval or a risk acceptance.")
def decide(app: AppDep, actor: ActorDep, body: DecisionIn) -> Response:
    """With a snapshot of the latest stored assessment."""
    try:
        d = app.compliance.decide(body.kind, body.product, body.market.upper(), decided_by=body.decided_by,
                                 rationale=body.rationale, requirement_id=body.requirement,
                                 valid_until=body.valid_until, actor=actor)
    except (NotFound, DecisionError, KeyError) as exc:
        return _error(exc)
    return JsonResponse(d.to_json(), status_code=201)


@router.get("/decisions", summary="Recorded decisions.")
def decisions(app: AppDep, product: str | None = None) -> Response:
    """Newest first."""
    return JsonResponse(app.compliance.decisions(product))


@router.get("/connected-vehicle/{product}", summary="US connected-vehicle check (15 CFR 791 subpart D).")
def connected_vehicle(app: AppDep, product: str, on: DayQuery = None) -> Response:
    """Flagged VCS/ADS software and VCS hardware with a China or Russia nexus; what the DoC needs."""
    try:
        return JsonResponse(app.compliance.connected_vehicle(product, on).to_json())
    except NotFound as exc:
        return _error(exc)


@router.get("/oscal/{product}/{market}", summary="A stored assessment as OSCAL assessment-results.")
def oscal(app: AppDep, product: str, market: str, version: int | None = None) -> Response:
    """NIST OSCAL assessment-results JSON."""
    try:
        return JsonResponse(app.compliance.oscal(product, market.upper(), version))
    except NotFound as exc:
        return _error(exc)


@router.get("/ciso-assistant/{market}", summary="A pack as a CISO Assistant framework library (YAML).")
def ciso(app: AppDep, market: str) -> Response:
    """Loads in CISO Assistant unchanged."""
    svc = app.compliance
    if market.upper() not in svc.library.packs:
        return problem(404, f"no regulation pack for market {market!r}")
    return Response(svc.ciso_framework(market.upper()), media_type="application/yaml")


@router.get("/report.html", response_class=HTMLResponse, summary="The gap report with the heat map.")
def report_html(app: AppDep, on: DayQuery = None) -> Response:
    """Self-contained HTML."""
    return HTMLResponse(app.compliance.report_html(on))


@router.get("/report.pdf", summary="The gap report as PDF.")
def report_pdf(app: AppDep, on: DayQuery = None) -> Response:
    """PDF made with matplotlib."""
    return Response(app.compliance.report_pdf(on), media_type="application/pdf")
