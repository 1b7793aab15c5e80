"""Hooks of the ledger feature (see :mod:`roadpass.features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

__all__ = ["api_routers", "cli"]


def api_routers() -> list[APIRouter]:
    """Ledger entries and verification."""
    from roadpass.api.routes import ledger  # the web stack stays off the CLI's start-up

    return [ledger.router]


def cli(app: typer.Typer) -> None:
    """``ledger verify|show``."""
    from roadpass.cli.ledger import ledger_app  # typer and rich stay off the API server's start-up

    app.add_typer(ledger_app, name="ledger")
