"""Aggregates across regions (docs/regions-federation.md, "Aggregates to peers").

``GET /nodes/aggregates``: the batches of counts this node received from its peers and sent to them, with the
totals per peer. ``POST /federation/peer/aggregates`` is what a peer node delivers: accepted only from a party
that is a peer node's on this node (its API key authenticates it), checked whole (every group at least the
batch's k), stored once per sender and batch number, and ledgered.
"""

from __future__ import annotations

import functools

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, problem
from roadpass.api.routes.federation import from_peer
from roadpass.regions.aggregates import AggregateInvalid

__all__ = ["router"]

router = APIRouter(tags=["Regional nodes"])

_INVALID = "https://roadpass.dev/problems/aggregates-invalid"


@router.get("/nodes/aggregates", summary="Aggregates received from peer nodes and sent to them.")
async def node_aggregates(app: AppDep, access: AccessDep) -> Response:
    """The newest batches received (counts per market, business step and day; groups under k suppressed)
    and sent (with their outbox state), and per peer how many were sent, are pending and were received."""
    body = await anyio.to_thread.run_sync(functools.partial(app.aggregates.overview))
    return JsonResponse(body)


@router.post("/federation/peer/aggregates", summary="A peer node delivers a batch of aggregate counts.")
async def peer_aggregates(request: Request, app: AppDep, access: AccessDep) -> Response:
    """Store the batch (201), or 200 when it is stored already (a replay). 400 names every bad field; 403
    when the caller is no peer node's party."""
    try:
        stored = await from_peer(request, access, "an aggregates batch", _INVALID, app.aggregates.accept)
    except AggregateInvalid as exc:
        return problem(400, "the aggregates batch is invalid", type_=_INVALID,
                       errors=[{"instance": path, "title": reason} for path, reason in exc.problems])
    if isinstance(stored, Response):
        return stored
    return JsonResponse({"stored": stored}, status_code=201 if stored else 200)
