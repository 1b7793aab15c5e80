"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from roadpass import __version__
from roadpass.api.routes import epcis, ledger, trace
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, roadpass: Roadpass | None = None) -> FastAPI:
    """Build the API (and web UI) around a wired :class:`Roadpass`; nothing connects until it is built."""
    container = roadpass or bootstrap(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if roadpass is None:
            container.close()

    app = FastAPI(
        title="roadpass",
        version=__version__,
        summary="EPCIS 2.0 repository with as-built genealogy, recalls and a tamper-evident ledger.",
        lifespan=lifespan,
    )
    app.state.roadpass = container
    app.include_router(epcis.router)
    app.include_router(trace.router)
    app.include_router(ledger.router)
    from roadpass.web.routes import mount_web

    mount_web(app)
    return app
