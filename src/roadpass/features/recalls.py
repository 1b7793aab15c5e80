"""Hooks of the recall campaigns feature (see :mod:`roadpass.features`).

Each hook imports its front end when called: the CLI never loads FastAPI, the server never loads typer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "cli", "load_demo", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """Campaigns, completion, notices, open recalls per vehicle or unit, authority reports."""
    from roadpass.api.routes import recalls  # keeps FastAPI off the CLI's start-up path

    return [recalls.router]


def mount_pages(app: FastAPI) -> None:
    """The carmaker's campaign page: vehicles by market, completion curve, overdue markets."""
    from roadpass.web.recall_pages import mount_recall_pages  # keeps FastAPI off the CLI's start-up path

    mount_recall_pages(app)


def cli(app: typer.Typer) -> None:
    """``recall …``."""
    from roadpass.cli.recalls import recall_app  # keeps typer and rich off the server's start-up path

    app.add_typer(recall_app, name="recall")


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """A recall on the cell lot in most vehicles, remedied in part across markets (after the service demo)."""
    from roadpass.aftermarket.recalls.demo import load_recall_demo

    load_recall_demo(roadpass.recalls, roadpass.service_records)
