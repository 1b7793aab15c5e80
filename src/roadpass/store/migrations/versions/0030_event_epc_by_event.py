"""event_epc: find an event's parent from the event (a partial index on event_pk where role = 2, parentID)

``event_epc``'s key is (unit_id, role, event_pk): it finds the events naming a unit, not the units an event
names. Replaying a child's containment (``child_steps``, after an out-of-order fact or an error declaration)
joins each of the child's aggregation events to its parent row in ``event_epc``: SQLite scanned the whole
table once per replayed child (its plan: ``SCAN p``). The index holds only parent rows (one per event with a
parentID), so capture maintains a small index, and only statements naming that role by value use it. On
PostgreSQL the index is built inside the migration's transaction, which holds writes to ``event_epc`` until
it is built.

Revision ID: 0030
Revises: 0010
Create Date: 2026-12-06 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0010"
branch_labels = None
depends_on = None

_PARENT = sa.text("role = 2")  # Role.PARENT (roadpass.trace.epcis.model)


def upgrade() -> None:
    op.create_index(op.f("ix_event_epc_parent"), "event_epc", ["event_pk"], unique=False,
                    sqlite_where=_PARENT, postgresql_where=_PARENT)


def downgrade() -> None:
    op.drop_index(op.f("ix_event_epc_parent"), table_name="event_epc")
