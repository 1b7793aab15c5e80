"""Hooks of the software-update feature, UN R156 (see :mod:`roadpass.features`).

MQTT reports reach the feature through the telematics ingester, which bootstrap builds with
:meth:`~roadpass.telematics.software.service.SoftwareUpdateService.mqtt_handler` as its software handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter, FastAPI

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "cli", "demo_vehicle_type", "load_demo", "mount_pages"]

#: The demo campaign touches at most this many vehicles (the rest of the fleet still reports its software).
DEMO_CAMPAIGN_VEHICLES = 24


def api_routers() -> list[APIRouter]:
    """Vehicle types, unit reports over HTTP, campaigns and per-vehicle history under ``/software``."""
    from roadpass.api.routes import software_updates

    return [software_updates.router]


def mount_pages(app: FastAPI) -> None:
    """``/ui/software``: campaigns, and each campaign's state per vehicle."""
    from roadpass.web.software_pages import mount_software_pages

    mount_software_pages(app)


def cli(app: typer.Typer) -> None:
    """``updates …``."""
    from roadpass.cli.software_updates import updates_app

    app.add_typer(updates_app, name="updates")


def demo_vehicle_type() -> dict[str, Any]:
    """The demo fleet's model as a vehicle type: each variant by its VIN (WMI, then the VDS positions the fleet
    generator writes: line, body, variant digit, restraint, drive), linked to the compliance demo's file."""
    from roadpass.demo.fleet_world import World

    world = World()
    m = world.model
    stem = f"{world.wmi}{m['line']}{m['body']}"
    variants = {str(v["code"]): f"{stem}{v['vds']}{m['restraint']}{m['drive']}*" for v in world.variants}
    return {"key": "aurora", "name": str(m["name"]), "product_key": "aurora-ev-my27", "variants": variants}


def _fleet_units(roadpass: Roadpass, limit: int) -> list[tuple[str, str]]:
    """(VIN, telematics unit) of the first ``limit`` vehicles assembled, from their assembly events."""
    from roadpass.demo.fleet_world import World
    from roadpass.trace.query import parse_event_query

    tcu = next(p for p in World().parts if p.key == "tcu")
    query = {"EQ_bizStep": ["assembling"], "eventType": ["AggregationEvent"], "perPage": ["1000"]}
    out: list[tuple[str, str]] = []
    params = dict(query)
    while len(out) < limit:
        events, _, token = roadpass.trace.events(parse_event_query(params, max_per_page=1000))
        for event in events:
            parent = str(event.get("parentID", ""))
            units = [c for c in event.get("childEPCs", []) if str(c).startswith(tcu.prefix)]
            if parent.startswith("urn:epc:id:giai:") and units:
                vin = roadpass.trace.resolve(parent).vin
                if vin is not None:
                    out.append((vin, str(units[0])))
        if token is None:
            break
        params = {**query, "nextPageToken": [token.encode()]}
    return out[:limit]


def load_demo(roadpass: Roadpass, vehicles: int) -> None:
    """The demo vehicle type, baseline software reports and a campaign with vehicles in every state."""
    from roadpass.telematics.software.demo import load_software_demo

    fleet = _fleet_units(roadpass, min(vehicles, DEMO_CAMPAIGN_VEHICLES))
    if fleet:
        load_software_demo(roadpass.software_updates, demo_vehicle_type(), fleet)
