"""Hooks of the GS1 Digital Link resolver feature (see :mod:`roadpass.features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass
    from roadpass.features import FrontDoor

__all__ = ["api_front_doors", "api_routers", "before_serve", "cli", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """Digital Link URIs on the node's own host and ``/.well-known/gs1resolver``."""
    from roadpass.api.routes.resolver import resolver_router  # the web stack stays off the CLI's start-up

    return [resolver_router()]


def api_front_doors(roadpass: Roadpass, app: FastAPI) -> list[FrontDoor]:
    """Anonymous scans answered from the resolver's cache (the QR-scan hot path)."""
    from roadpass.api.routes.resolver import ResolverDoor

    return [ResolverDoor(roadpass, app)]


def mount_pages(app: FastAPI) -> None:
    """The item page (product, lot, unit, location) and the vehicle page a scan lands on."""
    from roadpass.web.resolver_pages import mount_resolver_pages

    mount_resolver_pages(app)


def cli(app: typer.Typer) -> None:
    """``resolve URI [--linkset]``."""
    from roadpass.cli.resolver import resolve_command

    app.command("resolve")(resolve_command)


def before_serve(roadpass: Roadpass) -> list[str]:
    """Say which resolver root the passports' QR codes carry."""
    settings = roadpass.settings
    if settings.resolver_base:
        return [f"GS1 resolver: QR codes resolve to {settings.resolver_base} (ROADPASS_RESOLVER_BASE)"]
    return [f"GS1 resolver: QR codes resolve to {settings.resolver_root}; set ROADPASS_RESOLVER_BASE to this "
            "node's public address before printing codes for the field"]
