"""The ledger over REST: recent entries and chain verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse
from roadpass.ledger.views import entry_json, report_json

__all__ = ["router"]

router = APIRouter(prefix="/ledger", tags=["Ledger"])


@router.get("", summary="Recent ledger entries, newest first.")
def recent(
    app: AppDep,
    access: AccessDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    actor: str | None = None,
    subject: str | None = None,
) -> Response:
    """Recent entries, optionally for one actor or subject value (a party reads its own actors' entries)."""
    own = access.actor_prefixes
    if own is None:
        return JsonResponse([entry_json(e) for e in app.ledger.recent(limit=limit, actor=actor, subject=subject)])
    if actor and not actor.startswith(own):
        return JsonResponse([])
    found = app.ledger.recent(limit=limit, actor=actor, subject=subject, actor_prefix=own[0] if own else "\uffff")
    return JsonResponse([entry_json(e) for e in found])


@router.get("/verify", summary="Walk the hash chain against the stored rows.")
def verify(app: AppDep) -> Response:
    """The verification report; ``firstMismatch`` names the first entry that does not match."""
    return JsonResponse(report_json(app.ledger.verify()))
