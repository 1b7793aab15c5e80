"""No endpoint without an explicit access rule: every route of the whole application is in the route table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from access_helpers import api_headers
from roadpass.access.policy import ROUTES, RULES, Op, operation_for, rule_table_markdown
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

# Mounted sub-applications: what they serve and why it needs no rule.
MOUNTS = {"/static": "the web UI's stylesheet, script and htmx: public files shipped in the package"}


def _routes(app: FastAPI) -> Iterator[tuple[str, set[str], Any]]:
    """(path as served, methods, the route the handler sees) for every route, through included routers."""
    try:  # an optional import: the name exists only in FastAPI versions that include routers lazily
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before lazily included routers: app.routes is flat
        for route in app.routes:
            yield getattr(route, "path", ""), set(getattr(route, "methods", None) or ()), route
        return
    for context in iter_route_contexts(app.routes):
        yield context.path or "", set(context.methods or ()), context.original_route


def test_every_route_has_a_rule(sqlite_app: Roadpass) -> None:
    app = create_app(roadpass=sqlite_app)
    unclassified: list[str] = []
    seen = 0
    for path, methods, route in _routes(app):
        if isinstance(route, Mount):
            assert route.path in MOUNTS, f"mounted {route.path} has no access rule"
            continue
        assert isinstance(route, APIRoute | Route | APIWebSocketRoute), route
        if isinstance(route, APIWebSocketRoute):
            methods = {"GET"}  # a WebSocket handshake is a GET (authorise classifies it so)
        # The access layer classifies by the path of the route the handler sees: it must be the served path.
        assert route.path == path, f"{path} is served as {route.path}: include routers without a prefix"
        for method in sorted(methods):
            seen += 1
            if operation_for(method, path) is None:
                unclassified.append(f"{method} {path}")
    assert seen > 30
    assert not unclassified, "add these endpoints to roadpass.access.policy.ROUTES:\n" + "\n".join(unclassified)


def test_every_operation_has_a_rule_for_every_role() -> None:
    assert set(RULES) == set(Op)
    for op, row in RULES.items():
        assert len(row) == 10, op


def test_an_unclassified_endpoint_is_refused(sqlite_app: Roadpass) -> None:
    app = create_app(roadpass=sqlite_app)

    @app.get("/not-in-the-table")
    def _secret() -> dict[str, str]:
        return {"secret": "yes"}

    with TestClient(app) as client:
        response = client.get("/not-in-the-table", headers=api_headers(sqlite_app, "manufacturer"))
    assert response.status_code == 403
    assert "secret" not in response.text
    assert ("GET", "/not-in-the-table") not in ROUTES


def test_the_readme_shows_the_rule_table_in_force() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert rule_table_markdown() in readme, "paste roadpass.access.policy.rule_table_markdown() into README.md"
