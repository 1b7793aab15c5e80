"""DB-free: attribution rules over a fake genealogy (unit → vehicle at an instant, battery data → pack)."""

from __future__ import annotations

from roadpass.telematics.attribution import Attributor, is_battery_signal, pack_by_gtin
from roadpass.telematics.ports import Holding, SampleRow, Subject
from roadpass.telematics.rollup import bucket, rollup_deltas
from roadpass.telematics.vss import Refusal

UNIT, CAR_A, CAR_B = Subject(1, "u"), Subject(10, "a"), Subject(11, "b")
PACK_1, PACK_2 = Subject(20, "p1"), Subject(21, "p2")


class FakeGenealogy:
    def __init__(self) -> None:
        self.asked = 0

    def unit_holders(self, key: str) -> tuple[Subject, list[Holding]] | None:
        self.asked += 1
        if key != "u":
            return None
        return UNIT, [Holding(CAR_A, 0, 100), Holding(CAR_B, 100, 2**62)]

    def pack_at(self, vehicle_key: str, ts: int) -> Holding | None:
        self.asked += 1
        if vehicle_key == "a":
            return Holding(PACK_1, 0, 50_000_000) if ts < 50_000_000 else None
        return Holding(PACK_1, 100, 2**62)


def test_unit_reports_for_the_vehicle_it_is_in_at_the_instant() -> None:
    who = Attributor(FakeGenealogy())
    assert who.vehicle_of("u", 99) == (UNIT, CAR_A)
    assert who.vehicle_of("u", 100) == (UNIT, CAR_B)
    assert isinstance(who.vehicle_of("nobody", 5), Refusal)
    assert who.vehicle_of("nobody", 5).reason == "unknown_unit"  # type: ignore[union-attr]


def test_pack_follows_into_another_vehicle_and_gaps_are_refused() -> None:
    who = Attributor(FakeGenealogy())
    assert who.pack_of(CAR_A, 10) == PACK_1
    assert who.pack_of(CAR_B, 10**9) == PACK_1
    gap = who.pack_of(CAR_A, 60_000_000)
    assert isinstance(gap, Refusal) and gap.reason == "no_pack"


def test_answers_are_cached_until_forgotten() -> None:
    genealogy = FakeGenealogy()
    who = Attributor(genealogy)
    for ts in range(0, 40_000_000, 1_000_000):
        who.vehicle_of("u", 5)
        who.pack_of(CAR_A, ts)
    assert genealogy.asked == 2
    who.forget()
    who.vehicle_of("u", 5)
    assert genealogy.asked == 3


def test_battery_branch_and_pack_gtins() -> None:
    assert is_battery_signal("Vehicle.Powertrain.TractionBattery.StateOfHealth")
    assert not is_battery_signal("Vehicle.Speed")
    is_pack = pack_by_gtin(lambda: ["6944120000318"])
    assert is_pack("https://id.gs1.org/01/06944120000318/21/9")
    assert not is_pack("https://id.gs1.org/01/06944120000319/21/9")


def test_rollups_add_numbers_per_bucket() -> None:
    hour = 3600
    rows = [SampleRow(1, 2, bucket(5, hour) + i * 1_000_000, float(i), None, 9, 0) for i in range(3)]
    rows.append(SampleRow(1, 3, 0, None, "text", 9, 0))
    (delta,) = rollup_deltas(rows, [hour])
    assert (delta.samples, delta.total, delta.low, delta.high) == (3, 3.0, 0.0, 2.0)
