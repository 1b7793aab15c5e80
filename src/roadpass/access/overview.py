"""What a signed-in party must act on (the home page's figures), each taken inside the party's own scope:
its GS1 keys, its sites, what was shared with it, its mandate — never across the whole node.

Which figures a role gets is decided here; the store only counts (:class:`roadpass.access.ports.AccessRecords`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from roadpass.access.model import Principal
from roadpass.access.ownership import actor_prefix
from roadpass.access.ports import AccessRecords, Tally

__all__ = ["Overview", "overview"]

_DAY_US = 86_400_000_000
#: Shares and API keys ending within this many days are flagged for renewal.
RENEW_DAYS = 30
#: Denied requests of the party's people are shown for this many days.
DENIALS_DAYS = 7
_SAMPLE = 5  # examples of the party's own vehicles and lots
_SHOWN = 8  # examples of shared vehicles and of vehicles on an authority's markets
_SHARED_LOOKUP = 500  # shared units whose VINs are looked up


@dataclass(slots=True)
class Overview:
    """The figures of one principal's home page; None (or zero) where a figure is not the principal's."""

    shares_ending: int = 0
    denied: int = 0
    parties_by_role: dict[str, int] | None = None
    keys_expiring: int = 0
    markets: list[str] = field(default_factory=list)
    on_markets: Tally | None = None
    vehicles: Tally | None = None
    lots: Tally | None = None
    shared: Tally | None = None
    site_events: int = 0


def overview(records: AccessRecords, principal: Principal, now: int) -> Overview:
    """The figures ``principal`` sees at ``now``: its party's shares and denials, the node's parties and
    expiring keys for the operator, an authority's markets, its own vehicles and lots, what was shared with
    it, the events at its sites."""
    out = Overview()
    party = principal.party
    if party is not None:
        out.shares_ending = sum(
            1 for s in records.shares(party_id=party.id) if s.active(now) and s.valid_until < now + RENEW_DAYS * _DAY_US
        )
        out.denied = records.denials_since(actor_prefix(party.key), now - DENIALS_DAYS * _DAY_US)
    if principal.role == "operator" or principal.via == "open":
        by_role: dict[str, int] = {}
        for p in records.parties():
            by_role[p.role] = by_role.get(p.role, 0) + 1
        out.parties_by_role = by_role
        out.keys_expiring = records.keys_expiring(now, now + RENEW_DAYS * _DAY_US)
    vis = principal.visibility
    if vis is None:
        return out
    if principal.role == "authority" and vis.markets:
        out.markets = sorted(vis.markets)
        out.on_markets = records.vehicles_on_markets(out.markets, _SHOWN)
    # A party's own vehicles and lots carry GIAI (AI 8004) or GTIN (AI 01) keys under its company prefix.
    owned = tuple(p for p in vis.unit_prefixes if "/8004/" in p or "/01/" in p)
    out.vehicles = records.vehicles_under(owned, _SAMPLE)
    out.lots = records.lots_under(owned, _SAMPLE)
    if vis.unit_keys:
        vins = records.vins_of(sorted(vis.unit_keys)[:_SHARED_LOOKUP])
        out.shared = Tally(len(vis.unit_keys), vins[:_SHOWN])
    if vis.location_prefixes:
        out.site_events = records.events_at(vis.location_prefixes)
    return out
