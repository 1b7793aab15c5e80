"""Hooks of the access feature (see :mod:`roadpass.features`): sign-in, parties, users, keys, shares."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "before_serve", "cli", "load_demo", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """Sessions, parties, users, API keys and shares."""
    from roadpass.api.routes import access

    return [access.router]


def mount_pages(app: FastAPI) -> None:
    """Sign-in, account, job progress, capture upload, demo generation."""
    from roadpass.web.access_pages import mount_access_pages
    from roadpass.web.ops_pages import mount_ops_pages

    mount_access_pages(app)
    mount_ops_pages(app)


def cli(app: typer.Typer) -> None:
    """``parties …``, ``users …``, ``keys …``, ``shares …``."""
    from roadpass.cli.access import register

    register(app)


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """Demo users for several roles with known passwords, an authority's mandate, a carmaker's shares
    (development databases only)."""
    from roadpass.access.demo import ensure_demo_access

    ensure_demo_access(roadpass)


def before_serve(roadpass: Roadpass) -> list[str]:
    """Lines ``roadpass serve`` prints: the demo sign-ins (development only)."""
    from roadpass.access.demo import ensure_demo_access

    ready = ensure_demo_access(roadpass)
    if not ready:
        return []
    lines = ["Demo sign-ins (development only):"]
    lines += [f"  {d.role:<12} {d.email:<30} {d.password:<20} {d.what}" for d in ready[:3]]
    lines += [f"  {d.role:<12} {d.email:<30} {d.password:<20} {d.what}" for d in ready[3:]]
    return lines
