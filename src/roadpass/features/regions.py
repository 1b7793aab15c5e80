"""Hooks of the regional nodes feature (see :mod:`roadpass.features`): ``GET /nodes``, ``nodes status`` and
``residency audit``, and the line ``roadpass serve`` prints about this node's region."""

from __future__ import annotations

import atexit
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from fastapi import APIRouter

    from roadpass.bootstrap import Roadpass

__all__ = ["api_routers", "before_serve", "cli"]


def api_routers() -> list[APIRouter]:
    """``GET /nodes``, the federated where-used (``/federation/…``) and the aggregates (``/nodes/aggregates``)."""
    from roadpass.api.routes import federation, federation_health, nodes, region_aggregates

    return [nodes.router, federation.router, region_aggregates.router, federation_health.router]


def cli(app: typer.Typer) -> None:
    """``nodes …`` (status, demo) and ``residency …``."""
    from roadpass.cli.federation import add_federation_commands
    from roadpass.cli.nodes_demo import add_demo_command
    from roadpass.cli.regions import nodes_app, residency_app

    add_demo_command(nodes_app)
    add_federation_commands(nodes_app)
    app.add_typer(nodes_app, name="nodes")
    app.add_typer(residency_app, name="residency")


def before_serve(roadpass: Roadpass) -> list[str]:
    """Say which region this node is in and who its peers are; with peers, start the relay worker (recall
    relay and aggregates rounds, regions/relay_worker.py), stopped at exit."""
    regions = roadpass.regions
    if regions.region is None:
        return ["Regional nodes: no region set (ROADPASS_REGION): subscriptions are not projected at borders"]
    peers = ", ".join(f"{p.node} ({p.region})" for p in regions.peers) or "none"
    lines = [f"Regional node {regions.node_id} in {regions.region}, transfer policy {regions.policy().version}; "
             f"peers: {peers}"]
    if regions.peers and roadpass.relay_worker.start():
        atexit.register(roadpass.relay_worker.stop)
        lines.append(f"Relay worker: {', '.join(roadpass.relay_worker.names)} every "
                     f"{roadpass.relay_worker.interval:g} s")
    return lines
