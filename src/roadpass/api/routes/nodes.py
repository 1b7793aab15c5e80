"""``GET /nodes``: this node (name, region, transfer policy version) and its peers, with the outbox depth of
the subscriptions delivering to each and the last transfer per class of data (docs/regions.md)."""

from __future__ import annotations

import functools

import anyio
from fastapi import APIRouter
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse

__all__ = ["router"]

router = APIRouter(tags=["Regional nodes"])


@router.get("/nodes", summary="This node, its region and its peers, with what is pending and went to each.")
async def nodes(app: AppDep, access: AccessDep) -> Response:
    """The node's status; a party sees its own subscriptions' outbox (the ledger's own-party rule),
    authorities and the operator every party's."""
    party = None if access.party_scope is None else (
        access.principal.party.key if access.principal.party is not None else "")
    status = await anyio.to_thread.run_sync(functools.partial(app.regions.status, party=party))
    return JsonResponse(status.as_json())
