"""FastAPI dependencies: the application container and who is calling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from roadpass.bootstrap import Roadpass

__all__ = ["ActorDep", "AppDep", "current_actor", "get_app"]


def get_app(request: Request) -> Roadpass:
    """The wired application (settings, services) held by the ASGI app."""
    app: Roadpass = request.app.state.roadpass
    return app


def current_actor(request: Request) -> str:
    """Who is calling, for attribution in the ledger (the access layer sets it on the request)."""
    actor = getattr(request.state, "actor", None)
    return str(actor) if actor else "anonymous"


AppDep = Annotated[Roadpass, Depends(get_app)]
ActorDep = Annotated[str, Depends(current_actor)]
