"""Where-used across regions (docs/regions-federation.md).

``GET /federation/where-used?id=…`` asks this node and every peer region's node, and answers per region
what that region's policy lets cross, which regions answered, and ``partial`` when one did not.
``GET /federation/peer/where-used?id=…`` is what a peer node asks: answered only to a party that is a peer
node's on this node, projected for that peer's region and ledgered as a transfer.

Recalls: ``POST /federation/recalls/{key}/relay`` sends a campaign's definition to every peer region (a
durable outbox), ``GET /federation/recalls/{key}`` shows completion per region and the regions that have not
reported; the peers answer ``POST /federation/peer/recalls`` and ``GET /federation/peer/recalls/{key}``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from roadpass.aftermarket.recalls.model import RecallInvalid
from roadpass.aftermarket.recalls.service import CampaignNotFound
from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, problem
from roadpass.api.routes.recalls import viewer_of
from roadpass.regions.federation_service import NotAPeer
from roadpass.regions.policy import PolicyError

__all__ = ["not_a_peer", "router"]

router = APIRouter(tags=["Regional nodes"])

_INVALID = "https://roadpass.dev/problems/recall-invalid"
T = TypeVar("T")
_Id = Annotated[str, Query(alias="id", min_length=1, description="A unit or lot: EPC URN, GS1 Digital Link, VIN")]


@router.get("/federation/where-used", summary="A where-used answered by every region's node, per region.")
async def federated_where_used(app: AppDep, access: AccessDep, identifier: _Id) -> Response:
    """This node's where-used (as far as the caller sees) and each peer region's answer, as its transfer
    policy allows; ``partial`` true and the regions named in ``notAnswered`` when one did not answer."""
    answer = await anyio.to_thread.run_sync(functools.partial(
        app.federation.where_used, identifier, visibility=access.visibility))
    return JsonResponse(answer.as_json())


@router.get("/federation/peer/where-used", summary="A peer node's where-used question, answered for its region.")
async def peer_where_used(app: AppDep, access: AccessDep, identifier: _Id) -> Response:
    """This node's where-used for the peer node whose party calls, projected for the peer's region (counts
    by market; vehicle ids as the policy allows) and ledgered. 403 when the caller is no peer node's party."""
    party = access.principal.party
    try:
        answer = await anyio.to_thread.run_sync(functools.partial(
            app.federation.answer_where_used, identifier, party=party.key if party else None,
            visibility=access.visibility))
    except NotAPeer:
        return not_a_peer()
    except PolicyError as exc:
        return problem(409, "this node cannot answer across a border", parameter=exc.path, reason=exc.reason)
    return JsonResponse(answer)


# --- recalls across regions -------------------------------------------------------------------------------


@router.post("/federation/recalls/{campaign_key}/relay", summary="Send a campaign to every peer region's node.")
async def relay_recall(campaign_key: str, app: AppDep, access: AccessDep) -> Response:
    """Put the campaign's non-personal definition in the outbox for every peer region (ledgered) and deliver
    it; the answer is the campaign's status per region. 404 when the caller sees no such campaign."""
    try:
        await run_in_threadpool(app.recalls.status, campaign_key, viewer_of(access))
        status = await run_in_threadpool(app.recall_relay.relay, campaign_key, actor=access.principal.actor)
    except CampaignNotFound:
        return hidden(access, f"no recall campaign {campaign_key!r}", "the campaign reaches none of the caller's")
    return JsonResponse(status.as_json())


@router.get("/federation/recalls/{campaign_key}", summary="A relayed campaign's completion per region.")
async def recall_status(campaign_key: str, app: AppDep, access: AccessDep) -> Response:
    """Completion counts by market per region (this node's and each peer's last report), the regions that
    have not reported (``notReported``), and the outbox state per peer."""
    try:
        await run_in_threadpool(app.recalls.status, campaign_key, viewer_of(access))
    except CampaignNotFound:
        return hidden(access, f"no recall campaign {campaign_key!r}", "the campaign reaches none of the caller's")
    status = await run_in_threadpool(app.recall_relay.status, campaign_key)
    return JsonResponse(status.as_json())


@router.post("/federation/peer/recalls", summary="A peer node hands over a recall campaign to carry out here.")
async def peer_open_recall(request: Request, app: AppDep, access: AccessDep) -> Response:
    """Open the campaign here (this node's where-used, its markets' dealers and repairers notified): 201, or
    200 when this node has it already. 400 names every bad field; 403 when the caller is no peer's party."""
    try:
        opened = await from_peer(request, access, "a recall campaign", _INVALID, app.recall_relay.accept, acts="ask")
    except RecallInvalid as exc:
        return problem(400, "the recall campaign is invalid", type_=_INVALID,
                       errors=[p.as_json() for p in exc.problems])
    if isinstance(opened, Response):
        return opened
    return JsonResponse({"opened": opened}, status_code=201 if opened else 200)


@router.get("/federation/peer/recalls/{campaign_key}", summary="A campaign's completion counts for a peer node.")
async def peer_recall_report(campaign_key: str, app: AppDep, access: AccessDep) -> Response:
    """Completion counts by market (no vehicle, no owner) as this node's policy lets them cross to the
    asking peer's region; ledgered. 403 when the caller is no peer's party; 404 when there is no campaign."""
    party = access.principal.party
    try:
        report = await run_in_threadpool(app.recall_relay.report, campaign_key, party=party.key if party else None)
    except NotAPeer:
        return not_a_peer()
    except CampaignNotFound:
        return problem(404, f"no recall campaign {campaign_key!r}", parameter="campaign_key")
    return JsonResponse(report)


async def from_peer(request: Request, access: Access, what: str, invalid_type: str, accept: Callable[..., T],
                    *, acts: str = "deliver") -> T | Response:
    """A peer node's delivery: the JSON body handed to ``accept`` with the calling party's key, off the event
    loop; a body that is not JSON (400) or a caller that is no peer node's party (403) as the response. What
    ``accept`` refuses otherwise is the route's to answer."""
    body = await json_body(request, what, invalid_type)
    if isinstance(body, Response):
        return body
    party = access.principal.party
    try:
        return await run_in_threadpool(accept, body, party=party.key if party else None)
    except NotAPeer:
        return not_a_peer(acts)


def not_a_peer(acts: str = "ask") -> Response:
    """403 for a caller that is no peer node's party (what every ``/federation/peer/…`` route answers it)."""
    return problem(403, "the caller is no peer node's party on this node", parameter="Authorization",
                   reason=f"only a party named as a peer's party in ROADPASS_PEERS may {acts} as a region")
