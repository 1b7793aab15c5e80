"""Regions persistence: the :class:`roadpass.regions.ports.TransferRecords` of one transaction — transfers
to peer nodes, their ledger entries, and the node's stored events and master data read for the audit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Row, select

from roadpass.ledger import LedgerDraft, Subject
from roadpass.regions.ports import StoredItem, TransferRow
from roadpass.store import ledger as ledger_store
from roadpass.store import tables as t
from roadpass.store.regions_tables import region_transfer as _T

__all__ = ["SqlRegionRecords", "transfer_row"]


def transfer_row(r: Row[Any]) -> TransferRow:
    """A ``region_transfer`` row as the regions feature reads it."""
    return TransferRow(peer=r.peer, origin=r.origin, destination=r.destination, subscription_id=r.subscription_id,
                       subscriber=r.subscriber, policy_version=r.policy_version, events=r.events, sent=r.sent,
                       summary=orjson.loads(r.summary), at=r.at, id=r.id)


class SqlRegionRecords:
    """Transfers and the audit's reads on one connection (no decisions here)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def insert_transfer(self, row: TransferRow) -> int:
        """Store a transfer; its row id."""
        result = self.conn.execute(_T.insert().values(
            peer=row.peer, origin=row.origin, destination=row.destination, subscription_id=row.subscription_id,
            subscriber=row.subscriber, policy_version=row.policy_version, events=row.events, sent=row.sent,
            summary=orjson.dumps(row.summary, option=orjson.OPT_SORT_KEYS).decode(), at=row.at))
        key = result.inserted_primary_key
        if key is None:  # pragma: no cover - an insert of one row always has its key
            raise LookupError("transfer row not stored")
        return int(key[0])

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        content = ledger_store.rows_hash(self.conn, subjects)
        return ledger_store.append(self.conn, LedgerDraft(actor, action, rule, tuple(subjects), content)).seq

    def transfers(self, *, peer: str | None = None, limit: int = 100) -> list[TransferRow]:
        """The newest transfers, newest first (to ``peer`` only, unless None)."""
        query = select(_T).order_by(_T.c.id.desc()).limit(limit)
        if peer is not None:
            query = query.where(_T.c.peer == peer)
        return [transfer_row(r) for r in self.conn.execute(query)]

    def stored_items(self, kind: str, *, after: int, limit: int) -> list[StoredItem]:
        """Up to ``limit`` stored events ("epcis_event") or master data elements ("master_data") past row
        ``after``, by row id, each with the actor whose capture stored it."""
        job = t.capture_job
        if kind == "epcis_event":
            e = t.epcis_event
            rows = self.conn.execute(
                select(e.c.id, job.c.actor, e.c.doc).join(job, job.c.id == e.c.job_id)
                .where(e.c.id > after).order_by(e.c.id).limit(limit))
            return [StoredItem(kind, int(r.id), str(r.actor), orjson.loads(r.doc)) for r in rows]
        v = t.vocabulary_element
        rows = self.conn.execute(
            select(v.c.id, job.c.actor, v.c.vocabulary_type, v.c.key, v.c.attributes)
            .join(job, job.c.id == v.c.job_id).where(v.c.id > after).order_by(v.c.id).limit(limit))
        return [StoredItem(kind, int(r.id), str(r.actor),
                           {"type": r.vocabulary_type, "id": r.key, "attributes": orjson.loads(r.attributes)})
                for r in rows]
