"""Software-update persistence: the :class:`roadpass.telematics.software.ports.SoftwareRecords` of one
transaction.

Rows only: whether a campaign applies, which state a report moves a vehicle to and what the ledger records are
decided in :mod:`roadpass.telematics.software`. Methods use the caller's open connection and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, func, or_, select
from sqlalchemy.exc import IntegrityError

from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import ledger as ledger_store
from roadpass.store import software_updates_tables as st
from roadpass.telematics.software.model import (
    Campaign,
    CampaignVehicle,
    Claim,
    EcuSoftware,
    SoftwareReport,
    State,
    StoredReport,
    VehicleType,
)

__all__ = ["SqlSoftwareRecords"]

_T, _R, _C, _S = st.software_vehicle_type, st.software_report, st.software_campaign, st.software_campaign_state


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _report(row: Any) -> StoredReport:
    ecus = tuple(EcuSoftware(e["part_number"], e["software_version"], tuple(e.get("rxswin", ())), e.get("ecu"))
                 for e in orjson.loads(row.ecus))
    claim = (Claim(row.claim_campaign, row.claim_status, row.claim_detail)
             if row.claim_campaign is not None and row.claim_status is not None else None)
    return StoredReport(int(row.id), row.vin, row.unit, row.channel, int(row.received_at),
                        SoftwareReport(int(row.reported_at), ecus, claim), row.actor, row.note)


def _campaign(row: Any) -> Campaign:
    return Campaign(row.key, row.name, row.vehicle_type, row.part_number, row.target_version,
                    tuple(orjson.loads(row.variants)), tuple(orjson.loads(row.from_versions)),
                    tuple(orjson.loads(row.target_rxswin)), int(row.id), int(row.opened_at), row.actor)


def _state(row: Any, key: str) -> CampaignVehicle:
    return CampaignVehicle(key, row.vin, row.state, int(row.at), row.reason,
                           None if row.report_id is None else int(row.report_id))


class SqlSoftwareRecords:
    """Software-update rows on SQLAlchemy Core (SQLite and PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, statement: Any) -> int | None:
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(statement)
        except IntegrityError:
            return None
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else None

    # --- vehicle types --------------------------------------------------------------------------------
    def vehicle_types(self) -> list[VehicleType]:
        """Every registered vehicle type, by key."""
        return [VehicleType(r.key, r.name, orjson.loads(r.variants), r.product_key)
                for r in self.conn.execute(select(_T).order_by(_T.c.key))]

    def add_vehicle_type(self, vtype: VehicleType, *, actor: str, at: int) -> int | None:
        """Store a vehicle type; its row id, or None when the key is taken."""
        return self._insert(_T.insert().values(key=vtype.key, name=vtype.name, product_key=vtype.product_key,
                                               variants=_json(vtype.variants), actor=actor, created_at=at))

    # --- reports --------------------------------------------------------------------------------------
    def add_report(
        self, vin: str, report: SoftwareReport, *, unit: str | None, channel: str, digest: str, received_at: int,
        actor: str, note: str | None,
    ) -> int | None:
        """Keep a report; its row id, or None when this vehicle's report with that digest is already kept."""
        claim = report.claim
        return self._insert(_R.insert().values(
            vin=vin, unit=unit, channel=channel, digest=digest, reported_at=report.reported_at,
            received_at=received_at, ecus=_json([e.as_json() for e in report.ecus]), rxswin=_json(report.rxswin),
            claim_campaign=claim.campaign if claim else None, claim_status=claim.status if claim else None,
            claim_detail=claim.detail if claim else None, note=note, actor=actor))

    def latest_report(self, vin: str) -> StoredReport | None:
        """The vehicle's report with the latest ``reported_at`` (the vehicle's own time)."""
        row = self.conn.execute(select(_R).where(_R.c.vin == vin)
                                .order_by(_R.c.reported_at.desc(), _R.c.id.desc()).limit(1)).first()
        return None if row is None else _report(row)

    def reports(self, vin: str, *, limit: int) -> list[StoredReport]:
        """The vehicle's reports, newest (by the vehicle's own time) first."""
        query = select(_R).where(_R.c.vin == vin).order_by(_R.c.reported_at.desc(), _R.c.id.desc()).limit(limit)
        return [_report(r) for r in self.conn.execute(query)]

    def latest_reports(self, vin_like: Sequence[str]) -> list[StoredReport]:
        """The latest report of every vehicle whose VIN matches one of the SQL ``LIKE`` patterns."""
        if not vin_like:
            return []
        ranked = select(_R.c.id, func.row_number().over(
            partition_by=_R.c.vin, order_by=(_R.c.reported_at.desc(), _R.c.id.desc())).label("rank")
        ).where(or_(*(_R.c.vin.like(p) for p in vin_like))).subquery()
        query = select(_R).join(ranked, ranked.c.id == _R.c.id).where(ranked.c.rank == 1).order_by(_R.c.vin)
        return [_report(r) for r in self.conn.execute(query)]

    def report_facts(self, vin_like: Sequence[str]) -> list[tuple[str, int, tuple[str, ...]]]:
        """(VIN, reported at, RXSWINs) of every report of the vehicles whose VIN matches a pattern."""
        if not vin_like:
            return []
        query = select(_R.c.vin, _R.c.reported_at, _R.c.rxswin).where(or_(*(_R.c.vin.like(p) for p in vin_like)))
        return [(r.vin, int(r.reported_at), tuple(orjson.loads(r.rxswin))) for r in self.conn.execute(query)]

    def claims(self, campaign_key: str, *, limit: int) -> list[StoredReport]:
        """Reports that carry a note about a claim on ``campaign_key``, newest first."""
        query = (select(_R).where(_R.c.claim_campaign == campaign_key, _R.c.note.is_not(None))
                 .order_by(_R.c.reported_at.desc(), _R.c.id.desc()).limit(limit))
        return [_report(r) for r in self.conn.execute(query)]

    # --- campaigns ------------------------------------------------------------------------------------
    def campaigns(self, vehicle_type: str | None = None) -> list[Campaign]:
        """Campaigns (of one vehicle type, or all), oldest first."""
        query = select(_C).order_by(_C.c.id)
        if vehicle_type is not None:
            query = query.where(_C.c.vehicle_type == vehicle_type)
        return [_campaign(r) for r in self.conn.execute(query)]

    def campaign(self, key: str) -> Campaign | None:
        """The campaign called ``key``."""
        row = self.conn.execute(select(_C).where(_C.c.key == key)).first()
        return None if row is None else _campaign(row)

    def add_campaign(self, campaign: Campaign, *, actor: str, at: int) -> int | None:
        """Store a campaign; its row id, or None when the key is taken."""
        return self._insert(_C.insert().values(
            key=campaign.key, name=campaign.name, vehicle_type=campaign.vehicle_type,
            variants=_json(campaign.variants), part_number=campaign.part_number,
            from_versions=_json(campaign.from_versions), target_version=campaign.target_version,
            target_rxswin=_json(campaign.target_rxswin), actor=actor, opened_at=at))

    def current_states(self, campaign_id: int, vins: Sequence[str] | None = None) -> dict[str, CampaignVehicle]:
        """Each vehicle's latest state in the campaign (rows are appended: the highest id is the latest)."""
        key = self.conn.execute(select(_C.c.key).where(_C.c.id == campaign_id)).scalar_one()
        latest = select(func.max(_S.c.id)).where(_S.c.campaign_id == campaign_id).group_by(_S.c.vin)
        if vins is not None:
            latest = latest.where(_S.c.vin.in_(list(vins)))
        rows = self.conn.execute(select(_S).where(_S.c.id.in_(latest.scalar_subquery())))
        return {r.vin: _state(r, key) for r in rows}

    def vehicle_states(self, vin: str) -> list[CampaignVehicle]:
        """Every state row of the vehicle in every campaign, oldest first."""
        query = (select(_S, _C.c.key.label("campaign_key")).join(_C, _C.c.id == _S.c.campaign_id)
                 .where(_S.c.vin == vin).order_by(_S.c.id))
        return [_state(r, r.campaign_key) for r in self.conn.execute(query)]

    def add_state(
        self, campaign_id: int, vin: str, state: State, *, reason: str, at: int, report_id: int | None, actor: str,
    ) -> int:
        """Append a state change; its row id."""
        result = self.conn.execute(_S.insert().values(campaign_id=campaign_id, vin=vin, state=state, at=at,
                                                      reason=reason, report_id=report_id, actor=actor))
        return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0

    # --- ledger ---------------------------------------------------------------------------------------
    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        content = ledger_store.rows_hash(self.conn, subjects)
        return ledger_store.append(self.conn, LedgerDraft(actor, action, rule, tuple(subjects), content)).seq
