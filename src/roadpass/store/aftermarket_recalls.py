""":class:`roadpass.aftermarket.recalls.ports.RecallRecords` on an open connection (no decisions here).

Completion evidence is read from the service records' tables (``service_record``, ``service_record_part``,
``service_record_campaign``), which the service-record feature writes; the campaign key is what they
reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, and_, func, or_, select

from roadpass.aftermarket.recalls.model import (
    AffectedVehicle,
    Campaign,
    CampaignDraft,
    Defect,
    Notice,
    ProductionWindow,
    Remedy,
    Scope,
    SerialRange,
    ServiceEvidence,
)
from roadpass.aftermarket.recalls.ports import UnitRecall
from roadpass.ledger import LedgerEntry
from roadpass.store import tables as t
from roadpass.store.aftermarket_recalls_tables import recall_campaign, recall_notice, recall_unit, recall_vehicle
from roadpass.store.aftermarket_service_tables import service_record, service_record_campaign, service_record_part
from roadpass.store.bulk import lock_writer
from roadpass.store.passports import ledgered

__all__ = ["SqlRecallRecords"]

#: EPCIS event roles that bring a unit into being: epcList, outputEPCList and their quantity lists.
_PRODUCED_ROLES = (1, 5, 6, 9)
_COMMISSIONING = "https://ref.gs1.org/cbv/BizStep-commissioning"


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _campaign(row: Any) -> Campaign:
    defect = orjson.loads(row.defect)
    remedy = orjson.loads(row.remedy)
    draft = CampaignDraft(
        campaign_key=row.campaign_key,
        title=row.title,
        manufacturer=row.manufacturer,
        defect=Defect(defect["description"], defect["risk"], defect.get("component"), defect.get("determinedOn"),
                      defect.get("chronology"), defect.get("noncompliance")),
        remedy=Remedy(remedy["description"], tuple(remedy.get("parts", ())), tuple(remedy.get("operations", ()))),
        scope=Scope.from_json(orjson.loads(row.scope)),
        dates=orjson.loads(row.dates),
        market_due=orjson.loads(row.market_due),
        references=orjson.loads(row.refs),
        contact=orjson.loads(row.contact),
    )
    return Campaign(int(row.id), draft, row.owner_party, int(row.created_at), row.created_by)


def _vehicle(row: Any) -> AffectedVehicle:
    return AffectedVehicle(row.vin, row.unit_key, row.market, bool(row.carries_now), tuple(orjson.loads(row.via)))


class SqlRecallRecords:
    """Recall campaigns on SQLAlchemy Core."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def lock_writer(self) -> None:
        """Serialise writers."""
        lock_writer(self.conn)

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> LedgerEntry:
        """Append the ledger entry of write ``op_id`` covering its rows in ``tables``."""
        return ledgered(self.conn, actor=actor, action=action, rule=rule, op_id=op_id, tables=tables)

    def insert_campaign(self, draft: CampaignDraft, *, owner: str, created_at: int, created_by: str,
                        op_id: str) -> Campaign:
        """Store a campaign; the stored campaign."""
        c = recall_campaign
        self.conn.execute(c.insert().values(
            campaign_key=draft.campaign_key, title=draft.title, manufacturer=draft.manufacturer, owner_party=owner,
            defect=_dumps(draft.defect.as_json()), remedy=_dumps(draft.remedy.as_json()),
            scope=_dumps(draft.scope.as_json()), dates=_dumps(draft.dates), market_due=_dumps(draft.market_due),
            refs=_dumps(draft.references), contact=_dumps(draft.contact), created_at=created_at,
            created_by=created_by, op_id=op_id,
        ))
        found = self.campaign(draft.campaign_key)
        assert found is not None
        return found

    def campaign(self, key: str) -> Campaign | None:
        """The campaign with this key."""
        row = self.conn.execute(select(recall_campaign).where(recall_campaign.c.campaign_key == key)).first()
        return None if row is None else _campaign(row)

    def campaigns(self) -> list[Campaign]:
        """Every campaign, newest first."""
        rows = self.conn.execute(select(recall_campaign).order_by(recall_campaign.c.id.desc()))
        return [_campaign(row) for row in rows]

    def vehicles(self, campaign_id: int) -> list[AffectedVehicle]:
        """The campaign's vehicles in VIN order."""
        v = recall_vehicle
        rows = self.conn.execute(select(v).where(v.c.campaign_id == campaign_id).order_by(v.c.vin))
        return [_vehicle(row) for row in rows]

    def save_vehicles(self, campaign_id: int, vehicles: Sequence[AffectedVehicle], *, at: int, op_id: str) -> int:
        """Add vehicles not yet in the campaign and set ``carries_now`` of those that are; how many were new."""
        v = recall_vehicle
        known = {row.vin: (bool(row.carries_now), int(row.id)) for row in self.conn.execute(
            select(v.c.vin, v.c.carries_now, v.c.id).where(v.c.campaign_id == campaign_id))}
        new = [
            {"campaign_id": campaign_id, "vin": x.vin, "unit_key": x.unit_key, "market": x.market,
             "via": _dumps(list(x.via)), "first_seen": at, "op_id": op_id, "carries_now": int(x.carries_now),
             "checked_at": at}
            for x in vehicles if x.vin not in known
        ]
        if new:
            self.conn.execute(v.insert(), new)
        now_in = {x.vin for x in vehicles if x.carries_now}
        flips = [(pk, vin in now_in) for vin, (was, pk) in known.items() if (vin in now_in) != was]
        for value in (True, False):
            ids = [pk for pk, now in flips if now is value]
            for start in range(0, len(ids), 500):
                self.conn.execute(v.update().where(v.c.id.in_(ids[start:start + 500]))
                                  .values(carries_now=int(value), checked_at=at))
        return len(new)

    def save_units(self, campaign_id: int, units: Iterable[tuple[str, str | None, bool]], *, op_id: str) -> None:
        """Replace the units the campaign names: (unit key, VIN carrying it or None, carries now)."""
        u = recall_unit
        self.conn.execute(u.delete().where(u.c.campaign_id == campaign_id))
        rows = [{"campaign_id": campaign_id, "unit_key": key, "vin": vin, "carries_now": int(now)}
                for key, vin, now in units]
        if rows:
            self.conn.execute(u.insert(), rows)

    def insert_notices(self, campaign_id: int, notices: Sequence[Notice], *, op_id: str) -> None:
        """Store notices to dealers and repairers."""
        if notices:
            self.conn.execute(recall_notice.insert(), [
                {"campaign_id": campaign_id, "market": n.market, "party_key": n.party_key, "role": n.role,
                 "vehicles": n.vehicles, "created_at": n.created_at, "op_id": op_id} for n in notices])

    def notified(self, campaign_id: int) -> set[tuple[str, str]]:
        """(market, party key) pairs already notified for the campaign."""
        n = recall_notice
        rows = self.conn.execute(select(n.c.market, n.c.party_key).where(n.c.campaign_id == campaign_id))
        return {(row.market, row.party_key) for row in rows}

    def notices_for(self, party_key: str) -> list[Notice]:
        """The notices addressed to a party, newest first."""
        n, c = recall_notice, recall_campaign
        rows = self.conn.execute(
            select(n, c.c.campaign_key, c.c.title).join(c, c.c.id == n.c.campaign_id)
            .where(n.c.party_key == party_key).order_by(n.c.id.desc()))
        return [Notice(r.campaign_key, r.title, r.market, r.party_key, r.role, int(r.vehicles), int(r.created_at))
                for r in rows]

    def evidence(self, campaign_key: str, vin: str | None = None) -> list[ServiceEvidence]:
        """Service records that reference the campaign (for one VIN, if given), with the parts each fitted."""
        rc, sr, sp = service_record_campaign, service_record, service_record_part
        query = (select(sr.c.id, sr.c.record_key, rc.c.vin, sr.c.performed_at)
                 .join(rc, rc.c.record_id == sr.c.id).where(rc.c.campaign_key == campaign_key))
        if vin is not None:
            query = query.where(rc.c.vin == vin)
        rows = self.conn.execute(query)
        records = {int(r.id): (r.record_key, r.vin, int(r.performed_at)) for r in rows}
        fitted: dict[int, list[str]] = {pk: [] for pk in records}
        ids = list(records)
        for start in range(0, len(ids), 500):
            for r in self.conn.execute(select(sp.c.record_id, sp.c.epc).where(
                    sp.c.record_id.in_(ids[start:start + 500]), sp.c.role == "fitted")):
                fitted[int(r.record_id)].append(r.epc)
        return [ServiceEvidence(key, vin, at, tuple(fitted[pk])) for pk, (key, vin, at) in records.items()]

    def campaigns_for_vin(self, vin: str) -> list[tuple[Campaign, AffectedVehicle]]:
        """The campaigns that reached a vehicle, with its row in each."""
        v, c = recall_vehicle, recall_campaign
        rows = self.conn.execute(select(v, c.c.campaign_key).join(c, c.c.id == v.c.campaign_id)
                                 .where(v.c.vin == vin).order_by(v.c.campaign_id))
        found = [(row.campaign_key, _vehicle(row)) for row in rows]
        out: list[tuple[Campaign, AffectedVehicle]] = []
        for key, vehicle in found:
            campaign = self.campaign(key)
            if campaign is not None:
                out.append((campaign, vehicle))
        return out

    def campaigns_for_unit(self, key: str) -> list[UnitRecall]:
        """The campaigns that name a unit (canonical key)."""
        u = recall_unit
        rows = self.conn.execute(select(u.c.campaign_id, u.c.vin, u.c.carries_now).where(u.c.unit_key == key)
                                 .order_by(u.c.campaign_id, u.c.carries_now.desc()))
        out: list[UnitRecall] = []
        by_id: dict[int, Campaign | None] = {}
        for row in rows:
            pk = int(row.campaign_id)
            if pk not in by_id:
                found = self.conn.execute(select(recall_campaign).where(recall_campaign.c.id == pk)).first()
                by_id[pk] = None if found is None else _campaign(found)
            campaign = by_id[pk]
            if campaign is not None:
                out.append(UnitRecall(campaign, row.vin, bool(row.carries_now)))
        return out

    def units_in_range(self, r: SerialRange, *, limit: int) -> list[str]:
        """Keys of stored serialised units of ``r.gtin`` whose numeric serial lies in the range."""
        prefix = f"https://id.gs1.org/01/{r.gtin}/21/"
        u = t.unit
        rows = self.conn.execute(select(u.c.key).where(u.c.key >= prefix, u.c.key < prefix + "\uffff")
                                 .order_by(u.c.key))
        out: list[str] = []
        for (key,) in rows:
            serial = key[len(prefix):]
            if serial.isdigit() and r.first <= int(serial) <= r.last:
                out.append(key)
                if len(out) >= limit:
                    break
        return out

    def units_produced(self, window: ProductionWindow | None, supplier: str | None, *, limit: int) -> list[str]:
        """Keys of units commissioned in ``window`` (of its GTIN, if any) and/or under a company prefix."""
        u, e, ee = t.unit, t.epcis_event, t.event_epc
        query = select(u.c.key).distinct().where(u.c.vin.is_(None))
        prefixes: list[str] = []
        if window is not None and window.gtin:
            prefixes.append(f"https://id.gs1.org/01/{window.gtin}/")
        elif supplier is not None:
            prefixes = [f"https://id.gs1.org/01/{d}{supplier}" for d in range(10)]
        if prefixes:
            query = query.where(or_(*[and_(u.c.key >= p, u.c.key < p + "\uffff") for p in prefixes]))
        if window is not None:
            made = (select(ee.c.unit_id).join(e, e.c.id == ee.c.event_pk)
                    .where(ee.c.role.in_(_PRODUCED_ROLES), e.c.event_time >= window.start,
                           e.c.event_time < window.end,
                           or_(e.c.biz_step == _COMMISSIONING, e.c.event_type == "TransformationEvent")))
            query = query.where(u.c.id.in_(made))
        rows = self.conn.execute(query.order_by(u.c.key).limit(limit))
        return [str(row[0]) for row in rows]

    def lots(self, *, limit: int) -> list[str]:
        """Keys of stored lots (class-level units), in key order."""
        u = t.unit
        return [str(r[0]) for r in self.conn.execute(select(u.c.key).where(u.c.kind == 2).order_by(u.c.key)
                                                     .limit(limit))]

    def count_campaigns(self) -> int:
        """How many campaigns are stored."""
        return int(self.conn.execute(select(func.count()).select_from(recall_campaign)).scalar_one())
