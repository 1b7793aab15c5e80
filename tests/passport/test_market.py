"""Putting into service and placing on the market, from containments in sold vehicles (pure)."""

from __future__ import annotations

from roadpass.passport.market import first_sale, placements
from roadpass.passport.records import OriginalPassport, Placement, SoldLink
from roadpass.trace.timeutil import FOREVER


def test_first_sale_is_the_first_instant_in_a_sold_vehicle_and_that_vehicles_market() -> None:
    links = [
        SoldLink(1, valid_from=100, valid_to=FOREVER, market="DE", market_time=500),  # fitted before the sale
        SoldLink(2, valid_from=700, valid_to=FOREVER, market="NL", market_time=500),  # fitted after (a repair)
        SoldLink(3, valid_from=100, valid_to=400, market="FR", market_time=500),  # out before the sale
        SoldLink(3, valid_from=450, valid_to=FOREVER, market="BE", market_time=900),
        SoldLink(4, valid_from=100, valid_to=500, market="ES", market_time=500),  # out at the very sale
    ]
    assert first_sale(links) == {1: (500, "DE"), 2: (700, "NL"), 3: (900, "BE")}


def test_the_earliest_of_several_vehicles_wins() -> None:
    links = [SoldLink(7, 100, FOREVER, "DE", 800), SoldLink(7, 100, 600, "NL", 300)]
    assert first_sale(links) == {7: (300, "NL")}


def test_placements_are_the_original_passports_whose_battery_was_sold() -> None:
    originals = [OriginalPassport(10, 1, "LX-PACK", 400.0), OriginalPassport(11, 2, "LX-PACK", 400.0)]
    assert placements(originals, {1: (500, "DE")}) == [Placement(10, "LX-PACK", 400.0, "DE", 500)]
