"""The home page per role: what the signed-in party must act on, and where to start searching.

The figures come from :meth:`roadpass.access.service.AccessService.overview` (each inside the party's own
scope); this module only turns them into cards with headlines and links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from roadpass.access.model import Principal
from roadpass.access.overview import DENIALS_DAYS, RENEW_DAYS, Overview
from roadpass.bootstrap import Roadpass

__all__ = ["ActionItem", "home_context"]

# Roles whose home page links to the compliance heat map (the operator has its own start page).
_COMPLIANCE_ROLES = frozenset({"manufacturer", "supplier", "importer", "lab", "authority"})


@dataclass(slots=True)
class ActionItem:
    """One thing to look at: a headline, a count, where to go, and a few examples."""

    title: str
    count: int
    href: str = ""
    detail: str = ""
    examples: list[tuple[str, str]] = field(default_factory=list)  # (label, href)
    urgent: bool = False


def _trace(vin: str) -> str:
    return f"/ui/trace?q={vin}"


def _account_items(figures: Overview, principal: Principal) -> list[ActionItem]:
    items: list[ActionItem] = []
    if figures.shares_ending:
        items.append(ActionItem(f"Shares ending within {RENEW_DAYS} days", figures.shares_ending, "/ui/account",
                                "renew them if the purpose still holds", urgent=True))
    if figures.denied and principal.party is not None:
        items.append(ActionItem(f"Requests of your people refused in the last {DENIALS_DAYS} days", figures.denied,
                                f"/ui/ledger?party={principal.party.key}", "each is in the ledger", urgent=True))
    if figures.parties_by_role is not None:
        by_role = figures.parties_by_role
        items.append(ActionItem("Parties on this node", sum(by_role.values()), "/ui/account",
                                ", ".join(f"{n} {r}" for r, n in sorted(by_role.items()))))
        if figures.keys_expiring:
            items.append(ActionItem(f"API keys expiring within {RENEW_DAYS} days", figures.keys_expiring,
                                    "/ui/account", urgent=True))
    return items


def _unit_items(figures: Overview, samples: dict[str, str]) -> list[ActionItem]:
    items: list[ActionItem] = []
    if figures.on_markets is not None:
        vins, markets = figures.on_markets.sample, figures.markets
        items.append(ActionItem(f"Vehicles on your market{'s' if len(markets) > 1 else ''} ({', '.join(markets)})",
                                figures.on_markets.count, _trace(vins[0]) if vins else "",
                                "vehicles sold or registered where you hold a mandate",
                                [(v, _trace(v)) for v in vins]))
    if figures.vehicles is not None and figures.vehicles.count:
        vins = figures.vehicles.sample
        items.append(ActionItem("Your vehicles", figures.vehicles.count, _trace(vins[0]),
                                "built under your company prefix: open one for its as-built tree and events",
                                [(v, _trace(v)) for v in vins]))
    if figures.lots is not None and figures.lots.count:
        keys = figures.lots.sample
        samples["lot"] = keys[0]
        items.append(ActionItem("Your lots: where are they used?", figures.lots.count, f"/ui/where-used?q={keys[0]}",
                                "run where-used on a lot to see every vehicle that carries it, by market",
                                [(k.rsplit("/", 1)[-1], f"/ui/where-used?q={k}") for k in keys]))
    if figures.shared is not None:
        vins = figures.shared.sample
        items.append(ActionItem("Shared with you", figures.shared.count, _trace(vins[0]) if vins else "",
                                "units other parties shared with you, each for a purpose and until a date",
                                [(v, _trace(v)) for v in vins]))
    if figures.site_events:
        items.append(ActionItem("Events at your sites", figures.site_events, "",
                                "recorded at your own locations (your GLNs); GET /events lists them"))
    for tally in (figures.on_markets, figures.vehicles, figures.shared):
        if tally is not None and tally.sample:
            samples.setdefault("vin", tally.sample[0])
    return items


def home_context(rp: Roadpass, principal: Principal) -> dict[str, Any]:
    """What the home page shows ``principal``."""
    if not principal.signed_in and principal.via != "open":
        return {"landing": True, "items": [], "samples": {}}
    figures = rp.access.overview(principal)
    samples: dict[str, str] = {}
    items = _account_items(figures, principal) + _unit_items(figures, samples)
    role = principal.role
    return {"landing": False, "items": items, "samples": samples,
            "compliance": "/ui/compliance" if role in _COMPLIANCE_ROLES else None,
            "demo": rp.settings.environment == "development" and (role == "operator" or principal.via == "open")}
