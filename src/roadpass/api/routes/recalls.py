"""Recall campaigns over REST: open one from a defect's scope, read completion by market, notices, the open
recalls of a vehicle or unit, and authority reports as JSON or PDF.

Who sees what is :func:`roadpass.aftermarket.recalls.audience.visible_markets`: the manufacturer that opened
the campaign sees every vehicle, a dealer or repairer those of its market, an authority those of its
mandate; a campaign the caller sees nothing of is answered 404 and the refusal ledgered.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from roadpass.aftermarket.recalls.model import RecallInvalid, Viewer
from roadpass.aftermarket.recalls.service import CampaignExists, CampaignNotFound
from roadpass.aftermarket.recalls.views import status_json
from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, problem
from roadpass.trace.timeutil import iso_utc

__all__ = ["router", "viewer_of"]

router = APIRouter(tags=["Recall campaigns"])

_INVALID = "https://roadpass.dev/problems/recall-invalid"


def viewer_of(access: Access) -> Viewer:
    """The caller as the recall rules see it (party, role, market, visibility)."""
    party = access.principal.party
    visibility = None if access.principal.via == "open" else access.principal.visibility
    if party is None:
        return Viewer(visibility=visibility)
    return Viewer(party.key, party.role, party.country, visibility)


def _not_found(access: Access, key: str) -> Response:
    return hidden(access, f"no recall campaign {key!r}", "the campaign reaches none of the caller's vehicles")


@router.post("/recalls", status_code=201, summary="Open a recall campaign from a defect's scope.")
async def create_campaign(request: Request, app: AppDep, access: AccessDep) -> Response:
    """Resolve the scope through where-used (ever and now), store the campaign with its vehicles by market,
    notify each market's dealers and repairers, and ledger it. 400 names every bad field; 409 a taken key."""
    body = await json_body(request, "a recall campaign", _INVALID)
    if isinstance(body, Response):
        return body
    party = access.principal.party
    visibility = None if access.principal.via == "open" else access.principal.visibility
    try:
        created = await run_in_threadpool(app.recalls.create, body, actor=access.principal.actor,
                                          owner=party.key if party else "", visibility=visibility)
    except RecallInvalid as exc:
        return problem(400, "the recall campaign is invalid", type_=_INVALID,
                       errors=[p.as_json() for p in exc.problems])
    except CampaignExists as exc:
        return problem(409, f"a recall campaign {exc} exists already", parameter="campaignKey")
    return JsonResponse({
        "campaignKey": created.campaign.key, "vehicles": created.vehicles, "carryingNow": created.carrying_now,
        "byMarket": created.by_market, "notices": created.notices, "ledgerSeq": created.ledger_seq,
    }, status_code=201)


@router.get("/recalls", summary="The recall campaigns the caller sees, with their totals.")
def list_campaigns(app: AppDep, access: AccessDep) -> Response:
    """Each campaign with completion over the vehicles the caller may see."""
    found = app.recalls.campaigns(viewer_of(access))
    return JsonResponse({"campaigns": [
        {"campaignKey": c.key, "title": c.draft.title, "openedAt": iso_utc(c.created_at), **t.as_json()}
        for c, t in found]})


@router.get("/recalls/{campaign_key}", summary="A campaign's completion by market, over time, overdue markets.")
def campaign_status(campaign_key: str, app: AppDep, access: AccessDep,
                    vehicles: Annotated[int, Query(ge=0, le=100_000)] = 200) -> Response:
    """Completion by market and over time and the overdue markets, over the vehicles the caller may see."""
    try:
        status = app.recalls.status(campaign_key, viewer_of(access))
    except CampaignNotFound:
        return _not_found(access, campaign_key)
    return JsonResponse(status_json(status, vehicles=vehicles))


@router.get("/recalls/{campaign_key}/curve.svg", summary="Completion by market over time, as SVG.")
def campaign_curve(campaign_key: str, app: AppDep, access: AccessDep) -> Response:
    """The completion curve (one line per market the caller may see)."""
    try:
        svg = app.recalls.curve_svg(campaign_key, viewer_of(access))
    except CampaignNotFound:
        return _not_found(access, campaign_key)
    return Response(svg, media_type="image/svg+xml")


@router.post("/recalls/{campaign_key}/refresh", summary="Re-resolve a campaign's reach through where-used.")
def refresh_campaign(campaign_key: str, app: AppDep, access: AccessDep) -> Response:
    """Vehicles newly reached (a defective unit moved to another vehicle) are added and notified."""
    try:
        app.recalls.status(campaign_key, viewer_of(access), refresh=False)
        new = app.recalls.refresh(campaign_key, actor=access.principal.actor)
    except CampaignNotFound:
        return _not_found(access, campaign_key)
    except RecallInvalid as exc:
        return problem(409, "the campaign's scope no longer resolves", errors=[p.as_json() for p in exc.problems])
    return JsonResponse({"campaignKey": campaign_key, "newVehicles": new})


@router.get("/recalls/{campaign_key}/reports/{form_id}",
            summary="An authority report (us-573-6, us-573-7, eu-2018-858, cn-samr) as JSON or PDF.")
def campaign_report(
    campaign_key: str, form_id: str, app: AppDep, access: AccessDep,
    quarter: Annotated[str | None, Query(description="Quarterly forms: 2026Q4 (default: this quarter)")] = None,
    format: Annotated[str, Query(pattern="^(json|pdf)$")] = "json",
) -> Response:
    """Every field traced to its source in the campaign, with its citation; missing fields listed."""
    viewer = viewer_of(access)
    try:
        if format == "pdf":
            pdf = app.recalls.report_pdf(campaign_key, form_id, viewer, quarter=quarter)
            return Response(pdf, media_type="application/pdf", headers={
                "Content-Disposition": f'attachment; filename="{campaign_key}-{form_id}.pdf"'})
        return JsonResponse(app.recalls.report(campaign_key, form_id, viewer, quarter=quarter).as_json())
    except CampaignNotFound:
        return _not_found(access, campaign_key)
    except KeyError as exc:
        return problem(404, str(exc.args[0]), parameter="form_id")
    except ValueError as exc:
        return problem(400, str(exc), parameter="quarter")


@router.get("/recall-notices", summary="The recall notices addressed to the caller's party.")
def recall_notices(app: AppDep, access: AccessDep) -> Response:
    """Each notice names the campaign and how many of the party's market's vehicles it reaches."""
    party = access.principal.party
    notices = app.recalls.notices(party.key) if party is not None else []
    return JsonResponse({"notices": [
        {"campaignKey": n.campaign_key, "title": n.title, "market": n.market, "role": n.role,
         "vehicles": n.vehicles, "notifiedAt": iso_utc(n.created_at)} for n in notices]})


@router.get("/recalls-for/{identifier:path}", summary="Recalls of a VIN or unit (EPC URN, Digital Link).")
def open_recalls(identifier: str, app: AppDep, access: AccessDep) -> Response:
    """The campaigns that concern a vehicle or unit, as far as the caller may see them; a vehicle the
    defective unit has left is told so (``state``: ``no_longer_fitted``)."""
    found = app.recalls.open_recalls_visible(identifier, viewer_of(access))
    return JsonResponse({"identifier": identifier, "recalls": [
        {"campaignKey": r.campaign_id, "title": r.title, "vin": r.vin, "remedied": r.remedied, "remedy": r.remedy,
         "state": r.state}
        for r in found]})
