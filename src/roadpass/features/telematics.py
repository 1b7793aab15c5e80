"""Hooks of the telematics feature (see :mod:`roadpass.features`): VSS over MQTT through roadpass's own
Mosquitto, units' broker credentials, signal series."""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from roadpass.bootstrap import Roadpass
    from roadpass.broker.edge import TelematicsEdge

__all__ = ["api_routers", "before_serve", "cli", "start_edge"]


def api_routers() -> list[APIRouter]:
    """``/telematics/status``, ``/telematics/units/{unit}/credentials``, ``/telematics/series``."""
    from roadpass.api.routes import telematics

    return [telematics.router]


def cli(app: typer.Typer) -> None:
    """``telematics status`` and ``telematics credentials create|revoke|list``."""
    from roadpass.cli.telematics import telematics_app

    app.add_typer(telematics_app, name="telematics")


def start_edge(roadpass: Roadpass) -> TelematicsEdge:
    """Start Mosquitto and the ingester for ``roadpass`` (its settings' host, port and folder)."""
    from roadpass.broker.accounts import broker_directory
    from roadpass.broker.edge import TelematicsEdge

    settings = roadpass.settings
    edge = TelematicsEdge(roadpass.telematics, roadpass.telematics_ingest, broker_directory(settings.telematics_dir),
                          host=settings.mqtt_host, port=settings.mqtt_port)
    edge.start()
    return edge


def before_serve(roadpass: Roadpass) -> list[str]:
    """Start the broker and the ingester beside the server (ROADPASS_TELEMATICS_BROKER); stopped at exit."""
    from roadpass.broker.runner import BrokerUnavailable

    settings = roadpass.settings
    if not settings.telematics_broker:
        return ["telematics: broker off (ROADPASS_TELEMATICS_BROKER=false)"]
    try:
        edge = start_edge(roadpass)
    except BrokerUnavailable as exc:
        return [f"telematics: broker not started: {exc}"]
    atexit.register(edge.stop)
    from roadpass.cli.telematics_fleet import start_background_simulation  # demo fleet drives (make run)

    return [f"telematics: Mosquitto on mqtt://{settings.mqtt_host}:{settings.mqtt_port}, units publish VSS to "
            "roadpass/units/{unit}/vss (docs/telematics.md)", start_background_simulation(roadpass)]
