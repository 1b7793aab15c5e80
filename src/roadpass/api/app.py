"""The ASGI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from roadpass import __version__
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.features import features
from roadpass.settings import Settings

__all__ = ["create_app"]

STATIC = Path(__file__).parents[1] / "web" / "static"


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
    for feature in features():
        for router in getattr(feature, "api_routers", list)():
            app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for feature in features():
        mount = getattr(feature, "mount_pages", None)
        if mount is not None:
            mount(app)
    return app
