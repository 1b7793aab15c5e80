"""The features roadpass is made of, and the hooks each offers to the front ends.

Built-in features plug in the way an extension would (the datasette pattern): a feature module may
define any of

* ``api_routers() -> list[APIRouter]`` — REST endpoints;
* ``mount_pages(app: FastAPI) -> None`` — web UI pages;
* ``cli(app: typer.Typer) -> None`` — command groups;
* ``load_demo(roadpass: Roadpass, vehicles: int) -> None`` — demo data, run after the fleet is captured;
* ``before_serve(roadpass: Roadpass) -> list[str]`` — prepare for serving; lines ``roadpass serve`` prints.

The API, CLI and web UI iterate over :data:`FEATURES` instead of naming features themselves.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["FEATURES", "features"]

FEATURES: tuple[str, ...] = (
    "roadpass.trace.feature",
    "roadpass.ledger.feature",
    "roadpass.passport.feature",
    "roadpass.compliance.feature",
    "roadpass.access.feature",
)


def features() -> list[ModuleType]:
    """The feature modules, imported on demand (never at import time of roadpass itself)."""
    return [importlib.import_module(name) for name in FEATURES]
