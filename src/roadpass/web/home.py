"""The home page per role: what the signed-in party must act on, and where to start searching.

Every figure is taken inside the party's own scope (its GS1 keys, its sites, what was shared with it,
its mandate), never across the whole node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, text

from roadpass.access.model import Principal
from roadpass.access.ownership import actor_prefix
from roadpass.bootstrap import Roadpass
from roadpass.store import access_shares as shares_store
from roadpass.store.access import now_us, parties

__all__ = ["ActionItem", "home_context"]

_DAY_US = 86_400_000_000


@dataclass(slots=True)
class ActionItem:
    """One thing to look at: a headline, a count, where to go, and a few examples."""

    title: str
    count: int
    href: str = ""
    detail: str = ""
    examples: list[tuple[str, str]] = field(default_factory=list)  # (label, href)
    urgent: bool = False


def _range_count(conn: Connection, sql: str, prefixes: tuple[str, ...], **extra: Any) -> int:
    total = 0
    for prefix in prefixes:
        total += int(conn.execute(text(sql), {"lo": prefix, "hi": prefix + "\uffff", **extra}).scalar() or 0)
    return total


def _first(conn: Connection, sql: str, prefixes: tuple[str, ...], n: int) -> list[str]:
    out: list[str] = []
    for prefix in prefixes:
        out += [str(v) for v in conn.execute(text(sql), {"lo": prefix, "hi": prefix + "\uffff", "n": n}).scalars()]
        if len(out) >= n:
            break
    return out[:n]


def _owner_items(conn: Connection, principal: Principal, items: list[ActionItem], samples: dict[str, str]) -> None:
    vis = principal.visibility
    if vis is None:
        return
    owned = tuple(p for p in vis.unit_prefixes if "/8004/" in p or "/01/" in p)
    vehicles = _range_count(conn, "SELECT COUNT(*) FROM unit WHERE vin IS NOT NULL AND key >= :lo AND key < :hi",
                            owned)
    if vehicles:
        vins = _first(conn, "SELECT vin FROM unit WHERE vin IS NOT NULL AND key >= :lo AND key < :hi "
                            "ORDER BY key LIMIT :n", owned, 5)
        samples.setdefault("vin", vins[0])
        items.append(ActionItem("Your vehicles", vehicles, f"/ui/trace?q={vins[0]}",
                                "built under your company prefix: open one for its as-built tree and events",
                                [(v, f"/ui/trace?q={v}") for v in vins]))
    lots = _range_count(conn, "SELECT COUNT(*) FROM unit WHERE kind = 2 AND key >= :lo AND key < :hi", owned)
    if lots:
        keys = _first(conn, "SELECT key FROM unit WHERE kind = 2 AND key >= :lo AND key < :hi ORDER BY key LIMIT :n",
                      owned, 5)
        samples.setdefault("lot", keys[0])
        items.append(ActionItem("Your lots: where are they used?", lots, f"/ui/where-used?q={keys[0]}",
                                "run where-used on a lot to see every vehicle that carries it, by market",
                                [(k.rsplit("/", 1)[-1], f"/ui/where-used?q={k}") for k in keys]))


def _shared_items(conn: Connection, principal: Principal, items: list[ActionItem], samples: dict[str, str]) -> None:
    vis = principal.visibility
    if vis is None or not vis.unit_keys:
        return
    keys = sorted(vis.unit_keys)[:500]
    rows = conn.execute(
        text("SELECT key, vin FROM unit WHERE key IN :keys ORDER BY key").bindparams(bindparam("keys", expanding=True)),
        {"keys": keys},
    ).all()
    vins = [str(r.vin) for r in rows if r.vin]
    if vins:
        samples.setdefault("vin", vins[0])
    items.append(ActionItem("Shared with you", len(vis.unit_keys), f"/ui/trace?q={vins[0]}" if vins else "",
                            "units other parties shared with you, each for a purpose and until a date",
                            [(v, f"/ui/trace?q={v}") for v in vins[:8]]))


def _authority_items(conn: Connection, principal: Principal, items: list[ActionItem], samples: dict[str, str]) -> None:
    vis = principal.visibility
    if vis is None or not vis.markets:
        return
    markets = sorted(vis.markets)
    query = text("SELECT vin FROM unit WHERE vin IS NOT NULL AND market IN :m ORDER BY key").bindparams(
        bindparam("m", expanding=True)
    )
    vins = [str(v) for v in conn.execute(query, {"m": markets}).scalars()]
    if vins:
        samples.setdefault("vin", vins[0])
    items.append(ActionItem(f"Vehicles on your market{'s' if len(markets) > 1 else ''} ({', '.join(markets)})",
                            len(vins), f"/ui/trace?q={vins[0]}" if vins else "",
                            "vehicles sold or registered where you hold a mandate",
                            [(v, f"/ui/trace?q={v}") for v in vins[:8]]))


def _site_items(conn: Connection, principal: Principal, items: list[ActionItem]) -> None:
    vis = principal.visibility
    if vis is None or not vis.location_prefixes:
        return
    n = _range_count(conn, "SELECT COUNT(*) FROM epcis_event WHERE biz_location >= :lo AND biz_location < :hi",
                     vis.location_prefixes)
    if n:
        items.append(ActionItem("Events at your sites", n, "",
                                "recorded at your own locations (your GLNs); GET /events lists them"))


def _common_items(conn: Connection, principal: Principal, items: list[ActionItem]) -> None:
    party = principal.party
    if party is None:
        return
    now = now_us()
    soon = [s for s in shares_store.list_shares(conn, party_id=party.id)
            if s.active(now) and s.valid_until < now + 30 * _DAY_US]
    if soon:
        items.append(ActionItem("Shares ending within 30 days", len(soon), "/ui/account",
                                "renew them if the purpose still holds", urgent=True))
    denied = int(conn.execute(
        text("SELECT COUNT(*) FROM access_denial WHERE actor >= :lo AND actor < :hi AND at > :since"),
        {"lo": actor_prefix(party.key), "hi": actor_prefix(party.key) + "\uffff", "since": now - 7 * _DAY_US},
    ).scalar() or 0)
    if denied:
        items.append(ActionItem("Requests of your people refused in the last 7 days", denied,
                                f"/ui/ledger?party={party.key}", "each is in the ledger", urgent=True))


def _operator_items(conn: Connection, items: list[ActionItem]) -> None:
    everyone = parties(conn)
    by_role: dict[str, int] = {}
    for p in everyone:
        by_role[p.role] = by_role.get(p.role, 0) + 1
    items.append(ActionItem("Parties on this node", len(everyone), "/ui/account",
                            ", ".join(f"{n} {r}" for r, n in sorted(by_role.items()))))
    soon = int(conn.execute(
        text("SELECT COUNT(*) FROM api_key WHERE revoked_at IS NULL AND expires_at < :t AND expires_at > :now"),
        {"t": now_us() + 30 * _DAY_US, "now": now_us()},
    ).scalar() or 0)
    if soon:
        items.append(ActionItem("API keys expiring within 30 days", soon, "/ui/account", urgent=True))


def home_context(rp: Roadpass, principal: Principal) -> dict[str, Any]:
    """What the home page shows ``principal``."""
    if not principal.signed_in and principal.via != "open":
        return {"landing": True, "items": [], "samples": {}}
    items: list[ActionItem] = []
    samples: dict[str, str] = {}
    with rp.uow.read() as conn:
        _common_items(conn, principal, items)
        role = principal.role
        if role == "operator" or principal.via == "open":
            _operator_items(conn, items)
        if role == "authority":
            _authority_items(conn, principal, items, samples)
        _owner_items(conn, principal, items, samples)
        _shared_items(conn, principal, items, samples)
        _site_items(conn, principal, items)
        compliance = None
        if role in ("manufacturer", "supplier", "importer", "lab", "authority"):
            compliance = "/ui/compliance"
    return {"landing": False, "items": items, "samples": samples, "compliance": compliance,
            "demo": rp.settings.environment == "development" and (role == "operator" or principal.via == "open")}
