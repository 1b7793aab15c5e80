"""Hooks of the Asset Administration Shell feature (see :mod:`roadpass.features`): battery passports as
IDTA 02035 shells and submodels over the AAS Part 2 API, ``roadpass passport aas`` and the Product
Condition import."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass
    from roadpass.features import FrontDoor

__all__ = ["api_front_doors", "api_routers", "before_serve"]


def api_routers() -> list[APIRouter]:
    """``/shells``, ``/submodels`` (AAS Part 2 V3.0 read subset) and the Product Condition import."""
    from roadpass.api.routes import aas

    return [aas.router]


def api_front_doors(roadpass: Roadpass, app: FastAPI) -> list[FrontDoor]:
    """Anonymous submodel reads straight from the AAS service's remembered bodies."""
    from roadpass.api.routes.aas import PublicSubmodelReads

    return [PublicSubmodelReads(roadpass, app)]


def before_serve(roadpass: Roadpass) -> list[str]:
    """Read the IDTA 02035 templates and the mapping once (a missing template fails here, not on a read)."""
    from roadpass.passport.aas.templates import submodel_templates

    parts = submodel_templates()
    return [f"AAS: IDTA 02035 parts {', '.join(str(t.part) for t in parts)} at /shells and /submodels"]
