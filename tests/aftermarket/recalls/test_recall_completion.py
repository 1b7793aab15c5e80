"""The pure recall rules: reach (ever and now), remedy completion, completion by market and over time."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given
from hypothesis import strategies as st

from roadpass.aftermarket.recalls.completion import (
    affected_vehicles,
    completion_by_market,
    completion_curve,
    opened_on,
    overdue_markets,
    remedy_complete,
    vehicle_states,
)
from roadpass.aftermarket.recalls.model import (
    AffectedVehicle,
    Campaign,
    CampaignDraft,
    Defect,
    Remedy,
    RemedyState,
    Scope,
    ServiceEvidence,
    VehicleState,
)
from roadpass.trace.genealogy import Span, WhereUsedHit
from roadpass.trace.timeutil import FOREVER, to_us

PACK = "https://id.gs1.org/01/04012345000016/21/1"
NEW_PACK = "https://id.gs1.org/01/04012345000016/21/900"
OTHER = "https://id.gs1.org/01/04099999000012/21/5"
REMEDY = Remedy("replace the pack", parts=("04012345000016",), operations=("HV-1",))


def us(day: str) -> int:
    return to_us(datetime.fromisoformat(day).replace(tzinfo=UTC))


def hit(vin: str, market: str | None, end: int, via: str = PACK) -> WhereUsedHit:
    return WhereUsedHit(f"urn:vehicle:{vin}", vin, market, (Span(us("2025-01-01"), end),), (via,))


def test_a_moved_pack_moves_the_recall_and_the_vehicle_it_left_is_told() -> None:
    moved_at = us("2026-01-01")
    hits = [hit("VIN00000000000001", "DE", moved_at), hit("VIN00000000000002", "FR", FOREVER),
            WhereUsedHit("https://id.gs1.org/00/1", None, None, (Span(0, FOREVER),), ())]
    found = affected_vehicles(hits)
    assert [(v.vin, v.carries_now) for v in found] == [("VIN00000000000001", False), ("VIN00000000000002", True)]
    states = vehicle_states(REMEDY, found, [])
    assert [s.state for s in states] == [RemedyState.NO_LONGER_FITTED, RemedyState.OPEN]


def test_one_vehicle_reached_by_two_units_is_one_vehicle() -> None:
    found = affected_vehicles([hit("VIN00000000000001", "DE", us("2025-06-01")),
                               hit("VIN00000000000001", "DE", FOREVER, via=OTHER)])
    assert len(found) == 1 and found[0].carries_now and found[0].via == tuple(sorted((PACK, OTHER)))


def test_a_remedy_is_complete_only_when_every_remedy_part_was_fitted() -> None:
    assert remedy_complete(REMEDY, ["urn:epc:id:sgtin:4012345.000001.900"])
    assert remedy_complete(REMEDY, [NEW_PACK])
    assert not remedy_complete(REMEDY, [OTHER])
    assert not remedy_complete(REMEDY, [])
    assert remedy_complete(Remedy("reflash", operations=("SW-1",)), [])


def test_the_earliest_complete_record_completes_the_vehicle() -> None:
    vehicle = AffectedVehicle("VIN00000000000001", "urn:v:1", "DE", True, (PACK,))
    evidence = [ServiceEvidence("late", vehicle.vin, us("2026-03-01"), (NEW_PACK,)),
                ServiceEvidence("wrong-part", vehicle.vin, us("2026-01-01"), (OTHER,)),
                ServiceEvidence("early", vehicle.vin, us("2026-02-01"), (NEW_PACK,))]
    [state] = vehicle_states(REMEDY, [vehicle], evidence)
    assert (state.state, state.record_key, state.remedied_at) == (RemedyState.REMEDIED, "early", us("2026-02-01"))


def test_completion_by_market_counts_remedied_over_affected() -> None:
    states = [VehicleState("A", "DE", RemedyState.REMEDIED, us("2026-02-01")),
              VehicleState("B", "DE", RemedyState.OPEN), VehicleState("C", "FR", RemedyState.NO_LONGER_FITTED),
              VehicleState("D", "FR", RemedyState.OPEN)]
    by = completion_by_market(states)
    assert list(by) == ["DE", "FR"]
    assert (by["DE"].affected, by["DE"].remedied, by["DE"].rate) == (2, 1, 0.5)
    assert (by["FR"].affected, by["FR"].no_longer_fitted, by["FR"].rate) == (1, 1, 0.0)
    assert completion_by_market(states, until=us("2026-01-01"))["DE"].remedied == 0


def _campaign(**dates: str) -> Campaign:
    draft = CampaignDraft("RC-1", "t", "m", Defect("d", "r"), REMEDY, Scope(lots=("x",)), dict(dates),
                          {"MX": "2027-03-31"})
    return Campaign(1, draft, "maker", us("2026-10-01"), "test")


def test_overdue_markets_are_past_due_with_open_vehicles() -> None:
    states = [VehicleState("A", "DE", RemedyState.OPEN), VehicleState("B", "MX", RemedyState.OPEN),
              VehicleState("C", "FR", RemedyState.REMEDIED, us("2026-10-02"))]
    overdue = overdue_markets(_campaign(remedyDueOn="2026-11-30"), completion_by_market(states), date(2026, 12, 6))
    assert [o.market for o in overdue] == ["DE"]
    assert overdue_markets(_campaign(), completion_by_market(states), date(2026, 12, 6)) == []


def test_a_campaign_opens_on_its_first_notice() -> None:
    assert opened_on(_campaign(dealerNoticeOn="2026-09-01")) == date(2026, 9, 1)
    assert opened_on(_campaign()) == date(2026, 10, 1)


@given(st.lists(st.tuples(st.sampled_from(["DE", "FR", "MX"]), st.integers(0, 120) | st.none()), max_size=40))
def test_the_curve_rises_to_the_completion_of_today(rows: list[tuple[str, int | None]]) -> None:
    start = date(2026, 9, 1)
    states = [VehicleState(f"V{i}", market, RemedyState.OPEN if day is None else RemedyState.REMEDIED,
                           None if day is None else us("2026-09-01") + day * 86_400_000_000)
              for i, (market, day) in enumerate(rows)]
    curve = completion_curve(states, start=start, end=date(2026, 12, 31))
    totals = completion_by_market(states)
    assert set(curve) == set(totals)
    for market, points in curve.items():
        counts = [p.remedied for p in points]
        assert counts == sorted(counts)
        assert counts[-1] == totals[market].remedied
        assert points[-1].day == "2026-12-31"
