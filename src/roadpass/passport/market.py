"""When a battery is placed on the market and put into service, from its containment in sold vehicles.

A traction battery is made available on the market when the vehicle it sits in is (Reg. (EU) 2023/1542
Art. 3(1)(47)): the first instant the battery is inside a vehicle that has been sold, and that vehicle's
market, is both its putting into service (Annex XIII (1)(f)) and, for an original passport, where the
producer placed it on the market (Art. 75 reports).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from roadpass.passport.records import OriginalPassport, Placement, SoldLink
from roadpass.trace.timeutil import FOREVER

__all__ = ["first_sale", "placements"]


def first_sale(links: Iterable[SoldLink]) -> dict[int, tuple[int, str]]:
    """``{unit_id: (µs, market)}``: per unit, the first instant it sat in a sold vehicle, and that
    vehicle's market. A containment that ended before the vehicle was sold does not count."""
    out: dict[int, tuple[int, str]] = {}
    for link in links:
        if link.valid_to <= link.market_time and link.valid_to < FOREVER:
            continue  # removed before the vehicle was sold
        at = max(link.valid_from, link.market_time)
        if link.unit_id not in out or at < out[link.unit_id][0]:
            out[link.unit_id] = (at, link.market)
    return out


def placements(originals: Iterable[OriginalPassport], starts: Mapping[int, tuple[int, str]]) -> list[Placement]:
    """The first placement of each original passport's battery that has been in a sold vehicle
    (second-life passports are not placed on the market again by the original producer)."""
    out: list[Placement] = []
    for original in originals:
        found = starts.get(original.unit_id)
        if found is not None:
            out.append(Placement(original.passport_pk, original.model_key, original.mass_kg, found[1], found[0]))
    return out
