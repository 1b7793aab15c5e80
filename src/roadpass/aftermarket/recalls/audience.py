"""Who sees which of a campaign's vehicles: the one rule every front end goes through.

* the manufacturer that opened the campaign, and a party that owns a unit in scope (the supplier of the
  lot), see every vehicle: a recall needs its whole reach (as where-used answers the owner of a lot);
* a dealer or repairer sees the vehicles of its own market only (49 CFR 573.6(c)(8)(ii) and 577.7 ask for
  notices to dealers; a dealer acts on the vehicles it can serve — its market is its country);
* an authority sees the vehicles of the markets of its mandate;
* anyone else sees nothing (the campaign is answered as if it did not exist).
"""

from __future__ import annotations

from roadpass.aftermarket.recalls.model import Campaign, Viewer

__all__ = ["NOTIFIED_ROLES", "visible_markets"]

#: Roles a campaign's notice goes to, per market.
NOTIFIED_ROLES = ("dealer", "repairer")


def visible_markets(viewer: Viewer, campaign: Campaign) -> frozenset[str] | None:
    """The markets whose vehicles ``viewer`` sees in ``campaign``: None for all of them."""
    vis = viewer.visibility
    if vis is None or (viewer.party_key is not None and viewer.party_key == campaign.owner):
        return None
    scope = campaign.draft.scope
    if any(vis.sees_unit(key) for key in (*scope.lots, *scope.units)):
        return None
    if viewer.role in NOTIFIED_ROLES and viewer.country:
        return frozenset({viewer.country})
    return frozenset(vis.markets)
