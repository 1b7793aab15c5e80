"""Service records and warranty claims persistence (no decisions here).

:class:`SqlServiceRecords` implements :class:`roadpass.aftermarket.service.ports.ServiceRecords` and
:class:`SqlWarrantyRecords` implements :class:`roadpass.aftermarket.warranty.ports.WarrantyRecords`, each on
an open connection; they never commit. A write of service records stamps every row with one
``recorded_at`` that no earlier write used, and its ledger entry names the rows by that stamp, so a batch of
a thousand work orders is one entry.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, func, select, text

from roadpass.aftermarket.service.model import WorkOrder
from roadpass.aftermarket.service.ports import ServiceRecordRow
from roadpass.aftermarket.warranty.model import ClaimRow, ClaimStep, NewClaim
from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import aftermarket_service_tables as st
from roadpass.store import ledger as ledger_store
from roadpass.store.engine import is_postgresql

__all__ = ["SqlServiceRecords", "SqlWarrantyRecords", "ledger_append"]


def _now_us() -> int:
    return time.time_ns() // 1000


def ledger_append(conn: Connection, *, actor: str, action: str, rule: str, subjects: tuple[Subject, ...]) -> int:
    """Append a ledger entry over ``subjects`` as stored now; its sequence number."""
    draft = LedgerDraft(actor, action, rule, subjects, ledger_store.rows_hash(conn, subjects))
    return ledger_store.append(conn, draft).seq


class SqlServiceRecords:
    """:class:`roadpass.aftermarket.service.ports.ServiceRecords` on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _rows(self, where: Any, *, limit: int | None = None) -> list[ServiceRecordRow]:
        r, p, c = st.service_record, st.service_record_part, st.service_record_campaign
        query = select(r).where(where).order_by(r.c.performed_at.desc(), r.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        heads = self.conn.execute(query).all()
        ids = [int(h.id) for h in heads]
        parts: dict[int, dict[str, list[str]]] = defaultdict(lambda: {"removed": [], "fitted": []})
        campaigns: dict[int, list[str]] = defaultdict(list)
        if ids:
            for row in self.conn.execute(select(p).where(p.c.record_id.in_(ids))):
                parts[int(row.record_id)][row.role].append(row.epc)
            for row in self.conn.execute(select(c).where(c.c.record_id.in_(ids))):
                campaigns[int(row.record_id)].append(row.campaign_key)
        return [
            ServiceRecordRow(
                int(h.id), h.record_key, h.vin, None if h.repairer_party_id is None else int(h.repairer_party_id),
                int(h.performed_at), int(h.odometer_km), h.technician, orjson.loads(h.operations),
                int(h.recorded_at), h.recorded_by, tuple(parts[int(h.id)]["removed"]),
                tuple(parts[int(h.id)]["fitted"]), tuple(campaigns[int(h.id)]),
            )
            for h in heads
        ]

    def by_keys(self, keys: Sequence[str]) -> dict[str, ServiceRecordRow]:
        """Stored records by record key (those that exist)."""
        if not keys:
            return {}
        return {row.record_key: row for row in self._rows(st.service_record.c.record_key.in_(list(keys)))}

    def _stamp(self) -> int:
        """A ``recorded_at`` later than every stored one (writers are serialised: SQLite has one writer,
        PostgreSQL takes a transaction-scoped advisory lock)."""
        if is_postgresql(self.conn.engine):
            self.conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('service_record'))"))
        last = self.conn.execute(select(func.max(st.service_record.c.recorded_at))).scalar()
        return max(_now_us(), int(last or 0) + 1)

    def insert(self, orders: Sequence[WorkOrder], *, actor: str) -> int:
        """Store the work orders with their parts and campaigns under one fresh ``recorded_at``; that stamp."""
        stamp = self._stamp()
        r = st.service_record
        rows = [
            {"record_key": o.record_key, "vin": o.vin, "repairer_party_id": o.repairer_party_id,
             "performed_at": o.performed_at, "odometer_km": o.odometer_km, "technician": o.technician,
             "operations": orjson.dumps([op.as_json() for op in o.operations]).decode(), "recorded_at": stamp,
             "recorded_by": actor}
            for o in orders
        ]
        if not rows:
            return stamp
        ids = [int(x[0]) for x in self.conn.execute(r.insert().returning(r.c.id, sort_by_parameter_order=True), rows)]
        parts = [
            {"record_id": pk, "role": role, "epc": epc}
            for pk, o in zip(ids, orders, strict=True)
            for role, epcs in (("removed", o.removed), ("fitted", o.fitted))
            for epc in epcs
        ]
        campaigns = [
            {"record_id": pk, "campaign_key": key, "vin": o.vin}
            for pk, o in zip(ids, orders, strict=True)
            for key in o.campaigns
        ]
        if parts:
            self.conn.execute(st.service_record_part.insert(), parts)
        if campaigns:
            self.conn.execute(st.service_record_campaign.insert(), campaigns)
        return stamp

    def ledgered(self, *, actor: str, action: str, rule: str, recorded_at: int) -> int:
        """Append the ledger entry covering the records stamped ``recorded_at``; its sequence number."""
        subjects = (Subject("service_record", "recorded_at", recorded_at),)
        return ledger_append(self.conn, actor=actor, action=action, rule=rule, subjects=subjects)

    def history(self, vin: str, *, limit: int) -> list[ServiceRecordRow]:
        """The vehicle's records, latest work first."""
        return self._rows(st.service_record.c.vin == vin, limit=limit)


def _claim(row: Any, steps: Sequence[ClaimStep]) -> ClaimRow:
    claim = NewClaim(
        row.claim_key, row.vin, row.epc, row.product, int(row.claimed_at), int(row.odometer_km), row.defect,
        row.record_key, None if row.state_of_health is None else int(row.state_of_health),
        None if row.amount_cents is None else int(row.amount_cents),
        None if row.repairer_party_id is None else int(row.repairer_party_id),
    )
    return ClaimRow(int(row.id), claim, row.market, row.status, row.reason, row.submitted_by, int(row.submitted_at),
                    tuple(steps))


class SqlWarrantyRecords:
    """:class:`roadpass.aftermarket.warranty.ports.WarrantyRecords` on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _claims(self, where: Any, limit: int) -> list[ClaimRow]:
        w, s = st.warranty_claim, st.warranty_claim_step
        heads = self.conn.execute(select(w).where(where).order_by(w.c.submitted_at.desc(), w.c.id.desc())
                                  .limit(limit)).all()
        steps: dict[int, list[ClaimStep]] = defaultdict(list)
        ids = [int(h.id) for h in heads]
        if ids:
            for r in self.conn.execute(select(s).where(s.c.claim_id.in_(ids)).order_by(s.c.id)):
                steps[int(r.claim_id)].append(ClaimStep(
                    r.status, r.reason, r.rule, None if r.amount_cents is None else int(r.amount_cents), int(r.at),
                    r.actor))
        return [_claim(h, steps[int(h.id)]) for h in heads]

    def claim(self, claim_key: str) -> ClaimRow | None:
        """A claim with its history, by key."""
        found = self._claims(st.warranty_claim.c.claim_key == claim_key, 1)
        return found[0] if found else None

    def claims_for_vin(self, vin: str, *, limit: int) -> list[ClaimRow]:
        """The vehicle's claims, latest first."""
        return self._claims(st.warranty_claim.c.vin == vin, limit)

    def insert_claim(self, claim: NewClaim, *, market: str, actor: str, at: int) -> tuple[int, int]:
        """Store a submitted claim and its first step; (claim row id, step row id)."""
        w = st.warranty_claim
        pk = self.conn.execute(w.insert().returning(w.c.id).values(
            claim_key=claim.claim_key, vin=claim.vin, epc=claim.epc, record_key=claim.record_key,
            repairer_party_id=claim.repairer_party_id, market=market, product=claim.product,
            claimed_at=claim.claimed_at, odometer_km=claim.odometer_km, state_of_health=claim.state_of_health,
            defect=claim.defect, amount_cents=claim.amount_cents, status="submitted", reason=None,
            submitted_by=actor, submitted_at=at,
        )).scalar_one()
        step = self.add_step(int(pk), status="submitted", reason=None, rule=None, amount_cents=claim.amount_cents,
                             at=at, actor=actor)
        return int(pk), step

    def add_step(
        self, claim_id: int, *, status: str, reason: str | None, rule: str | None, amount_cents: int | None,
        at: int, actor: str,
    ) -> int:
        """Record a step and make its status the claim's current one; the step's row id."""
        s, w = st.warranty_claim_step, st.warranty_claim
        pk = self.conn.execute(s.insert().returning(s.c.id).values(
            claim_id=claim_id, status=status, reason=reason, rule=rule, amount_cents=amount_cents, at=at, actor=actor,
        )).scalar_one()
        self.conn.execute(w.update().where(w.c.id == claim_id).values(status=status, reason=reason))
        return int(pk)

    def ledgered(self, *, actor: str, action: str, rule: str, rows: list[tuple[str, int]]) -> int:
        """Append a ledger entry over rows ``(table, id)``; its sequence number."""
        subjects = tuple(Subject(table, "id", pk) for table, pk in rows)
        return ledger_append(self.conn, actor=actor, action=action, rule=rule, subjects=subjects)
