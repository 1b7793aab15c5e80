"""Aggregates persistence: the :class:`roadpass.regions.aggregates.AggregateRecords` of one transaction — the
outbox of batches to peers, each peer's cursor over the transfer records, and the batches received (no
decisions here)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Row, func, select
from sqlalchemy.exc import IntegrityError

from roadpass.regions.aggregates import DELIVERED, PENDING, OutboxRow, ReceivedRow
from roadpass.regions.ports import TransferRow
from roadpass.store.region_aggregates_tables import region_aggregate_counted as _N
from roadpass.store.region_aggregates_tables import region_aggregate_cursor as _C
from roadpass.store.region_aggregates_tables import region_aggregate_outbox as _O
from roadpass.store.region_aggregates_tables import region_aggregate_received as _R
from roadpass.store.regions import SqlRegionRecords, transfer_row
from roadpass.store.regions_tables import region_transfer as _T

__all__ = ["SqlAggregateRecords"]

_CHUNK = 500  # eventIDs per IN list


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _outbox(r: Row[Any]) -> OutboxRow:
    return OutboxRow(peer=r.peer, region=r.region, body=orjson.loads(r.body), state=r.state, attempts=r.attempts,
                     created_at=r.created_at, first_transfer=r.first_transfer, last_transfer=r.last_transfer,
                     last_error=r.last_error, delivered_at=r.delivered_at, id=r.id)


class SqlAggregateRecords(SqlRegionRecords):
    """The aggregates' outbox, cursors and received batches on one connection, beside the transfers."""

    def transfers_after(self, peer: str, after: int, *, until_at: int, limit: int) -> list[TransferRow]:
        """Transfers to ``peer`` with ids past ``after``, recorded at or before ``until_at``, oldest first."""
        query = (select(_T).where(_T.c.peer == peer, _T.c.id > after, _T.c.at <= until_at)
                 .order_by(_T.c.id).limit(limit))
        return [transfer_row(r) for r in self.conn.execute(query)]

    def cursor(self, peer: str) -> int:
        """The last transfer id to ``peer`` already batched (0: none)."""
        found = self.conn.execute(select(_C.c.batched_to).where(_C.c.peer == peer)).scalar()
        return 0 if found is None else int(found)

    def set_cursor(self, peer: str, after: int) -> None:
        """Every transfer to ``peer`` up to id ``after`` is batched."""
        if self.conn.execute(_C.update().where(_C.c.peer == peer).values(batched_to=after)).rowcount == 0:
            self.conn.execute(_C.insert().values(peer=peer, batched_to=after))

    def counted(self, peer: str, event_ids: Collection[str]) -> set[str]:
        """Those of ``event_ids`` an earlier batch to ``peer`` counted."""
        wanted = sorted(event_ids)
        found: set[str] = set()
        for i in range(0, len(wanted), _CHUNK):
            found.update(self.conn.execute(select(_N.c.event_id).where(
                _N.c.peer == peer, _N.c.event_id.in_(wanted[i:i + _CHUNK]))).scalars())
        return found

    def mark_counted(self, peer: str, event_ids: Collection[str], batch: int) -> None:
        """``event_ids`` are counted by ``batch`` to ``peer``."""
        rows = [{"peer": peer, "event_id": event_id, "batch": batch} for event_id in sorted(event_ids)]
        if rows:
            self.conn.execute(_N.insert(), rows)

    def insert_outbox(self, row: OutboxRow) -> int:
        """Store a batch in the outbox; its id."""
        result = self.conn.execute(_O.insert().values(
            peer=row.peer, region=row.region, body=_dumps(row.body), state=row.state, attempts=row.attempts,
            created_at=row.created_at, first_transfer=row.first_transfer, last_transfer=row.last_transfer))
        key = result.inserted_primary_key
        if key is None:  # pragma: no cover - an insert of one row always has its key
            raise LookupError("outbox row not stored")
        return int(key[0])

    def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Batches in the outbox (in one state, unless None): pending ones oldest first, else newest first."""
        query = select(_O).limit(limit)
        if state is not None:
            query = query.where(_O.c.state == state)
        query = query.order_by(_O.c.id if state == PENDING else _O.c.id.desc())
        return [_outbox(r) for r in self.conn.execute(query)]

    def mark_delivered(self, row_id: int, at: int) -> None:
        """The peer stored the batch."""
        self.conn.execute(_O.update().where(_O.c.id == row_id).values(state=DELIVERED, delivered_at=at,
                                                                      last_error=None))

    def mark_failed(self, row_id: int, error: str) -> None:
        """A delivery attempt failed: count it, keep the error."""
        self.conn.execute(_O.update().where(_O.c.id == row_id).values(attempts=_O.c.attempts + 1,
                                                                      last_error=error[:2000]))

    def insert_received(self, row: ReceivedRow) -> int | None:
        """Store a received batch; its id, or None when that sender's batch is stored already."""
        found = self.conn.execute(select(_R.c.id).where(_R.c.sender == row.sender, _R.c.batch == row.batch)).scalar()
        if found is not None:
            return None
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(_R.insert().values(
                    sender=row.sender, region=row.region, batch=row.batch, body=_dumps(row.body),
                    received_at=row.received_at))
        except IntegrityError:  # the same batch stored at the same moment by another process
            return None
        key = result.inserted_primary_key
        return None if key is None else int(key[0])

    def received(self, *, limit: int = 100) -> list[ReceivedRow]:
        """Batches received, newest first."""
        rows = self.conn.execute(select(_R).order_by(_R.c.id.desc()).limit(limit))
        return [ReceivedRow(sender=r.sender, region=r.region, batch=r.batch, body=orjson.loads(r.body),
                            received_at=r.received_at, id=r.id) for r in rows]

    def totals(self) -> dict[str, dict[str, int]]:
        """Per peer: batches sent (delivered), pending, and received."""
        out: dict[str, dict[str, int]] = {}
        for peer, state, n in self.conn.execute(select(_O.c.peer, _O.c.state, func.count()).group_by(_O.c.peer,
                                                                                                      _O.c.state)):
            entry = out.setdefault(peer, {"sent": 0, "pending": 0, "received": 0})
            entry["sent" if state == DELIVERED else "pending"] += int(n)
        for sender, n in self.conn.execute(select(_R.c.sender, func.count()).group_by(_R.c.sender)):
            out.setdefault(sender, {"sent": 0, "pending": 0, "received": 0})["received"] += int(n)
        return out
