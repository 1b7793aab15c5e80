"""Federation persistence: the :class:`roadpass.regions.recall_relay.RelayRecords` of one transaction — the
outbox of recall campaigns relayed to peer regions and their completion reports (no decisions here)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError

from roadpass.regions.recall_relay import RelayRow
from roadpass.store.federation_tables import federated_recall as _R
from roadpass.store.regions import SqlRegionRecords

__all__ = ["SqlFederationRecords"]


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _row(r: Row[Any]) -> RelayRow:
    return RelayRow(campaign_key=r.campaign_key, peer=r.peer, region=r.region, definition=orjson.loads(r.definition),
                    state=r.state, attempts=r.attempts, created_at=r.created_at, last_error=r.last_error,
                    delivered_at=r.delivered_at, report=None if r.report is None else orjson.loads(r.report),
                    reported_at=r.reported_at, id=r.id)


class SqlFederationRecords(SqlRegionRecords):
    """The relay outbox on one connection, beside the transfers."""

    def insert_relay(self, row: RelayRow) -> int | None:
        """Store a relay row; its id, or None when the campaign is relayed to that peer already."""
        found = self.conn.execute(select(_R.c.id).where(_R.c.campaign_key == row.campaign_key,
                                                        _R.c.peer == row.peer)).scalar()
        if found is not None:
            return None
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(_R.insert().values(
                    campaign_key=row.campaign_key, peer=row.peer, region=row.region,
                    definition=_dumps(row.definition), state=row.state, attempts=row.attempts,
                    created_at=row.created_at))
        except IntegrityError:  # relayed at the same moment by another process
            return None
        key = result.inserted_primary_key
        return None if key is None else int(key[0])

    def relays(self, *, campaign_key: str | None = None, state: str | None = None) -> list[RelayRow]:
        """The relay rows (of one campaign, in one state, unless None), oldest first."""
        query = select(_R).order_by(_R.c.id)
        if campaign_key is not None:
            query = query.where(_R.c.campaign_key == campaign_key)
        if state is not None:
            query = query.where(_R.c.state == state)
        return [_row(r) for r in self.conn.execute(query)]

    def relayed_campaigns(self) -> set[str]:
        """The campaign keys relayed to any peer (an index-only scan, no row decoded)."""
        return {str(key) for key in self.conn.execute(select(_R.c.campaign_key).distinct()).scalars()}

    def mark_delivered(self, row_id: int, at: int) -> None:
        """The peer has the campaign."""
        self.conn.execute(_R.update().where(_R.c.id == row_id).values(state="delivered", delivered_at=at,
                                                                      last_error=None))

    def mark_failed(self, row_id: int, error: str) -> None:
        """A delivery attempt failed: count it, keep the error."""
        self.conn.execute(_R.update().where(_R.c.id == row_id).values(attempts=_R.c.attempts + 1,
                                                                      last_error=error[:2000]))

    def save_report(self, row_id: int, report: dict[str, Any], at: int) -> None:
        """The completion counts the peer's region reported."""
        self.conn.execute(_R.update().where(_R.c.id == row_id).values(report=_dumps(report), reported_at=at))
