"""The features roadpass is made of, and the hooks each offers to the front ends.

The hook modules live here, on the adapter side, beside ``api/``, ``cli/`` and ``web/``: they name the
routers, pages and commands a feature brings, so that no domain package ever imports a front end.

Built-in features plug in the way an extension would (the datasette pattern): a feature module may
define any of

* ``api_routers() -> list[APIRouter]`` — REST endpoints;
* ``api_front_doors(roadpass, app) -> list[FrontDoor]`` — answers for the hottest anonymous reads, tried
  before the framework's layers (a door answers and returns True, or returns False and lets it pass);
* ``mount_pages(app: FastAPI) -> None`` — web UI pages;
* ``cli(app: typer.Typer) -> None`` — command groups;
* ``load_demo(roadpass: Roadpass, vehicles: int) -> None`` — demo data, run after the fleet is captured;
* ``before_serve(roadpass: Roadpass) -> list[str]`` — prepare for serving; lines ``roadpass serve`` prints.

The API, CLI and web UI iterate over :data:`FEATURES` instead of naming features themselves.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, MutableMapping
from types import ModuleType
from typing import Any

__all__ = ["FEATURES", "FrontDoor", "features"]

#: ``await door(scope, send)``: True when the door answered the HTTP request itself.
FrontDoor = Callable[[MutableMapping[str, Any], Callable[[MutableMapping[str, Any]], Awaitable[None]]], Awaitable[bool]]

FEATURES: tuple[str, ...] = (
    "roadpass.features.trace",
    "roadpass.features.ledger",
    "roadpass.features.passport",
    "roadpass.features.aas",
    "roadpass.features.compliance",
    "roadpass.features.access",
    "roadpass.features.resolver",
    "roadpass.features.repair_network",
    "roadpass.features.telematics",
    "roadpass.features.software_updates",
    "roadpass.features.service",
    "roadpass.features.recalls",
    "roadpass.features.regions",
    "roadpass.features.partitions",
)


def features() -> list[ModuleType]:
    """The feature modules, imported on demand (never at import time of roadpass itself)."""
    return [importlib.import_module(name) for name in FEATURES]
