"""Alembic environment: runs against the connection roadpass hands it (see roadpass.store.migrate)."""

from __future__ import annotations

from alembic import context

import roadpass.store.access_tables
import roadpass.store.compliance_tables
import roadpass.store.passport_tables  # noqa: F401
from roadpass.store.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - roadpass always passes its own connection
    raise RuntimeError("run migrations through roadpass.store.migrate")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
