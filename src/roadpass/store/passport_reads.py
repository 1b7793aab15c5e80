"""Read-only SQL over the trace record that issuing and producer responsibility share (no writes here).

* :func:`pack_facts`: battery units of a GTIN with their commissioning event (ILMD) and no passport yet;
* :func:`sold_links`: units' containments in sold vehicles, from which the domain decides when each battery
  was put into service and placed on the market (:mod:`roadpass.passport.market`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, text

from roadpass.passport.records import PackFact, SoldLink

__all__ = ["pack_facts", "sold_links"]

_COMMISSIONING = "https://ref.gs1.org/cbv/BizStep-commissioning"


def pack_facts(conn: Connection, gtin: str, *, unit_ids: Sequence[int] | None) -> list[PackFact]:
    """Units whose key is ``https://id.gs1.org/01/<gtin>/21/...`` and that have no passport yet, with their
    commissioning ObjectEvent (of ``unit_ids`` only, when given)."""
    sql = (
        "SELECT u.id, u.key, e.event_time, e.doc FROM unit u "
        "JOIN event_epc x ON x.unit_id = u.id AND x.role = 1 "
        "JOIN epcis_event e ON e.id = x.event_pk AND e.biz_step = :step AND e.action = 'ADD' "
        "WHERE u.key LIKE :prefix AND NOT EXISTS (SELECT 1 FROM passport p WHERE p.unit_id = u.id)"
    )
    params: dict[str, Any] = {"step": _COMMISSIONING, "prefix": f"https://id.gs1.org/01/{gtin}/21/%"}
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


def sold_links(conn: Connection, unit_ids: Sequence[int]) -> list[SoldLink]:
    """The units' containment links into vehicles that have a market and a time of sale."""
    out: list[SoldLink] = []
    for start in range(0, len(unit_ids), 900):
        chunk = ",".join(str(int(u)) for u in unit_ids[start : start + 900])
        rows = conn.execute(text(_SOLD_LINKS + f"AND l.child_id IN ({chunk})"))
        out.extend(SoldLink(int(c), int(f), int(t), str(m), int(mt)) for c, f, t, m, mt in rows)
    return out
