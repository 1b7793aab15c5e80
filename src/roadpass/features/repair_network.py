"""Hooks of the repair network feature (see :mod:`roadpass.features`): repairers and SERMI-style
security-related access, and the genuine parts check."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "cli", "load_demo", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """``/repairers``, ``/authorisations``, ``/rmi``, ``/security-access`` and ``/parts``."""
    from roadpass.api.routes import parts, repairers

    return [repairers.router, parts.router]


def mount_pages(app: FastAPI) -> None:
    """The repair network page and the parts check page (opened from a scan)."""
    from roadpass.web.aftermarket_network_pages import mount_aftermarket_network_pages

    mount_aftermarket_network_pages(app)


def cli(app: typer.Typer) -> None:
    """``repairers …``, ``security-access …`` and ``parts …``."""
    from roadpass.cli.parts import parts_app
    from roadpass.cli.repairers import access_app, repairers_app

    app.add_typer(repairers_app, name="repairers")
    app.add_typer(access_app, name="security-access")
    app.add_typer(parts_app, name="parts")


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """A repair network in DE, SA and MX, an independent operator with authorised and revoked people, a few
    security-related accesses (granted and refused), parts checks and a stolen part."""
    from roadpass.aftermarket.network.demo import load_network_demo

    load_network_demo(roadpass.repair_network, roadpass.parts, roadpass.trace)
