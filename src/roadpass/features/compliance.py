"""Hooks of the compliance feature (see :mod:`roadpass.features`).

Each hook imports its front end when called: the CLI then never loads FastAPI and the API server never
loads typer and rich (start-up path of both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from roadpass.compliance.demo import load_compliance_demo

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "cli", "load_demo", "mount_pages"]


def api_routers() -> list[APIRouter]:
    """Packs, products, evidence, assessments, plans, decisions, OSCAL and CISO Assistant exports."""
    from roadpass.api.routes import compliance  # keeps FastAPI off the CLI's start-up path

    return [compliance.router]


def mount_pages(app: FastAPI) -> None:
    """The products × markets heat map and the gap lists behind it."""
    from roadpass.web.compliance_pages import mount_compliance_pages  # keeps FastAPI off the CLI's start-up path

    mount_compliance_pages(app)


def cli(app: typer.Typer) -> None:
    """``compliance …``, ``product …``, ``evidence …``, ``sbom …``."""
    # Keeps typer and rich off the API server's start-up path.
    from roadpass.cli.compliance import compliance_app, evidence_app, product_app, sbom_app

    app.add_typer(compliance_app, name="compliance")
    app.add_typer(product_app, name="product")
    app.add_typer(evidence_app, name="evidence")
    app.add_typer(sbom_app, name="sbom")


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """Demo products (an EV, its battery, a cockpit and connectivity unit with an SBOM, a charger),
    their evidence, and two assessment runs so that diff has something to show."""
    load_compliance_demo(roadpass.compliance)
