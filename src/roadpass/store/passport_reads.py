"""Read-only SQL over the trace record for passports and producer responsibility (no writes here).

* :func:`pack_facts`: battery units of a GTIN with their commissioning event (ILMD) and no passport yet;
* :func:`service_starts`: when each battery was first in a sold vehicle (putting into service);
* :func:`placed_on_market`: when and in which country each passport's battery was first made available,
  i.e. in a vehicle sold there, or fitted to a sold vehicle in service (Reg. (EU) 2023/1542 Art. 3(1)(47));
* :func:`collections` and :func:`recycling_events`: the EPCIS events EPR reports read back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, text

from roadpass.trace.timeutil import FOREVER

__all__ = [
    "PackFact",
    "Placement",
    "collections",
    "location_countries",
    "model_of_passports",
    "pack_facts",
    "placed_on_market",
    "recycling_events",
    "service_starts",
    "unit_ids_for_keys",
]

COMMISSIONING = "https://ref.gs1.org/cbv/BizStep-commissioning"


@dataclass(frozen=True, slots=True)
class PackFact:
    """A battery unit and its commissioning event as captured."""

    unit_id: int
    key: str
    event_time: int
    doc: dict[str, Any]


def pack_facts(
    conn: Connection, gtin: str, *, unit_ids: Sequence[int] | None = None, without_passport: bool = True
) -> list[PackFact]:
    """Units whose key is ``https://id.gs1.org/01/<gtin>/21/...`` with their commissioning ObjectEvent."""
    sql = (
        "SELECT u.id, u.key, e.event_time, e.doc FROM unit u "
        "JOIN event_epc x ON x.unit_id = u.id AND x.role = 1 "
        "JOIN epcis_event e ON e.id = x.event_pk AND e.biz_step = :step AND e.action = 'ADD' "
        "WHERE u.key LIKE :prefix"
    )
    if without_passport:
        sql += " AND NOT EXISTS (SELECT 1 FROM passport p WHERE p.unit_id = u.id)"
    params: dict[str, Any] = {"step": COMMISSIONING, "prefix": f"https://id.gs1.org/01/{gtin}/21/%"}
    if unit_ids is not None:
        if not unit_ids:
            return []
        sql += " AND u.id IN (" + ",".join(str(int(i)) for i in unit_ids) + ")"
    seen: set[int] = set()
    out: list[PackFact] = []
    for row in conn.execute(text(sql + " ORDER BY u.id, e.event_time"), params):
        if int(row[0]) in seen:
            continue  # the first commissioning is the manufacture
        seen.add(int(row[0]))
        out.append(PackFact(int(row[0]), row[1], int(row[2]), orjson.loads(row[3])))
    return out


_SOLD_LINKS = (
    "SELECT l.child_id, l.valid_from, l.valid_to, v.market, v.market_time FROM link l "
    "JOIN unit v ON v.id = l.parent_id "
    "WHERE l.kind = 1 AND v.vin IS NOT NULL AND v.market IS NOT NULL AND v.market_time IS NOT NULL "
)


def _first_sale(rows: Any) -> dict[int, tuple[int, str]]:
    """Per child unit, the first instant it sat in a sold vehicle, and that vehicle's market."""
    out: dict[int, tuple[int, str]] = {}
    for child, valid_from, valid_to, market, market_time in rows:
        if int(valid_to) <= int(market_time) and int(valid_to) < FOREVER:
            continue  # removed before the vehicle was sold
        at = max(int(valid_from), int(market_time))
        if int(child) not in out or at < out[int(child)][0]:
            out[int(child)] = (at, str(market))
    return out


def service_starts(conn: Connection, unit_ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    """``{unit_id: (µs, market)}``: when each unit was first in a vehicle that had been sold."""
    out: dict[int, tuple[int, str]] = {}
    for start in range(0, len(unit_ids), 900):
        chunk = ",".join(str(int(u)) for u in unit_ids[start : start + 900])
        out.update(_first_sale(conn.execute(text(_SOLD_LINKS + f"AND l.child_id IN ({chunk})"))))
    return out


@dataclass(frozen=True, slots=True)
class Placement:
    """A passport's battery first made available in ``country`` at ``at`` (UTC µs)."""

    passport_pk: int
    model_key: str
    mass_kg: float
    country: str
    at: int


def placed_on_market(conn: Connection, model_keys: Sequence[str]) -> list[Placement]:
    """First placements of the original passports' batteries of ``model_keys`` (second-life passports
    are not placed on the market again by the original producer)."""
    if not model_keys:
        return []
    rows = conn.execute(
        text(
            "SELECT p.id, p.unit_id, m.key, m.mass_kg FROM passport p JOIN passport_model m ON m.id = p.model_id "
            "WHERE p.predecessor_id IS NULL AND p.unit_id IS NOT NULL AND m.key IN :keys"
        ).bindparams(_expanding("keys")),
        {"keys": list(model_keys)},
    ).all()
    starts = service_starts(conn, [int(r[1]) for r in rows])
    out: list[Placement] = []
    for pk, unit_id, key, mass in rows:
        found = starts.get(int(unit_id))
        if found is not None:
            out.append(Placement(int(pk), str(key), float(mass), found[1], found[0]))
    return out


def _expanding(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def collections(conn: Connection) -> list[tuple[int, str, float, int, str | None, str | None]]:
    """Every collection of a passport's battery: ``(passport_pk, model_key, mass_kg, event_time, location,
    location_country)``; the time is the collecting event's."""
    rows = conn.execute(
        text(
            "SELECT v.passport_pk, m.key, m.mass_kg, e.event_time, v.location, ve.country "
            "FROM passport_version v JOIN passport p ON p.id = v.passport_pk "
            "JOIN passport_model m ON m.id = p.model_id "
            "JOIN epcis_event e ON e.event_id = v.event_id "
            "LEFT JOIN vocabulary_element ve ON ve.key = v.location "
            "AND ve.vocabulary_type = 'urn:epcglobal:epcis:vtype:BusinessLocation' "
            "WHERE v.reason = 'collected'"
        )
    )
    seen: dict[int, tuple[int, str, float, int, str | None, str | None]] = {}
    for pk, key, mass, at, location, country in rows:
        seen[int(pk)] = (int(pk), str(key), float(mass), int(at), location, country)  # one per battery
    return list(seen.values())


def recycling_events(conn: Connection, biz_step: str) -> list[tuple[int, dict[str, Any], str | None, str | None]]:
    """Recycling TransformationEvents: ``(event_time, doc, biz_location, location_country)``."""
    rows = conn.execute(
        text(
            "SELECT e.event_time, e.doc, e.biz_location, ve.country FROM epcis_event e "
            "LEFT JOIN vocabulary_element ve ON ve.key = e.biz_location "
            "AND ve.vocabulary_type = 'urn:epcglobal:epcis:vtype:BusinessLocation' "
            "WHERE e.event_type = 'TransformationEvent' AND e.biz_step = :step ORDER BY e.event_time"
        ),
        {"step": biz_step},
    )
    out: dict[tuple[int, str], tuple[int, dict[str, Any], str | None, str | None]] = {}
    for at, doc, location, country in rows:
        out[(int(at), str(doc))] = (int(at), orjson.loads(doc), location, country)  # master data versions
    return list(out.values())


def unit_ids_for_keys(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    """``{canonical key: unit id}`` for the keys that are known."""
    if not keys:
        return {}
    rows = conn.execute(text("SELECT key, id FROM unit WHERE key IN :keys").bindparams(_expanding("keys")),
                        {"keys": list(keys)})
    return {str(k): int(i) for k, i in rows}


def model_of_passports(conn: Connection, unit_ids: Sequence[int]) -> dict[int, tuple[str, float, str]]:
    """``{unit_id: (model_key, mass_kg, materials JSON)}`` of each unit's first passport with a model."""
    if not unit_ids:
        return {}
    rows = conn.execute(
        text(
            "SELECT p.unit_id, m.key, m.mass_kg, m.materials FROM passport p "
            "JOIN passport_model m ON m.id = p.model_id WHERE p.unit_id IN :ids ORDER BY p.id DESC"
        ).bindparams(_expanding("ids")),
        {"ids": list(unit_ids)},
    )
    return {int(u): (str(k), float(mass), str(mat)) for u, k, mass, mat in rows}


def location_countries(conn: Connection) -> dict[str, tuple[str | None, str | None, str | None]]:
    """``{location key: (name, country, site role)}`` from the captured master data (latest version)."""
    out: dict[str, tuple[str | None, str | None, str | None]] = {}
    rows = conn.execute(
        text(
            "SELECT key, name, country, attributes FROM vocabulary_element "
            "WHERE vocabulary_type = 'urn:epcglobal:epcis:vtype:BusinessLocation' ORDER BY version"
        )
    )
    for key, name, country, attributes in rows:
        attrs = orjson.loads(attributes)
        role = attrs.get("https://roadpass.dev/ns/epcis/siteRole")
        label = name or attrs.get("urn:epcglobal:cbv:mda#name")
        out[str(key)] = (label, country or attrs.get("urn:epcglobal:cbv:mda#countryCode"), role)
    return out
