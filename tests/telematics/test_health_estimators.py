"""The pack health estimators (pure): coulomb counting, throughput, cycles, temperatures, negative events."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from roadpass.passport.models.performance_and_durability import PerformanceAndDurability
from roadpass.telematics.health import (
    CURRENT,
    SOC,
    SOH,
    VOLTAGE,
    EstimatorSettings,
    HealthEventKind,
    HealthTally,
    HealthTotals,
    PackRatings,
    PackSample,
    fold,
    report,
    samples_from_signals,
)
from roadpass.telematics.health_rules import attributes, estimator_settings, passport_writes, ratings_from, totals_from

RATINGS = PackRatings(rated_capacity_ah=100.0, minimum_voltage_v=320.0, maximum_voltage_v=467.2,
                      temperature_low_c=-20.0, temperature_high_c=45.0)
T0 = 1_700_000_000_000_000
MIN = 60_000_000


def discharge(capacity_ah: float, current_a: float, soc_from: float, soc_to: float, *, start: int = T0,
              temperature: float = 25.0) -> list[PackSample]:
    """A constant-current run sampled every minute, SoC following the pack's true capacity."""
    samples, soc, at = [], soc_from, start
    step = current_a / 60.0 / capacity_ah * 100.0  # SoC points per minute
    while (soc - soc_to) * (soc_from - soc_to) >= 0:
        samples.append(PackSample(at, soc, current_a, 400.0, temperature))
        soc += step
        at += MIN
    return samples


def test_coulomb_counting_finds_the_true_capacity() -> None:
    tally = fold(HealthTally(), discharge(92.0, -46.0, 90.0, 20.0), RATINGS)
    out = report(tally, HealthTotals(), RATINGS)
    assert out is not None and out.estimated_capacity_ah is not None
    assert out.estimated_capacity_ah == pytest.approx(92.0, rel=0.02)
    assert out.capacity_fade_percent == pytest.approx(8.0, abs=2.0)
    assert out.estimated_soh_percent == pytest.approx(92.0, abs=2.0)


def test_charging_also_gives_an_estimate_and_cycles_add_both_directions() -> None:
    run = discharge(90.0, -45.0, 90.0, 20.0)
    back = discharge(90.0, 45.0, run[-1].soc_percent or 0.0, 90.0, start=run[-1].at_us + MIN)
    out = report(fold(HealthTally(), run + back, RATINGS), HealthTotals(), RATINGS)
    assert out is not None and out.estimated_capacity_ah == pytest.approx(90.0, rel=0.03)
    # ~63 Ah out and ~63 Ah in over a 100 Ah pack: about 0.63 equivalent full cycles
    assert out.equivalent_full_cycles == pytest.approx(out.totals.capacity_throughput_ah / 200.0)
    assert 0.55 < out.equivalent_full_cycles < 0.75
    assert out.totals.energy_throughput_kwh == pytest.approx(out.totals.capacity_throughput_ah * 0.4, rel=0.01)


def test_a_small_swing_gives_no_capacity_estimate() -> None:
    out = report(fold(HealthTally(), discharge(90.0, -30.0, 60.0, 40.0), RATINGS), HealthTotals(), RATINGS)
    assert out is not None and out.estimated_capacity_ah is None and out.capacity_fade_percent is None


def test_disagreeing_soc_and_current_give_no_estimate() -> None:
    run = [PackSample(T0 + i * MIN, 90.0 - i, 30.0, 400.0, 20.0) for i in range(60)]  # SoC falls, current in
    assert fold(HealthTally(), run, RATINGS).estimates == []


def test_a_gap_is_not_integrated_and_restarts_the_window() -> None:
    first = discharge(90.0, -45.0, 90.0, 70.0)
    later = discharge(90.0, -45.0, 69.0, 40.0, start=first[-1].at_us + 3600 * 1_000_000)
    tally = fold(HealthTally(), first + later, RATINGS)
    assert tally.estimates == []  # 90->40 spans the gap: unknown charge in between
    gapless = fold(HealthTally(), first, RATINGS).capacity_throughput_ah + fold(
        HealthTally(), later, RATINGS).capacity_throughput_ah
    assert tally.capacity_throughput_ah == pytest.approx(gapless)


def test_time_at_extreme_temperatures_in_minutes_and_charging_part() -> None:
    hot_drive = discharge(90.0, -20.0, 80.0, 70.0, temperature=50.0)
    cold_charge = discharge(90.0, 20.0, 70.0, 80.0, start=hot_drive[-1].at_us + MIN, temperature=-25.0)
    out = report(fold(HealthTally(), hot_drive + cold_charge, RATINGS), HealthTotals(), RATINGS)
    assert out is not None
    assert out.totals.minutes_hot == pytest.approx(len(hot_drive), abs=1)
    assert out.totals.minutes_hot_charging == 0
    assert out.totals.minutes_cold == pytest.approx(len(cold_charge) - 1, abs=1)
    assert out.totals.minutes_cold_charging == pytest.approx(out.totals.minutes_cold)


def test_deep_discharge_counts_each_excursion_once() -> None:
    volts = [400, 330, 318, 315, 319, 340, 310, 400, 470, 480, 400]
    samples = [PackSample(T0 + i * MIN, voltage_v=float(v)) for i, v in enumerate(volts)]
    events = fold(HealthTally(), samples, RATINGS).events
    kinds = [e.kind for e in events]
    assert kinds == [HealthEventKind.DEEP_DISCHARGE, HealthEventKind.DEEP_DISCHARGE, HealthEventKind.OVERCHARGE]
    assert events[0].at_us == T0 + 2 * MIN and events[0].text.startswith("deep discharge: 318 V")


def test_replayed_and_out_of_order_samples_are_not_counted_twice() -> None:
    run = discharge(90.0, -45.0, 90.0, 20.0)
    once = fold(HealthTally(), run, RATINGS)
    twice = fold(fold(HealthTally(), run, RATINGS), run[10:40], RATINGS)
    assert twice.capacity_throughput_ah == once.capacity_throughput_ah
    assert twice.estimates == once.estimates


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 400), st.floats(-150, 150), st.floats(0, 100), st.floats(-30, 60),
                          st.floats(300, 480)), min_size=2, max_size=60),
       st.integers(0, 60))
def test_folding_in_pieces_equals_folding_at_once(steps: list[tuple[int, float, float, float, float]],
                                                   cut: int) -> None:
    at, samples = T0, []
    for dt, current, soc, temp, volt in steps:
        at += dt * 1_000_000
        samples.append(PackSample(at, soc, current, volt, temp))
    cut = min(cut, len(samples))
    whole = fold(HealthTally(), samples, RATINGS)
    pieces = fold(fold(HealthTally(), samples[:cut], RATINGS), samples[cut:], RATINGS)
    for name in ("capacity_throughput_ah", "energy_throughput_kwh", "minutes_hot", "minutes_cold",
                 "minutes_hot_charging", "minutes_cold_charging"):
        assert math.isclose(getattr(whole, name), getattr(pieces, name), rel_tol=1e-9, abs_tol=1e-9)
    assert whole.events == pieces.events and whole.estimates == pieces.estimates


def test_signals_become_samples_per_instant_and_unknown_paths_are_ignored() -> None:
    rows = [(T0 + MIN, SOC, 50.0), (T0, CURRENT, -10.0), (T0, VOLTAGE, 400.0), (T0 + MIN, "Vehicle.Speed", 30.0),
            (T0 + MIN, SOH, 97.5), (T0, SOC, float("nan"))]
    assert samples_from_signals(rows) == [
        PackSample(T0, current_a=-10.0, voltage_v=400.0), PackSample(T0 + MIN, soc_percent=50.0, soh_percent=97.5)]


def test_reported_state_of_health_is_kept_as_the_vehicles_figure() -> None:
    samples = [PackSample(T0, soh_percent=98.0), PackSample(T0 + MIN, soh_percent=97.9)]
    out = report(fold(HealthTally(), samples, RATINGS), HealthTotals(), RATINGS)
    assert out is not None and out.reported_soh_percent == 97.9 and out.at_us == T0 + MIN


def test_report_is_none_without_new_samples_and_totals_add_to_what_the_passport_has() -> None:
    tally = HealthTally()
    assert report(tally, HealthTotals(), RATINGS) is None
    fold(tally, discharge(90.0, -45.0, 90.0, 20.0), RATINGS)
    out = report(tally, HealthTotals(capacity_throughput_ah=1000.0, full_cycles=5.0), RATINGS)
    assert out is not None and out.totals.capacity_throughput_ah > 1000.0
    assert out.equivalent_full_cycles == pytest.approx(5.0 + (out.totals.capacity_throughput_ah - 1000.0) / 200.0)
    tally.reset_period()
    assert report(tally, HealthTotals(), RATINGS) is None


PERFORMANCE = {
    "batteryTechicalProperties": {"ratedCapacity": 140.6, "minimumVoltage": 320.0, "maximumVoltage": 467.2,
                                  "temperatureRangeIdleState": 45},
    "batteryCondition": {"negativeEvents": [{"negativeEvent": "overheating", "lastUpdate": "2025-01-01T00:00:00Z"}],
                         "numberOfFullCycles": {"numberOfFullCyclesValue": 12.5, "lastUpdate": "2025-01-01T00:00:00Z"},
                         "energyThroughput": 321.0},
}


def test_ratings_and_totals_come_from_the_passport_section() -> None:
    ratings = ratings_from(PERFORMANCE)
    assert ratings is not None and ratings.rated_capacity_ah == 140.6 and ratings.minimum_voltage_v == 320.0
    assert ratings.temperature_high_c == 45.0 and ratings.temperature_low_c == -20.0
    assert ratings_from({"batteryTechicalProperties": {}}) is None
    totals = totals_from(PERFORMANCE)
    assert totals.full_cycles == 12.5 and totals.energy_throughput_kwh == 321.0 and totals.minutes_hot == 0.0


def test_passport_writes_are_battery_pass_v1_2_values() -> None:
    ratings = ratings_from(PERFORMANCE)
    assert ratings is not None
    run = discharge(130.0, -60.0, 95.0, 20.0, temperature=47.0)
    run = [*run[:-1], PackSample(run[-1].at_us, voltage_v=310.0, soh_percent=93.1)]
    out = report(fold(HealthTally(), run, ratings), totals_from(PERFORMANCE), ratings)
    assert out is not None
    writes = dict(passport_writes(out, PERFORMANCE))
    condition = {path.removeprefix("$.batteryCondition."): value for path, value in writes.items()}
    assert condition["numberOfFullCycles"]["numberOfFullCyclesValue"] > 12.5
    assert condition["stateOfCertifiedEnergy"]["stateOfCertifiedEnergyValue"] == 93.1
    assert condition["remainingCapacity"]["remainingCapacityValue"] == pytest.approx(130.0, rel=0.03)
    assert condition["negativeEvents[1]"]["negativeEvent"].startswith("deep discharge:")
    assert condition["temperatureInformation"]["timeExtremeHighTemp"] > 0
    # Every value fits the Battery Pass v1.2 model of its attribute.
    fields = PerformanceAndDurability.model_fields["battery_condition"].annotation
    model = next(a for a in getattr(fields, "__args__", (fields,)) if a is not type(None))
    for name, value in condition.items():
        field_name = next(k for k, f in model.model_fields.items() if f.alias == name.split("[")[0])
        annotation = model.model_fields[field_name].annotation
        if name.startswith("negativeEvents"):
            value = [value]
        TypeAdapter(annotation).validate_python(value)


def test_every_attribute_is_sourced() -> None:
    names = {a.name for a in attributes()}
    assert {"stateOfCertifiedEnergy", "remainingCapacity", "capacityFade", "numberOfFullCycles",
            "energyThroughput", "capacityThroughput", "temperatureInformation", "negativeEvents"} <= names
    assert all(a.clause.startswith("DIN DKE SPEC 99100") and "2023/1542" in a.regulation for a in attributes())
    assert estimator_settings() == EstimatorSettings(40.0, 300.0, 2.0)
