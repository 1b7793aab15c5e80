"""Schema migrations with Alembic, run at start-up and checked in the test suite."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from roadpass.store.partitions import comparison_filter, forget_layout
from roadpass.store.tables import metadata

__all__ = ["alembic_config", "pending_changes", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Any = None) -> Config:
    """An Alembic config pointing at roadpass's migrations, optionally bound to a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the database at ``engine`` up to ``revision``."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)
    forget_layout(engine)


def pending_changes(engine: Engine) -> list[Any]:
    """Differences between the migrated database and the table definitions (empty when in step)."""
    with engine.connect() as conn:
        # A partitioned event table (PostgreSQL) differs from the definitions by design: see store/partitions.py.
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": comparison_filter(conn)})
        return list(compare_metadata(context, metadata))
