"""FastAPI dependencies: the application container, who is calling, and what the policy allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from roadpass.access.model import Caller, Principal
from roadpass.access.ownership import actor_prefix
from roadpass.access.policy import Decision, Effect, Op
from roadpass.api.access import method_of, principal_of, record_denial
from roadpass.bootstrap import Roadpass
from roadpass.trace.query import Visibility

__all__ = ["Access", "AccessDep", "ActorDep", "AppDep", "current_access", "current_actor", "get_app"]


# The dependencies are coroutines on purpose: FastAPI runs a plain function dependency in a worker thread,
# and that hop costs more than the whole look-up.


async def get_app(request: HTTPConnection) -> Roadpass:
    """The wired application (settings, services) held by the ASGI app."""
    app: Roadpass = request.app.state.roadpass
    return app


async def current_actor(request: Request) -> str:
    """Who is calling, for attribution in the ledger (the access layer sets it on the request)."""
    actor = getattr(request.state, "actor", None)
    return str(actor) if actor else "anonymous"


# What a SCOPED decision applies when the principal has no precomputed visibility: nothing is visible.
_NOTHING = Visibility()


@dataclass(slots=True)
class Access:
    """The caller and the policy's decision for this request, with what handlers need to apply it."""

    request: HTTPConnection
    principal: Principal
    decision: Decision

    @property
    def visibility(self) -> Visibility | None:
        """The caller's visibility for a scoped operation; None only when the rule allows every result."""
        if self.decision.effect is Effect.ALLOW and self.decision.allowed:
            return None
        if self.decision.effect is Effect.SCOPED:
            return self.decision.visibility or self.principal.visibility or _NOTHING
        return _NOTHING

    @property
    def actor_prefixes(self) -> tuple[str, ...] | None:
        """The ledger actors of the caller's party for an own-party rule; None only when every actor's is."""
        if self.decision.effect is Effect.ALLOW and self.decision.allowed:
            return None
        party = self.principal.party
        return (actor_prefix(party.key),) if party is not None else ()

    @property
    def party_scope(self) -> int | None:
        """Whose objects an own-party rule lets the caller list: None for every party's, else its party's id
        (-1, matching nothing, without a party)."""
        if self.actor_prefixes is None:
            return None
        return self.principal.party.id if self.principal.party is not None else -1

    @property
    def caller(self) -> Caller:
        """The caller and this request's method and route path (what a service ledgers a denial under)."""
        route = self.request.scope.get("route")
        return Caller(self.principal, method_of(self.request), getattr(route, "path", self.request.url.path))

    def deny(self, decision: Decision, operation: Op | None = None) -> int:
        """Write a per-object denial to the ledger (call from a worker thread); returns its sequence number."""
        return record_denial(self.request, decision, operation.value if operation else None)


async def current_access(request: HTTPConnection) -> Access:
    """The :class:`Access` of this request (set by :func:`roadpass.api.access.authorise`)."""
    decision = getattr(request.state, "decision", None)
    if not isinstance(decision, Decision):
        # The global dependency always runs first; without it, fail closed.
        decision = Decision(False, 403, Effect.DENY, "no decision", "authorisation did not run")
    return Access(request, principal_of(request), decision)


AppDep = Annotated[Roadpass, Depends(get_app)]
ActorDep = Annotated[str, Depends(current_actor)]
AccessDep = Annotated[Access, Depends(current_access)]
