"""State of health per DIN DKE SPEC 99100: formulas, invariants (hypothesis), passport updates."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.passport import health
from roadpass.passport.domain import BatteryCategory, BatteryPassport
from roadpass.passport.health import (
    BeginningOfLife,
    HealthInputError,
    Measurement,
    NegativeEvent,
    NegativeEventKind,
)
from roadpass.passport.schemas import validate_section

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1)))
positive = st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False)
fraction = st.floats(min_value=0.0, max_value=1.0)
soc = st.floats(min_value=0.0, max_value=100.0)


def test_formulas() -> None:
    assert health.soce(72.0, 80.0) == pytest.approx(90.0)
    assert health.capacity_fade(45.0, 50.0) == pytest.approx(10.0)
    assert health.power_fade(90_000.0, 100_000.0) == pytest.approx(10.0)
    assert health.resistance_increase(1.25e-3, 1.0e-3) == pytest.approx(25.0)
    assert health.round_trip_efficiency_fade(85.5, 95.0) == pytest.approx(10.0)
    assert health.equivalent_full_cycles_from_soc([0, 100, 0]) == pytest.approx(1.0)
    assert health.equivalent_full_cycles_from_soc([50, 30, 50, 30, 50]) == pytest.approx(0.4)
    assert health.equivalent_full_cycles_from_throughput(200.0, 50.0) == pytest.approx(2.0)
    assert health.equivalent_full_cycles_from_throughput(100.0, 50.0, charge_and_discharge=False) == 2.0


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: health.capacity_fade(10.0, 0.0), "capacity_bol"),
        (lambda: health.power_fade(-1.0, 10.0), "power"),
        (lambda: health.soce(math.nan, 10.0), "measured_usable_energy"),
        (lambda: health.equivalent_full_cycles_from_soc([0, 120]), r"soc_percent\[1\]"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(HealthInputError, match=field):
        call()  # type: ignore[operator]


@given(c_bol=positive, share=fraction)
def test_capacity_and_power_fade_lie_in_0_100_for_sane_inputs(c_bol: float, share: float) -> None:
    fade = health.capacity_fade(c_bol * share, c_bol)
    assert -1e-9 <= fade <= 100.0 + 1e-9
    assert -1e-9 <= health.power_fade(c_bol * share, c_bol) <= 100.0 + 1e-9


@given(r_bol=positive, growth=st.floats(min_value=1.0, max_value=10.0))
def test_resistance_increase_is_non_negative_when_resistance_grows(r_bol: float, growth: float) -> None:
    increase = health.resistance_increase(r_bol * growth, r_bol)
    assert increase >= -1e-9
    assert increase == pytest.approx((growth - 1.0) * 100.0, rel=1e-9, abs=1e-6)


@given(measured=st.floats(min_value=0.0, max_value=1e6), certified=positive)
def test_soce_is_the_complement_of_energy_fade(measured: float, certified: float) -> None:
    assert health.soce(measured, certified) == pytest.approx(
        100.0 - health.capacity_fade(measured, certified), abs=1e-6
    )


@given(first=st.lists(soc, min_size=1, max_size=40), second=st.lists(soc, min_size=1, max_size=40))
def test_cycle_aggregation_is_additive_over_consecutive_periods(
    first: list[float], second: list[float]
) -> None:
    joined = [*first, *second]
    # the second period starts where the first ended: its first step is the junction
    total = health.equivalent_full_cycles_from_soc(joined)
    parts = health.equivalent_full_cycles_from_soc(first) + health.equivalent_full_cycles_from_soc(
        [first[-1], *second]
    )
    assert total == pytest.approx(parts, rel=1e-12, abs=1e-12)
    assert total >= 0.0


@given(a=st.floats(min_value=0.0, max_value=1e7), b=st.floats(min_value=0.0, max_value=1e7), cap=positive)
def test_throughput_cycles_are_additive(a: float, b: float, cap: float) -> None:
    whole = health.equivalent_full_cycles_from_throughput(a + b, cap)
    split = health.equivalent_full_cycles_from_throughput(
        a, cap
    ) + health.equivalent_full_cycles_from_throughput(b, cap)
    assert whole == pytest.approx(split, rel=1e-9)


def test_ev_state_of_health_is_soce() -> None:
    bol = BeginningOfLife(certified_usable_energy_kwh=80.0, capacity_ah=200.0)
    state = health.assess(BatteryCategory.EV, bol, Measurement(T0, usable_energy_kwh=72.0))
    assert state.soce_percent == pytest.approx(90.0)
    assert state.capacity_fade_percent is None
    with pytest.raises(HealthInputError, match="SOCE"):
        health.assess(BatteryCategory.EV, bol, Measurement(T0, capacity_ah=190.0))


def test_other_categories_use_capacity_power_efficiency_resistance() -> None:
    bol = BeginningOfLife(capacity_ah=100.0, power_w=5000.0, resistance_ohm=0.01, round_trip_efficiency=95.0)
    m = Measurement(T0, capacity_ah=92.0, power_w=4500.0, resistance_ohm=0.012, round_trip_efficiency=90.25)
    state = health.assess(BatteryCategory.STATIONARY, bol, m)
    assert state.capacity_fade_percent == pytest.approx(8.0)
    assert state.power_fade_percent == pytest.approx(10.0)
    assert state.resistance_increase_percent == pytest.approx(20.0)
    assert state.round_trip_efficiency_fade_percent == pytest.approx(5.0)
    assert state.soce_percent is None
    with pytest.raises(HealthInputError, match="capacity_ah"):
        health.assess(BatteryCategory.LMT, bol, Measurement(T0, power_w=1.0))
    with pytest.raises(HealthInputError, match="UTC offset"):
        health.assess(BatteryCategory.LMT, bol, Measurement(datetime(2025, 1, 1), capacity_ah=1.0))


def test_recording_keeps_last_update_and_history(passport: BatteryPassport) -> None:
    bol = BeginningOfLife(capacity_ah=100.0, power_w=5000.0, resistance_ohm=0.01, round_trip_efficiency=95.0)
    first = health.assess(BatteryCategory.LMT, bol, Measurement(T0, capacity_ah=95.0, power_w=4800.0))
    later = health.assess(
        BatteryCategory.LMT,
        bol,
        Measurement(
            T0 + timedelta(days=30), capacity_ah=93.0, resistance_ohm=0.011, round_trip_efficiency=94.0
        ),
    )
    updated = health.record_state_of_health(passport, first, source="bms")
    updated = health.record_state_of_health(updated, later, source="bms")
    condition = updated.sections["PerformanceAndDurability"]["batteryCondition"]
    assert condition["remainingCapacity"] == {  # type: ignore[index]
        "remainingCapacityValue": 93.0,
        "lastUpdate": (T0 + timedelta(days=30)).isoformat(),
    }
    assert condition["capacityFade"]["capacityFadeValue"] == pytest.approx(7.0)  # type: ignore[index]
    assert condition["remainingPowerCapability"][0]["remainingPowerCapabilityValue"]["atSoC"] == 80.0  # type: ignore[index]
    assert condition["internalResistanceIncrease"][0]["batteryComponent"] == "pack"  # type: ignore[index]
    history = updated.history_of("PerformanceAndDurability", "$.batteryCondition.remainingCapacity")
    assert [h.value["remainingCapacityValue"] for h in history] == [95.0, 93.0]  # type: ignore[index,call-overload]
    assert [h.last_update for h in history] == [T0.isoformat(), (T0 + timedelta(days=30)).isoformat()]
    assert all(h.source == "bms" for h in history)
    assert validate_section("PerformanceAndDurability", updated.sections["PerformanceAndDurability"]) == []


def test_ev_soce_written_with_upstream_spelling(make_passport) -> None:  # type: ignore[no-untyped-def]
    passport = make_passport(batteryCategory="ev")
    bol = BeginningOfLife(certified_usable_energy_kwh=80.0)
    state = health.assess(BatteryCategory.EV, bol, Measurement(T0, usable_energy_kwh=76.0))
    updated = health.record_state_of_health(passport, state)
    condition = updated.sections["PerformanceAndDurability"]["batteryCondition"]
    assert condition["stateOfCertifiedEnergy"]["stateOfCertifiedEnergyValue"] == pytest.approx(95.0)  # type: ignore[index]
    assert condition["remainingEnergy"]["remainingEnergyalue"] == 76.0  # type: ignore[index]


def test_cycles_and_negative_events(passport: BatteryPassport) -> None:
    cycles = health.equivalent_full_cycles_from_soc([20, 80, 20, 90, 10])
    updated = health.record_cycles(passport, cycles, T0)
    value = updated.sections["PerformanceAndDurability"]["batteryCondition"]["numberOfFullCycles"]  # type: ignore[index]
    assert value == {
        "numberOfFullCyclesValue": pytest.approx(1.35),
        "lastUpdate": T0.isoformat(),
    }  # 270 / 200
    deep = NegativeEvent.from_voltage(2.4, minimum=2.5, maximum=4.2, at=T0)
    assert deep is not None
    assert deep.kind is NegativeEventKind.DEEP_DISCHARGE
    assert NegativeEvent.from_voltage(3.7, 2.5, 4.2, T0) is None
    events = [
        deep,
        NegativeEvent(NegativeEventKind.ACCIDENT, T0 + timedelta(hours=1), "crash, airbag deployed"),
        NegativeEvent(NegativeEventKind.OVERHEATING, datetime(2025, 3, 2, tzinfo=UTC)),
    ]
    for event in events:
        updated = health.record_negative_event(updated, event)
    pd = updated.sections["PerformanceAndDurability"]
    counts = health.count_negative_events(pd)
    # the upstream sample already holds one free-text event, counted as OTHER
    assert counts == {
        NegativeEventKind.OTHER: 1,
        NegativeEventKind.DEEP_DISCHARGE: 1,
        NegativeEventKind.ACCIDENT: 1,
        NegativeEventKind.OVERHEATING: 1,
    }
    assert pd["batteryCondition"]["negativeEvents"][2]["negativeEvent"] == "accident: crash, airbag deployed"  # type: ignore[index]
    assert updated.history[-1].path == "$.batteryCondition.negativeEvents[3]"
    assert validate_section("PerformanceAndDurability", pd) == []
