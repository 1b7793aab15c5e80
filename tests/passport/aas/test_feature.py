"""The AAS feature's hooks: its router, its front door, and what ``roadpass serve`` prints."""

from __future__ import annotations

from fastapi import FastAPI

from roadpass.api.routes.aas import PublicSubmodelReads
from roadpass.bootstrap import Roadpass
from roadpass.features import FEATURES, aas


def test_hooks(sqlite_app: Roadpass) -> None:
    assert "roadpass.features.aas" in FEATURES
    paths = {getattr(r, "path", "") for router in aas.api_routers() for r in router.routes}
    assert {"/shells", "/shells/{aas_identifier}", "/submodels", "/submodels/{submodel_identifier}",
            "/submodels/{submodel_identifier}/$value", "/passports/{passport_id}/aas/product-condition"} <= paths
    (line,) = aas.before_serve(sqlite_app)
    assert "1, 2, 3, 4, 5, 6, 7" in line


    doors = aas.api_front_doors(sqlite_app, FastAPI())
    assert len(doors) == 1 and isinstance(doors[0], PublicSubmodelReads)
