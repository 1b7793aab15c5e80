"""capture ids from the database: bring PostgreSQL's id sequences of units and links up to the stored rows

Until now capture gave units and links explicit ids (MAX(id) + 1 under the writer lock), so their serial
sequences never moved. Capture now lets the database assign them (``INSERT … ON CONFLICT DO NOTHING
RETURNING`` for units, COPY without the id for links): the sequences must start above the rows already
stored. SQLite assigns a rowid above the largest one by itself: nothing to do there.

Revision ID: 0020
Revises: 0010
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0010"
branch_labels = None
depends_on = None

_TABLES = ("unit", "link")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        # setval(…, false): the next nextval() returns exactly MAX(id) + 1 (1 on an empty table).
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
        )


def downgrade() -> None:
    # Explicit ids (MAX(id) + 1) never read the sequence: a sequence ahead of the rows harms nothing.
    pass
