"""Hooks of the event table's monthly partitions on PostgreSQL (see :mod:`roadpass.features`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer

    from roadpass.bootstrap import Roadpass

__all__ = ["before_serve", "cli"]


def cli(app: typer.Typer) -> None:
    """``partitions list|create|detach``."""
    from roadpass.cli.partitions import partitions_app  # typer and rich stay off the API server's start-up

    app.add_typer(partitions_app, name="partitions")


def before_serve(roadpass: Roadpass) -> list[str]:
    """Create this month's and the next months' partitions before events of them arrive (PostgreSQL);
    events of a month without one go to the default partition, so capture never fails for want of one."""
    partitions = roadpass.partitions
    if not partitions.available():
        return []
    made = partitions.ensure_ahead(time.time_ns() // 1000)
    return [f"events: partitioned by month; created {len(made)} partition(s) ahead; "
            f"`roadpass partitions create` monthly keeps them ahead"]
