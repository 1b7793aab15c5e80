"""Hooks of the access feature (see :mod:`roadpass.features`): sign-in, parties, users, keys, shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from roadpass.access.demo import ensure_demo_access

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "before_serve", "cli", "load_demo", "mount_pages"]

# Each front-end hook imports its front end when called, so that the CLI does not load the web stack
# (FastAPI, Jinja2) and the API does not load typer at start-up.


def api_routers() -> list[APIRouter]:
    """Sessions, parties, users, API keys and shares."""
    from roadpass.api.routes import access  # the API stack loads only when the API is built

    return [access.router]


def mount_pages(app: FastAPI) -> None:
    """Sign-in, account, job progress, capture upload, demo generation."""
    # The web stack (Jinja2 templates) loads only when the pages are mounted.
    from roadpass.web.access_pages import router
    from roadpass.web.ops_pages import mount_ops_pages

    app.include_router(router)
    mount_ops_pages(app)


def cli(app: typer.Typer) -> None:
    """``parties …``, ``users …``, ``keys …``, ``shares …``."""
    from roadpass.cli.access import register  # typer and rich load only for the CLI

    register(app)


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """Demo users for several roles with known passwords, an authority's mandate, a carmaker's shares
    (development databases only)."""
    ensure_demo_access(roadpass.admin, environment=roadpass.settings.environment)


def before_serve(roadpass: Roadpass) -> list[str]:
    """Lines ``roadpass serve`` prints: the demo sign-ins (development only)."""
    ready = ensure_demo_access(roadpass.admin, environment=roadpass.settings.environment)
    if not ready:
        return []
    lines = ["Demo sign-ins (development only):"]
    lines += [f"  {d.role:<12} {d.email:<30} {d.password:<20} {d.what}" for d in ready]
    return lines
