"""Hooks of the ledger feature (see :mod:`roadpass.features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

__all__ = ["api_routers", "cli"]


def api_routers() -> list[APIRouter]:
    """Ledger entries and verification."""
    from roadpass.api.routes import ledger

    return [ledger.router]


def cli(app: typer.Typer) -> None:
    """``ledger verify|show``."""
    from roadpass.cli.ledger import ledger_app

    app.add_typer(ledger_app, name="ledger")
