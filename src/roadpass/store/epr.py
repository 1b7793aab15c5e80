"""Producer-responsibility persistence: registrations (ledgered by the caller) and the trace record's
collection and recycling facts that Art. 75 reports read back.

:class:`SqlEprRecords` implements :class:`roadpass.passport.ports.EprRecords` on an open connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select, text

from roadpass.ledger import LedgerEntry
from roadpass.passport.records import (
    Collection,
    OriginalPassport,
    RecyclingRecord,
    Registration,
    SiteInfo,
    SoldLink,
)
from roadpass.store import passport_reads as reads
from roadpass.store import passport_tables as pt
from roadpass.store.partitions import KEY_TABLE, event_keys
from roadpass.store.passports import ledgered, now_us

__all__ = ["SqlEprRecords"]

_LOCATION = "urn:epcglobal:epcis:vtype:BusinessLocation"


class SqlEprRecords:
    """:class:`roadpass.passport.ports.EprRecords` on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> LedgerEntry:
        """Append the ledger entry of write ``op_id`` covering its rows in ``tables``."""
        return ledgered(self.conn, actor=actor, action=action, rule=rule, op_id=op_id, tables=tables)

    def has_registration(self, producer_key: str, member_state: str, registration_number: str) -> bool:
        """True when this registration is already stored."""
        t = pt.producer_registration
        return self.conn.execute(select(t.c.id).where(
            t.c.producer_key == producer_key, t.c.member_state == member_state,
            t.c.registration_number == registration_number)).first() is not None

    def add_registration(self, registration: Registration, *, op_id: str) -> None:
        """Store a registration."""
        r = registration
        self.conn.execute(pt.producer_registration.insert().values(
            producer_key=r.producer_key, member_state=r.member_state, registration_number=r.registration_number,
            categories=orjson.dumps(list(r.categories)).decode(), models=orjson.dumps(list(r.models)).decode(),
            pro=r.pro, registered_at=now_us(), op_id=op_id))

    def registrations(self, producer_key: str | None) -> list[Registration]:
        """Registrations by producer and member state, optionally of one producer."""
        t = pt.producer_registration
        query = select(t).order_by(t.c.producer_key, t.c.member_state)
        if producer_key:
            query = query.where(t.c.producer_key == producer_key)
        return [Registration(r.producer_key, r.member_state, r.registration_number,
                             tuple(orjson.loads(r.categories)), tuple(orjson.loads(r.models)), r.pro)
                for r in self.conn.execute(query)]

    def producer_name(self, producer_key: str) -> str | None:
        """The registered party's name."""
        name = self.conn.execute(text("SELECT name FROM party WHERE key = :k"), {"k": producer_key}).scalar()
        return None if name is None else str(name)

    def unit_ids_for_keys(self, keys: Sequence[str]) -> dict[str, int]:
        """``{canonical key: unit id}`` for the keys that are known."""
        if not keys:
            return {}
        rows = self.conn.execute(
            text("SELECT key, id FROM unit WHERE key IN :keys").bindparams(bindparam("keys", expanding=True)),
            {"keys": list(keys)},
        )
        return {str(k): int(i) for k, i in rows}

    def passport_models(self, unit_ids: Sequence[int]) -> dict[int, tuple[str, float, dict[str, float]]]:
        """``{unit_id: (model key, mass kg, {element: kg})}`` of each unit's first passport with a model."""
        if not unit_ids:
            return {}
        rows = self.conn.execute(
            text(
                "SELECT p.unit_id, m.key, m.mass_kg, m.materials FROM passport p "
                "JOIN passport_model m ON m.id = p.model_id WHERE p.unit_id IN :ids ORDER BY p.id DESC"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(unit_ids)},
        )
        return {int(u): (str(k), float(mass), orjson.loads(mat)) for u, k, mass, mat in rows}

    def original_passports(self, model_keys: Sequence[str]) -> list[OriginalPassport]:
        """Original passports (no predecessor) of traced batteries of ``model_keys``."""
        if not model_keys:
            return []
        rows = self.conn.execute(
            text(
                "SELECT p.id, p.unit_id, m.key, m.mass_kg FROM passport p "
                "JOIN passport_model m ON m.id = p.model_id "
                "WHERE p.predecessor_id IS NULL AND p.unit_id IS NOT NULL AND m.key IN :keys"
            ).bindparams(bindparam("keys", expanding=True)),
            {"keys": list(model_keys)},
        )
        return [OriginalPassport(int(pk), int(u), str(k), float(mass)) for pk, u, k, mass in rows]

    def sold_links(self, unit_ids: Sequence[int]) -> list[SoldLink]:
        """The units' containments in vehicles that have been sold."""
        return reads.sold_links(self.conn, unit_ids)

    def collections(self) -> list[Collection]:
        """Every collection of a passport's battery (one per battery); the time is the collecting event's."""
        # The collecting event's time: from the key table where the event table is partitioned (it carries
        # eventID and event time for every month, detached ones too; store/partitions.py).
        events = KEY_TABLE if event_keys(self.conn) is not None else "epcis_event"
        rows = self.conn.execute(
            text(
                "SELECT v.passport_pk, m.key, m.mass_kg, e.event_time, v.location, ve.country "
                "FROM passport_version v JOIN passport p ON p.id = v.passport_pk "
                "JOIN passport_model m ON m.id = p.model_id "
                f"JOIN {events} e ON e.event_id = v.event_id "
                "LEFT JOIN vocabulary_element ve ON ve.key = v.location AND ve.vocabulary_type = :vtype "
                "WHERE v.reason = 'collected'"
            ),
            {"vtype": _LOCATION},
        )
        seen: dict[int, Collection] = {}
        for pk, key, mass, at, location, country in rows:
            seen[int(pk)] = Collection(int(pk), str(key), float(mass), int(at), location, country)
        return list(seen.values())

    def recycling_events(self, biz_step: str) -> list[RecyclingRecord]:
        """Recycling TransformationEvents, in event time order (one per event, whatever master data
        versions its site has)."""
        rows = self.conn.execute(
            text(
                "SELECT e.event_time, e.doc, e.biz_location, ve.country FROM epcis_event e "
                "LEFT JOIN vocabulary_element ve ON ve.key = e.biz_location AND ve.vocabulary_type = :vtype "
                "WHERE e.event_type = 'TransformationEvent' AND e.biz_step = :step ORDER BY e.event_time"
            ),
            {"step": biz_step, "vtype": _LOCATION},
        )
        out: dict[tuple[int, str], RecyclingRecord] = {}
        for at, doc, location, country in rows:
            out[(int(at), str(doc))] = RecyclingRecord(int(at), orjson.loads(doc), location, country)
        return list(out.values())

    def sites(self) -> dict[str, SiteInfo]:
        """``{location key: site}`` from the captured master data (the latest version wins)."""
        out: dict[str, SiteInfo] = {}
        rows = self.conn.execute(
            text("SELECT key, name, country, attributes FROM vocabulary_element "
                 "WHERE vocabulary_type = :vtype ORDER BY version"),
            {"vtype": _LOCATION},
        )
        for key, name, country, attributes in rows:
            attrs: dict[str, Any] = orjson.loads(attributes)
            out[str(key)] = SiteInfo(
                name or attrs.get("urn:epcglobal:cbv:mda#name"),
                country or attrs.get("urn:epcglobal:cbv:mda#countryCode"),
                attrs.get("https://roadpass.dev/ns/epcis/siteRole"),
            )
        return out

    def unit_materials(self) -> dict[int, dict[str, float]]:
        """``{unit_id: {element: kg}}`` of the traced batteries whose passport has a model."""
        rows = self.conn.execute(text(
            "SELECT p.unit_id, m.materials FROM passport p JOIN passport_model m ON m.id = p.model_id "
            "WHERE p.unit_id IS NOT NULL"))
        return {int(u): orjson.loads(m) for u, m in rows}

    def passport_units(self) -> dict[int, int | None]:
        """``{passport row id: unit id}`` of every passport."""
        rows = self.conn.execute(text("SELECT id, unit_id FROM passport"))
        return {int(pk): None if u is None else int(u) for pk, u in rows}

    def battery_units(self) -> dict[str, int]:
        """``{unit key: unit id}`` of every unit that has a passport."""
        rows = self.conn.execute(text("SELECT u.key, u.id FROM unit u JOIN passport p ON p.unit_id = u.id"))
        return {str(k): int(i) for k, i in rows}
