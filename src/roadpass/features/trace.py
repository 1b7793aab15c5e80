"""Hooks of the traceability feature (see :mod:`roadpass.features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

__all__ = ["api_routers", "cli", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """EPCIS 2.0 REST bindings and genealogy endpoints."""
    # the web stack stays off the CLI's start-up
    from roadpass.api.routes import epcis, epcis_resources, master_data, queries, subscriptions, trace

    return [epcis.router, epcis_resources.router, trace.router, master_data.router, queries.router,
            subscriptions.router]


def mount_pages(app: FastAPI) -> None:
    """Trace explorer and where-used pages."""
    from roadpass.web.routes import mount_web  # the web stack stays off the CLI's start-up

    mount_web(app)


def cli(app: typer.Typer) -> None:
    """``capture``, ``events``, ``epcis …``, ``trace …``, ``queries …``."""
    # typer and rich stay off the API server's start-up.
    from roadpass.cli.epcis import capture_command, epcis_app, events_command
    from roadpass.cli.master_data import masterdata_app
    from roadpass.cli.queries import queries_app
    from roadpass.cli.subscriptions import subscriptions_app
    from roadpass.cli.trace import trace_app

    app.add_typer(epcis_app, name="epcis")
    app.add_typer(trace_app, name="trace")
    app.add_typer(masterdata_app, name="masterdata")
    app.add_typer(queries_app, name="queries")
    app.add_typer(subscriptions_app, name="subscriptions")
    app.command("capture")(capture_command)
    app.command("events")(events_command)
