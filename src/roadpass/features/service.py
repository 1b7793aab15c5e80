"""Hooks of the service-record and warranty feature (see :mod:`roadpass.features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "cli", "load_demo", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """Service records, what is due for a VIN, warranty coverage and claims."""
    from roadpass.api.routes import service_records, warranty

    return [service_records.router, warranty.router]


def mount_pages(app: FastAPI) -> None:
    """The repairer's VIN page (``/ui/service``)."""
    from roadpass.web.repairer_pages import mount_repairer_pages

    mount_repairer_pages(app)


def cli(app: typer.Typer) -> None:
    """``service …`` and ``warranty …``."""
    from roadpass.cli.service_records import service_app
    from roadpass.cli.warranty import warranty_app

    app.add_typer(service_app, name="service")
    app.add_typer(warranty_app, name="warranty")


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """Service visits in every market of the demo fleet and warranty claims, some rejected for good reasons."""
    from roadpass.access.demo import DEMO_ACTOR
    from roadpass.aftermarket.service.demo import load_service_demo

    repairers: dict[str, int] = {}
    for party in roadpass.access.parties(role="repairer"):
        repairers.setdefault(party.country, party.id)
    load_service_demo(roadpass.service_records, roadpass.warranty, repairers=repairers, actor=DEMO_ACTOR)
