"""Health relay persistence: the :class:`roadpass.regions.health_relay.HealthRelayRecords` of one transaction —
the outbox of pack health summaries, the summaries received, and (inherited) transfers and the ledger (no
decisions here)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError

from roadpass.regions.health_relay import DELIVERED, REFUSED, OutboxRow, ReceivedRow
from roadpass.store.health_relay_tables import region_health_outbox as _O
from roadpass.store.health_relay_tables import region_health_received as _R
from roadpass.store.regions import SqlRegionRecords

__all__ = ["SqlHealthRelayRecords"]


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _outbox(r: Row[Any]) -> OutboxRow:
    return OutboxRow(peer=r.peer, region=r.region, battery_id=r.battery_id, sequence=r.sequence,
                     summary_id=r.summary_id, summary=orjson.loads(r.summary), state=r.state, attempts=r.attempts,
                     transfer_id=r.transfer_id, created_at=r.created_at, last_error=r.last_error,
                     delivered_at=r.delivered_at, id=r.id)


class SqlHealthRelayRecords(SqlRegionRecords):
    """The outbox and the received summaries on one connection, beside the transfers."""

    def next_sequence(self, peer: str, battery_id: str) -> int:
        """The number the next summary of ``battery_id`` for ``peer`` gets (1 for the first)."""
        found = self.conn.execute(select(func.max(_O.c.sequence)).where(
            _O.c.peer == peer, _O.c.battery_id == battery_id)).scalar()
        return int(found or 0) + 1

    def insert_outbox(self, row: OutboxRow) -> int:
        """Store an outbox row; its id."""
        result = self.conn.execute(_O.insert().values(
            peer=row.peer, region=row.region, battery_id=row.battery_id, sequence=row.sequence,
            summary_id=row.summary_id, summary=_dumps(row.summary), state=row.state, attempts=row.attempts,
            transfer_id=row.transfer_id, created_at=row.created_at))
        key = result.inserted_primary_key
        if key is None:  # pragma: no cover - an insert of one row always has its key
            raise LookupError("outbox row not stored")
        return int(key[0])

    def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Outbox rows (in one state, unless None), oldest first."""
        query = select(_O).order_by(_O.c.id).limit(limit)
        if state is not None:
            query = query.where(_O.c.state == state)
        return [_outbox(r) for r in self.conn.execute(query)]

    def mark_delivered(self, row_id: int, at: int) -> None:
        """The peer has the summary."""
        self.conn.execute(_O.update().where(_O.c.id == row_id).values(state=DELIVERED, delivered_at=at))

    def mark_failed(self, row_id: int, error: str, *, refused: bool) -> None:
        """A delivery attempt failed: count it and keep the error; ``refused``: for good."""
        values: dict[str, Any] = {"attempts": _O.c.attempts + 1, "last_error": error[:2000]}
        if refused:
            values["state"] = REFUSED
        self.conn.execute(_O.update().where(_O.c.id == row_id).values(**values))

    def received(self, summary_id: str) -> ReceivedRow | None:
        """The summary received under this id, if any."""
        r = self.conn.execute(select(_R).where(_R.c.summary_id == summary_id)).first()
        if r is None:
            return None
        return ReceivedRow(r.origin_node, r.origin_region, r.battery_id, r.sequence, r.summary_id,
                           orjson.loads(r.summary), r.passport_id, r.received_at, r.id)

    def last_sequence(self, origin_node: str, battery_id: str) -> int:
        """The highest sequence received from ``origin_node`` for ``battery_id`` (0 when none)."""
        found = self.conn.execute(select(func.max(_R.c.sequence)).where(
            _R.c.origin_node == origin_node, _R.c.battery_id == battery_id)).scalar()
        return int(found or 0)

    def insert_received(self, row: ReceivedRow) -> int | None:
        """Store a received summary; its id, or None when it (or its sequence) is stored already."""
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(_R.insert().values(
                    origin_node=row.origin_node, origin_region=row.origin_region, battery_id=row.battery_id,
                    sequence=row.sequence, summary_id=row.summary_id, summary=_dumps(row.summary),
                    passport_id=row.passport_id, received_at=row.received_at))
        except IntegrityError:  # the same summary taken at the same moment by another process
            return None
        key = result.inserted_primary_key
        return None if key is None else int(key[0])
