"""The ASGI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from roadpass import __version__
from roadpass.api.access import AccessMiddleware, Denied, authorise
from roadpass.api.responses import problem
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.features import FrontDoor, features
from roadpass.settings import Settings
from roadpass.web.routes import templates

__all__ = ["RoadpassAPI", "create_app", "create_app_from_environment", "prepare_to_serve"]

STATIC = Path(__file__).parents[1] / "web" / "static"


async def _denied(request: Request, exc: Exception) -> Response:
    """401 / 403 / 404 for a denied request: problem JSON for the API, a page (or sign-in) for the web UI."""
    assert isinstance(exc, Denied)
    decision = exc.decision
    if exc.page:
        if decision.status == 401:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/signin?next={quote(target, safe='')}", status_code=303)
        return templates.TemplateResponse(
            request, "denied.html", {"decision": decision}, status_code=decision.status
        )
    if decision.status == 401:
        response = problem(401, decision.reason)
        response.headers["WWW-Authenticate"] = 'Bearer realm="roadpass"'
        return response
    if decision.status == 404:
        return problem(404, "not found")
    return problem(403, decision.reason, rule=decision.rule)


def _declare_security(app: FastAPI) -> None:
    """Say in the OpenAPI document how callers authenticate (the middleware does it; declaring it as a
    per-route dependency would cost every request a dependency resolution)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {})["securitySchemes"] = {
                "apiKey": {"type": "http", "scheme": "bearer",
                           "description": "An API key: `Authorization: Bearer rpk_…` (`roadpass keys create`)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "rp_session",
                            "description": "The web UI's session (writes also need the X-CSRF-Token header)."},
            }
            # Either credential, or none for the public operations (the access policy says which).
            schema["security"] = [{"apiKey": []}, {"session": []}, {}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class RoadpassAPI(FastAPI):
    """The FastAPI application with front doors: the features' answers for their hottest anonymous reads,
    tried before the framework's layers (see :data:`roadpass.features.FrontDoor`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.front_doors: list[FrontDoor] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for door in self.front_doors:
                if await door(scope, send):
                    return
        await super().__call__(scope, receive, send)


def prepare_to_serve() -> None:
    """Call in a server process once the application is built: what is loaded by then lives as long as
    the process, so keep it out of the garbage collector's full passes (they would walk it again and
    again and show up as tail latency)."""
    gc.collect()
    gc.freeze()


def create_app_from_environment() -> FastAPI:
    """The application as a server process's factory (``roadpass serve --workers``): each process reads
    ``ROADPASS_*`` and builds its own."""
    settings = Settings()
    # With a delivery worker process of its own (started by `roadpass serve`), server processes deliver nothing.
    app = create_app(settings, deliver=settings.delivery_worker == "thread")
    prepare_to_serve()
    return app


def create_app(
    settings: Settings | None = None, *, roadpass: Roadpass | None = None, deliver: bool = True
) -> FastAPI:
    """Build the API (and web UI) around a wired :class:`Roadpass`; nothing connects until it is built.
    ``deliver``: run the webhook delivery worker in this process while serving (False when a delivery
    worker process of its own does it)."""
    container = roadpass or bootstrap(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if deliver:
            container.subscriptions.start()  # webhook delivery while serving, resumed from the outbox
        yield
        container.subscriptions.close()
        if roadpass is None:
            container.close()

    app = RoadpassAPI(
        title="roadpass",
        version=__version__,
        summary="EPCIS 2.0 repository with as-built genealogy, recalls and a tamper-evident ledger.",
        lifespan=lifespan,
        # Every route, API and page, passes the one policy check (roadpass.access.policy) first.
        dependencies=[Depends(authorise)],
    )
    app.state.roadpass = container
    _declare_security(app)
    app.add_exception_handler(Denied, _denied)
    app.add_middleware(AccessMiddleware, roadpass=container)
    for feature in features():
        doors = getattr(feature, "api_front_doors", None)
        if doors is not None:
            app.front_doors.extend(doors(container, app))
        for router in getattr(feature, "api_routers", list)():
            app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for feature in features():
        mount = getattr(feature, "mount_pages", None)
        if mount is not None:
            mount(app)
    return app
