"""Battery health of one pack from its COVESA VSS signals (Reg. (EU) 2023/1542 Art. 14 and Annex VII).

What the battery management system of an EV, LMT or stationary battery must hold (Art. 14(1), Annex VII) and
the passport must carry as dynamic data (Annex XIII (4)), computed here from the signals the vehicle
reports (VSS 6.0 ``Vehicle.Powertrain.TractionBattery.*``):

* state of health as reported: the vehicle's ``StateOfHealth`` (VSS calls it "implementation dependent"),
  kept as the vehicle's figure;
* roadpass's own estimate of the remaining capacity (Annex VII Part A (1)) by **coulomb counting between two
  state-of-charge points**: the charge that flowed (``CurrentCurrent``, positive into the pack) between two
  ``StateOfCharge.Current`` readings at least ``min_soc_swing_percent`` apart, divided by their difference.
  VSS gives SoC relative to the aged (net) capacity, so the quotient is today's capacity; estimates of one
  update period are averaged weighted by their swing. Coulombic efficiency is taken as 1 (Li-ion: > 99.9 %);
* capacity fade against the rated capacity (ISO 12405-4:2018 via DIN DKE SPEC 99100 6.7.2.4);
* capacity and energy throughput, both directions (Annex VII Part B (3), (2)) and equivalent full cycles
  from them: throughput / (2 x rated capacity), i.e. partial cycles aggregated (DIN DKE SPEC 99100 6.7.6.4);
* time in extreme temperatures, and charging in them (Annex VII Part B (4); DIN DKE SPEC 99100 6.7.7.5-8,
  in minutes), the boundaries being the passport's temperature range idle state;
* deep-discharge and overcharge events: the pack voltage leaving the passport's minimum / maximum voltage
  (DIN DKE SPEC 99100 6.7.8.2-3); a stay outside the limit counts once.

Integration holds each reading until the next one (zero-order hold: units report on change and on a
period); a gap longer than ``max_gap_seconds`` is not integrated across (nothing is known about it) and
restarts a capacity window, unless the pack was idle when it last reported (a parked vehicle reports at key
off, then nothing until it wakes: no charge flowed in between). The :class:`HealthTally`
carries its state from one batch of samples to the next, so folding a series in pieces gives the same
totals as folding it at once.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "CURRENT",
    "SOC",
    "SOH",
    "TEMPERATURE",
    "VOLTAGE",
    "CapacityEstimate",
    "EstimatorSettings",
    "HealthEvent",
    "HealthEventKind",
    "HealthReport",
    "HealthTally",
    "HealthTotals",
    "PackRatings",
    "PackSample",
    "fold",
    "report",
    "samples_from_signals",
]

_BATTERY = "Vehicle.Powertrain.TractionBattery"
SOH = f"{_BATTERY}.StateOfHealth"
SOC = f"{_BATTERY}.StateOfCharge.Current"
CURRENT = f"{_BATTERY}.CurrentCurrent"
VOLTAGE = f"{_BATTERY}.CurrentVoltage"
TEMPERATURE = f"{_BATTERY}.Temperature.Average"
_US = 1_000_000.0


@dataclass(frozen=True, slots=True)
class PackSample:
    """What a pack reported at one instant (microseconds since the epoch, UTC); ``None`` where it did not."""

    at_us: int
    soc_percent: float | None = None
    current_a: float | None = None  # VSS: positive into the battery (charging), negative out of it
    voltage_v: float | None = None
    temperature_c: float | None = None
    soh_percent: float | None = None


_FIELD_OF = {SOC: "soc_percent", CURRENT: "current_a", VOLTAGE: "voltage_v", TEMPERATURE: "temperature_c",
             SOH: "soh_percent"}


def samples_from_signals(signals: Iterable[tuple[int, str, float]]) -> list[PackSample]:
    """``(at_us, VSS path, value)`` triples as samples, one per instant, oldest first (other paths ignored)."""
    by_time: dict[int, dict[str, float]] = {}
    for at_us, path, value in signals:
        name = _FIELD_OF.get(path)
        if name is not None and isinstance(value, int | float) and math.isfinite(value):
            by_time.setdefault(at_us, {})[name] = float(value)
    return [
        PackSample(at, v.get("soc_percent"), v.get("current_a"), v.get("voltage_v"), v.get("temperature_c"),
                   v.get("soh_percent"))
        for at, v in sorted(by_time.items())
    ]


@dataclass(frozen=True, slots=True)
class PackRatings:
    """The pack's declared figures the estimators measure against (from its passport)."""

    rated_capacity_ah: float  # long-list 52, ratedCapacity
    minimum_voltage_v: float | None = None  # long-list 60, the lower operational limit (deep discharge)
    maximum_voltage_v: float | None = None  # long-list 59 (overcharge)
    temperature_low_c: float = -20.0  # long-list 85, temperature range idle state, lower boundary
    temperature_high_c: float = 45.0  # long-list 86, upper boundary


@dataclass(frozen=True, slots=True)
class EstimatorSettings:
    """roadpass's choices where the standard leaves the method open (see ``health-attributes.yaml``)."""

    min_soc_swing_percent: float = 40.0
    max_gap_seconds: float = 300.0
    idle_current_a: float = 2.0


class HealthEventKind(StrEnum):
    """Negative events counted from the signals; the text is the passport's ``negativeEvent`` prefix."""

    DEEP_DISCHARGE = "deep discharge"  # DIN DKE SPEC 99100 6.7.8.2
    OVERCHARGE = "overcharge"  # 6.7.8.3


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """One negative event: kind, when it began, the voltage that crossed the limit."""

    kind: HealthEventKind
    at_us: int
    voltage_v: float
    limit_v: float

    @property
    def text(self) -> str:
        """The ``negativeEvent`` text: the kind first (as the passport counts them), then the reading."""
        side = "below minimum" if self.kind is HealthEventKind.DEEP_DISCHARGE else "above maximum"
        return f"{self.kind.value}: {self.voltage_v:g} V {side} voltage {self.limit_v:g} V"


@dataclass(frozen=True, slots=True)
class CapacityEstimate:
    """One coulomb-counting estimate: the charge between two SoC points over their difference."""

    at_us: int
    capacity_ah: float
    swing_percent: float


@dataclass(slots=True)
class _Window:
    start_us: int
    start_soc: float
    charge_ah: float = 0.0


@dataclass(slots=True)
class HealthTally:
    """Running sums of one pack since the last passport update, and the state that carries over batches."""

    capacity_throughput_ah: float = 0.0
    energy_throughput_kwh: float = 0.0
    minutes_hot: float = 0.0
    minutes_cold: float = 0.0
    minutes_hot_charging: float = 0.0
    minutes_cold_charging: float = 0.0
    events: list[HealthEvent] = field(default_factory=list)
    estimates: list[CapacityEstimate] = field(default_factory=list)
    reported_soh: tuple[int, float] | None = None
    last: PackSample | None = None
    window: _Window | None = None
    below_minimum: bool = False
    above_maximum: bool = False
    samples: int = 0

    def reset_period(self) -> None:
        """Start a new update period: sums and estimates go, carried state (last sample, window) stays."""
        self.capacity_throughput_ah = self.energy_throughput_kwh = 0.0
        self.minutes_hot = self.minutes_cold = self.minutes_hot_charging = self.minutes_cold_charging = 0.0
        self.events, self.estimates, self.samples = [], [], 0


def _merged(last: PackSample | None, new: PackSample) -> PackSample:
    """The new sample with what it did not report carried forward from the last one."""
    if last is None:
        return new
    return PackSample(
        new.at_us,
        new.soc_percent if new.soc_percent is not None else last.soc_percent,
        new.current_a if new.current_a is not None else last.current_a,
        new.voltage_v if new.voltage_v is not None else last.voltage_v,
        new.temperature_c if new.temperature_c is not None else last.temperature_c,
        new.soh_percent,
    )


def _integrate(tally: HealthTally, a: PackSample, b: PackSample, ratings: PackRatings) -> None:
    """Add the interval a..b (known to be no gap) to the sums. Zero-order hold: what was read at ``a`` holds
    until ``b`` (units report on change and on a period, so a reading is the state since it was taken)."""
    hours = (b.at_us - a.at_us) / _US / 3600.0
    if a.current_a is not None:
        charge = a.current_a * hours  # signed Ah, + into the pack
        tally.capacity_throughput_ah += abs(charge)
        if tally.window is not None:
            tally.window.charge_ah += charge
        if a.voltage_v is not None:
            tally.energy_throughput_kwh += abs(a.voltage_v * charge) / 1000.0
    if a.temperature_c is not None:
        minutes = hours * 60.0
        charging = a.current_a is not None and a.current_a > 0
        if a.temperature_c > ratings.temperature_high_c:
            tally.minutes_hot += minutes
            tally.minutes_hot_charging += minutes if charging else 0.0
        elif a.temperature_c < ratings.temperature_low_c:
            tally.minutes_cold += minutes
            tally.minutes_cold_charging += minutes if charging else 0.0


def _events(tally: HealthTally, s: PackSample, ratings: PackRatings) -> None:
    """Deep discharge / overcharge when the voltage crosses the limit (a stay outside counts once)."""
    if s.voltage_v is None:
        return
    low, high = ratings.minimum_voltage_v, ratings.maximum_voltage_v
    below = low is not None and s.voltage_v < low
    if below and not tally.below_minimum and low is not None:
        tally.events.append(HealthEvent(HealthEventKind.DEEP_DISCHARGE, s.at_us, s.voltage_v, low))
    above = high is not None and s.voltage_v > high
    if above and not tally.above_maximum and high is not None:
        tally.events.append(HealthEvent(HealthEventKind.OVERCHARGE, s.at_us, s.voltage_v, high))
    tally.below_minimum, tally.above_maximum = below, above


def _window(tally: HealthTally, s: PackSample, settings: EstimatorSettings) -> None:
    """Close the coulomb-counting window once the SoC has swung far enough; open the next one there."""
    if s.soc_percent is None:
        return
    w = tally.window
    if w is None:
        tally.window = _Window(s.at_us, s.soc_percent)
        return
    swing = s.soc_percent - w.start_soc
    if abs(swing) < settings.min_soc_swing_percent:
        return
    # Same sign: charge flowed in while SoC rose (or out while it fell); otherwise the readings disagree
    # (a bad SoC value or a reset) and the window carries no estimate.
    if w.charge_ah * swing > 0:
        tally.estimates.append(CapacityEstimate(s.at_us, w.charge_ah / (swing / 100.0), abs(swing)))
    tally.window = _Window(s.at_us, s.soc_percent)


def _idle(s: PackSample, settings: EstimatorSettings) -> bool:
    return s.current_a is not None and abs(s.current_a) <= settings.idle_current_a


def fold(
    tally: HealthTally, samples: Iterable[PackSample], ratings: PackRatings,
    settings: EstimatorSettings = EstimatorSettings(),
) -> HealthTally:
    """Fold ``samples`` (oldest first; older than the tally's last sample are skipped) into ``tally``."""
    gap_us = settings.max_gap_seconds * _US
    for raw in samples:
        last = tally.last
        if last is not None and raw.at_us <= last.at_us:
            continue  # a replay or an out-of-order straggler: its interval has been counted already
        s = _merged(last, raw)
        if last is not None and s.at_us - last.at_us <= gap_us:
            _integrate(tally, last, s, ratings)
        elif last is None or not _idle(last, settings):
            tally.window = None  # a gap: the charge across it is unknown
        # else a parked pack (idle when it last reported, e.g. at key off): no charge flowed until its next
        # report, the window carries on; nothing else is counted across the gap (its temperatures are unknown).
        if s.soh_percent is not None:
            tally.reported_soh = (s.at_us, s.soh_percent)
        _events(tally, s, ratings)
        _window(tally, s, settings)
        tally.last = s
        tally.samples += 1
    return tally


@dataclass(frozen=True, slots=True)
class HealthTotals:
    """Lifetime totals before this period (what the passport already says), added to the period's sums."""

    capacity_throughput_ah: float = 0.0
    energy_throughput_kwh: float = 0.0
    minutes_hot: float = 0.0
    minutes_cold: float = 0.0
    minutes_hot_charging: float = 0.0
    minutes_cold_charging: float = 0.0
    full_cycles: float = 0.0


@dataclass(frozen=True, slots=True)
class HealthReport:
    """One update of a pack's health, lifetime totals included (what goes into its passport)."""

    at_us: int
    reported_soh_percent: float | None
    estimated_capacity_ah: float | None
    estimated_soh_percent: float | None
    capacity_fade_percent: float | None
    equivalent_full_cycles: float
    totals: HealthTotals
    events: tuple[HealthEvent, ...]


def _weighted_capacity(estimates: list[CapacityEstimate]) -> float | None:
    weight = math.fsum(e.swing_percent for e in estimates)
    if not estimates or weight <= 0:
        return None
    return math.fsum(e.capacity_ah * e.swing_percent for e in estimates) / weight


def report(tally: HealthTally, before: HealthTotals, ratings: PackRatings) -> HealthReport | None:
    """The pack's health at its last sample, or ``None`` if nothing was folded since the last report."""
    if tally.last is None or tally.samples == 0:
        return None
    totals = HealthTotals(
        capacity_throughput_ah=before.capacity_throughput_ah + tally.capacity_throughput_ah,
        energy_throughput_kwh=before.energy_throughput_kwh + tally.energy_throughput_kwh,
        minutes_hot=before.minutes_hot + tally.minutes_hot,
        minutes_cold=before.minutes_cold + tally.minutes_cold,
        minutes_hot_charging=before.minutes_hot_charging + tally.minutes_hot_charging,
        minutes_cold_charging=before.minutes_cold_charging + tally.minutes_cold_charging,
        # DIN DKE SPEC 99100 6.7.6.4: partial cycles aggregated; one full cycle = a discharge and a charge
        full_cycles=before.full_cycles + tally.capacity_throughput_ah / (2.0 * ratings.rated_capacity_ah),
    )
    capacity = _weighted_capacity(tally.estimates)
    rated = ratings.rated_capacity_ah
    soh = None if capacity is None else capacity / rated * 100.0
    return HealthReport(
        at_us=tally.last.at_us,
        reported_soh_percent=tally.reported_soh[1] if tally.reported_soh else None,
        estimated_capacity_ah=capacity,
        estimated_soh_percent=soh,
        capacity_fade_percent=None if soh is None else 100.0 - soh,  # (1 - C/C_BOL) x 100 (6.7.2.4)
        equivalent_full_cycles=totals.full_cycles,
        totals=totals,
        events=tuple(tally.events),
    )
