"""Hooks of the battery passport feature (see :mod:`roadpass.features`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass
    from roadpass.features import FrontDoor

__all__ = ["api_front_doors", "api_routers", "cli", "fleet_company_prefixes", "load_demo", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """Passports by access level, QR codes, consortium import/export, producer-responsibility reports."""
    from roadpass.api.routes import passports

    return [passports.router]


def api_front_doors(roadpass: Roadpass, app: FastAPI) -> list[FrontDoor]:
    """Anonymous passport reads straight from the rendered-view cache (the QR-scan hot path)."""
    from roadpass.api.routes.passports import PublicPassportReads

    return [PublicPassportReads(roadpass, app)]


def mount_pages(app: FastAPI) -> None:
    """The public passport page (phone-first) and the passport list."""
    from roadpass.web.passport_pages import mount_passport_pages

    mount_passport_pages(app)


def cli(app: typer.Typer) -> None:
    """``passport …`` and ``epr …``."""
    from roadpass.cli.passport import epr_app, passport_app

    app.add_typer(passport_app, name="passport")
    app.add_typer(epr_app, name="epr")


def fleet_company_prefixes() -> dict[str, str]:
    """``{GLN: GS1 company prefix}`` of the demo fleet's sites' parties."""
    from roadpass.demo.fleet_world import World

    return {site.gln: site.party.gcp for site in World().sites.values()}


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """Passports for the demo fleet's packs, state-of-health readings, collection and recycling."""
    from roadpass.passport.demo import load_passport_demo

    load_passport_demo(roadpass.passports, roadpass.epr, roadpass.trace, company_prefixes=fleet_company_prefixes())
