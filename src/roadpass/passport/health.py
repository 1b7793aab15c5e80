"""State of health of a battery (Reg. (EU) 2023/1542 Art. 14, Annex VII) as DIN DKE SPEC 99100 reports it.

* EV batteries: state of certified energy, SOCE = measured usable battery energy / certified usable
  battery energy x 100 % (UN GTR No. 22; long-list attribute 57, DIN DKE SPEC 99100 6.7.2.7).
* Other batteries (Annex VII Part A): remaining capacity, and where possible remaining power capability,
  remaining round trip efficiency and internal resistance.
* Fades against beginning of life (BOL), as DIN DKE SPEC 99100 gives them following ISO 12405-4:2018:
  capacity fade (1 - C/C_BOL) x 100 % (6.7.2.4), power fade (1 - P/P_BOL) x 100 % (6.7.3.4), round trip
  efficiency fade (1 - RTE/RTE_BOL) x 100 % (6.7.4.5), resistance increase (R - R_BOL)/R_BOL x 100 %
  (6.7.5.3). (The long-list prints the capacity formula as "(1- C(x))/CBOL"; the brackets are a typo.)
* Equivalent full cycles (6.7.6.4 asks for partial cycles to be aggregated and gives no formula).
  roadpass counts one equivalent full cycle per 200 percentage points of state-of-charge swing (a full
  discharge plus a full charge), i.e. EFC = sum |delta SoC| / 2 with SoC as a fraction, or from charge
  throughput EFC = Ah(charge + discharge) / (2 x C_ref). Both are sums, so they add over periods.
* Negative events (6.7.8): deep discharge (voltage below the lower operational limit), overcharge
  (above the upper limit), accidents, overheating and others, each with its time.

Every value written to a passport goes through :meth:`BatteryPassport.with_dynamic`, so the section
payload carries the latest value with its ``lastUpdate`` and the passport history keeps every earlier one.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from roadpass.passport.domain import BatteryCategory, BatteryPassport
from roadpass.passport.jsondata import JsonObject, JsonValue
from roadpass.passport.models.performance_and_durability import (
    CapacityFade,
    InternalResistanceIncreaseEntity,
    NegativeEventEntity,
    NumberOfFullCycles,
    RemainingCapacity,
    RemainingEnergy,
    RemainingPowerCapabilityEntity,
    RemainingPowerCapabilityValue,
    RemainingRoundTripEnergyEfficiency,
    StateOfCertifiedEnergy,
)
from roadpass.passport.schemas import SectionName

__all__ = [
    "BeginningOfLife",
    "HealthInputError",
    "Measurement",
    "NegativeEvent",
    "NegativeEventKind",
    "StateOfHealth",
    "assess",
    "capacity_fade",
    "count_negative_events",
    "equivalent_full_cycles_from_soc",
    "equivalent_full_cycles_from_throughput",
    "power_fade",
    "record_cycles",
    "record_negative_event",
    "record_state_of_health",
    "resistance_increase",
    "round_trip_efficiency_fade",
    "soce",
]

PD: SectionName = "PerformanceAndDurability"
CONDITION = "$.batteryCondition"


class HealthInputError(ValueError):
    """A measurement or reference value that cannot give a state of health (names the field)."""


def _positive(name: str, value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise HealthInputError(f"{name} must be a finite number > 0, got {value!r}")
    return value


def _non_negative(name: str, value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise HealthInputError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def soce(measured_usable_energy: float, certified_usable_energy: float) -> float:
    """State of certified energy in % (UN GTR No. 22; DIN DKE SPEC 99100 6.7.2.7)."""
    measured = _non_negative("measured_usable_energy", measured_usable_energy)
    return measured / _positive("certified_usable_energy", certified_usable_energy) * 100.0


def capacity_fade(capacity: float, capacity_bol: float) -> float:
    """(1 - C/C_BOL) x 100 % (ISO 12405-4:2018 via DIN DKE SPEC 99100 6.7.2.4); 0..100 for 0 <= C <= C_BOL."""
    return (1.0 - _non_negative("capacity", capacity) / _positive("capacity_bol", capacity_bol)) * 100.0


def power_fade(power: float, power_bol: float) -> float:
    """(1 - P/P_BOL) x 100 % (DIN DKE SPEC 99100 6.7.3.4; Annex IV Part A (4))."""
    return (1.0 - _non_negative("power", power) / _positive("power_bol", power_bol)) * 100.0


def round_trip_efficiency_fade(efficiency: float, efficiency_bol: float) -> float:
    """(1 - RTE/RTE_BOL) x 100 % (DIN DKE SPEC 99100 6.7.4.5)."""
    rte = _non_negative("efficiency", efficiency)
    return (1.0 - rte / _positive("efficiency_bol", efficiency_bol)) * 100.0


def resistance_increase(resistance: float, resistance_bol: float) -> float:
    """(R - R_BOL)/R_BOL x 100 % (DIN DKE SPEC 99100 6.7.5.3; Annex IV Part A (3))."""
    r_bol = _positive("resistance_bol", resistance_bol)
    return (_non_negative("resistance", resistance) - r_bol) / r_bol * 100.0


def equivalent_full_cycles_from_soc(soc_percent: Sequence[float]) -> float:
    """Equivalent full cycles of a state-of-charge trace (in %): sum of |delta SoC| / 200.

    Consecutive traces that share their boundary sample add up exactly (the sum is over the steps).
    """
    for i, soc in enumerate(soc_percent):
        if not math.isfinite(soc) or not 0.0 <= soc <= 100.0:
            raise HealthInputError(f"soc_percent[{i}] must be within 0..100, got {soc!r}")
    return math.fsum(abs(b - a) for a, b in itertools.pairwise(soc_percent)) / 200.0


def equivalent_full_cycles_from_throughput(
    throughput_ah: float, capacity_ah: float, *, charge_and_discharge: bool = True
) -> float:
    """Equivalent full cycles from capacity throughput (Annex VII Part B (3)).

    ``charge_and_discharge``: the throughput counts both directions (divide by 2 x C); otherwise it is
    discharge only (divide by C).
    """
    cycles = _non_negative("throughput_ah", throughput_ah) / _positive("capacity_ah", capacity_ah)
    return cycles / 2.0 if charge_and_discharge else cycles


@dataclass(frozen=True, slots=True)
class BeginningOfLife:
    """Reference values at beginning of life, as declared in the passport's technical properties."""

    capacity_ah: float | None = None  # rated capacity (attribute 52)
    power_w: float | None = None  # original power capability (62)
    resistance_ohm: float | None = None  # initial internal resistance, pack (74)
    round_trip_efficiency: float | None = None  # initial round trip energy efficiency, % (67)
    certified_usable_energy_kwh: float | None = None  # certified usable battery energy, EV (55)


@dataclass(frozen=True, slots=True)
class Measurement:
    """One state-of-health measurement of an individual battery; ``measured_at`` must carry an offset."""

    measured_at: datetime
    usable_energy_kwh: float | None = None  # measured / on-board usable battery energy (EV)
    capacity_ah: float | None = None
    power_w: float | None = None
    power_at_soc_percent: float = 80.0  # Annex IV Part B (4): power capability at 80 % and 20 % SoC
    resistance_ohm: float | None = None
    round_trip_efficiency: float | None = None


@dataclass(frozen=True, slots=True)
class StateOfHealth:
    """The state-of-health parameters one measurement yields; ``None`` where it had no input."""

    category: BatteryCategory
    measured_at: datetime
    soce_percent: float | None = None
    remaining_usable_energy_kwh: float | None = None
    remaining_capacity_ah: float | None = None
    capacity_fade_percent: float | None = None
    remaining_power_w: float | None = None
    power_at_soc_percent: float | None = None
    power_fade_percent: float | None = None
    resistance_ohm: float | None = None
    resistance_increase_percent: float | None = None
    remaining_round_trip_efficiency: float | None = None
    round_trip_efficiency_fade_percent: float | None = None


def _both(fn: Callable[[float, float], float], now: float | None, bol: float | None) -> float | None:
    return None if now is None or bol is None else fn(now, bol)


def assess(category: BatteryCategory, bol: BeginningOfLife, measurement: Measurement) -> StateOfHealth:
    """The state of health of one measurement; EV needs SOCE inputs, other categories a capacity."""
    m = measurement
    if m.measured_at.utcoffset() is None:
        raise HealthInputError("measured_at must carry a UTC offset (the passport's lastUpdate is RFC 3339)")
    state_of_certified_energy = _both(soce, m.usable_energy_kwh, bol.certified_usable_energy_kwh)
    fade = _both(capacity_fade, m.capacity_ah, bol.capacity_ah)
    if category is BatteryCategory.EV and state_of_certified_energy is None:
        # Art. 14 with Annex VII Part A: SOCE is the state-of-health figure of EV batteries (attribute 57).
        raise HealthInputError("EV battery: usable_energy_kwh and certified_usable_energy_kwh give SOCE")
    if category is not BatteryCategory.EV and fade is None:
        # Annex VII Part A (1): remaining capacity is the state-of-health figure of the other categories.
        raise HealthInputError(f"{category.value} battery: capacity_ah now and at BOL are needed")
    return StateOfHealth(
        category=category,
        measured_at=m.measured_at,
        soce_percent=state_of_certified_energy,
        remaining_usable_energy_kwh=m.usable_energy_kwh,
        remaining_capacity_ah=m.capacity_ah,
        capacity_fade_percent=fade,
        remaining_power_w=m.power_w,
        power_at_soc_percent=m.power_at_soc_percent if m.power_w is not None else None,
        power_fade_percent=_both(power_fade, m.power_w, bol.power_w),
        resistance_ohm=m.resistance_ohm,
        resistance_increase_percent=_both(resistance_increase, m.resistance_ohm, bol.resistance_ohm),
        remaining_round_trip_efficiency=m.round_trip_efficiency,
        round_trip_efficiency_fade_percent=_both(
            round_trip_efficiency_fade, m.round_trip_efficiency, bol.round_trip_efficiency
        ),
    )


def _stamp(at: datetime) -> str:
    if at.utcoffset() is None:
        raise HealthInputError("timestamps must carry a UTC offset (the passport's lastUpdate is RFC 3339)")
    return at.isoformat()


def record_state_of_health(
    passport: BatteryPassport, state: StateOfHealth, *, source: str | None = None
) -> BatteryPassport:
    """Write a state of health into ``batteryCondition`` (each value with its lastUpdate and history)."""
    at = _stamp(state.measured_at)
    writes: list[tuple[str, JsonValue]] = []
    if state.soce_percent is not None:
        entry = StateOfCertifiedEnergy(state_of_certified_energy_value=state.soce_percent, last_update=at)
        writes.append(("stateOfCertifiedEnergy", entry.to_payload()))
    if state.remaining_usable_energy_kwh is not None:
        # upstream spells the value property "remainingEnergyalue"; the generated model keeps it.
        energy = RemainingEnergy(remaining_energyalue=state.remaining_usable_energy_kwh, last_update=at)
        writes.append(("remainingEnergy", energy.to_payload()))
    if state.remaining_capacity_ah is not None:
        capacity = RemainingCapacity(remaining_capacity_value=state.remaining_capacity_ah, last_update=at)
        writes.append(("remainingCapacity", capacity.to_payload()))
    if state.capacity_fade_percent is not None:
        fade = CapacityFade(capacity_fade_value=state.capacity_fade_percent, last_update=at)
        writes.append(("capacityFade", fade.to_payload()))
    if state.remaining_power_w is not None and state.power_at_soc_percent is not None:
        value = RemainingPowerCapabilityValue(
            at_so_c=state.power_at_soc_percent,
            power_capability_at=state.remaining_power_w,
            r_pc_last_updated=at,
        )
        power = RemainingPowerCapabilityEntity(remaining_power_capability_value=value, last_update=at)
        writes.append(("remainingPowerCapability", [power.to_payload()]))
    if state.power_fade_percent is not None:
        writes.append(("powerFade", state.power_fade_percent))  # a bare number in v1.2 (no lastUpdate)
    if state.resistance_increase_percent is not None:
        increase = InternalResistanceIncreaseEntity(
            internal_resistance_increase_value=state.resistance_increase_percent,
            battery_component="pack",  # DIN DKE SPEC 99100 6.7.5.3: pack level is the required one
            last_update=at,
        )
        writes.append(("internalResistanceIncrease", [increase.to_payload()]))
    if state.remaining_round_trip_efficiency is not None:
        rte = RemainingRoundTripEnergyEfficiency(
            remaining_round_trip_energy_efficiency_value=state.remaining_round_trip_efficiency, last_update=at
        )
        writes.append(("remainingRoundTripEnergyEfficiency", rte.to_payload()))
    if state.round_trip_efficiency_fade_percent is not None:
        writes.append(("roundTripEfficiencyFade", state.round_trip_efficiency_fade_percent))
    for prop, value_ in writes:
        passport = passport.with_dynamic(PD, f"{CONDITION}.{prop}", value_, at, source)
    return passport


def record_cycles(
    passport: BatteryPassport, full_cycles: float, at: datetime, *, source: str | None = None
) -> BatteryPassport:
    """Write the number of (equivalent) full cycles (attribute 78, Annex VII Part B (5))."""
    stamp = _stamp(at)
    cycles = _non_negative("full_cycles", full_cycles)
    entry = NumberOfFullCycles(number_of_full_cycles_value=cycles, last_update=stamp)
    return passport.with_dynamic(PD, f"{CONDITION}.numberOfFullCycles", entry.to_payload(), stamp, source)


class NegativeEventKind(StrEnum):
    """Kinds of negative event DIN DKE SPEC 99100 6.7.8 tracks (plus the ones operators also report)."""

    DEEP_DISCHARGE = "deep discharge"  # 6.7.8.2: voltage below the lower operational limit
    OVERCHARGE = "overcharge"  # 6.7.8.3: voltage above the upper operational limit
    ACCIDENT = "accident"  # 6.7.8.4; Annex XIII (4)(d)
    OVERHEATING = "overheating"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class NegativeEvent:
    """One negative event; written as ``"<kind>: <detail>"`` since v1.2 keeps the event as free text."""

    kind: NegativeEventKind
    occurred_at: datetime
    detail: str = ""

    @property
    def text(self) -> str:
        """The ``negativeEvent`` text: the kind first, so the kind can be counted back."""
        return f"{self.kind.value}: {self.detail}" if self.detail else self.kind.value

    @classmethod
    def from_voltage(
        cls, voltage: float, minimum: float, maximum: float, at: datetime
    ) -> NegativeEvent | None:
        """A deep-discharge or overcharge event if ``voltage`` leaves [minimum, maximum] (6.7.8.2-3)."""
        if voltage < minimum:
            return cls(NegativeEventKind.DEEP_DISCHARGE, at, f"{voltage} V below minimum voltage {minimum} V")
        if voltage > maximum:
            return cls(NegativeEventKind.OVERCHARGE, at, f"{voltage} V above maximum voltage {maximum} V")
        return None


def record_negative_event(
    passport: BatteryPassport, event: NegativeEvent, *, source: str | None = None
) -> BatteryPassport:
    """Append a negative event to ``batteryCondition.negativeEvents`` (history keeps the entry)."""
    stamp = _stamp(event.occurred_at)
    current = passport.value_at(PD, f"{CONDITION}.negativeEvents")
    index = len(current) if isinstance(current, list) else 0
    entry = NegativeEventEntity(negative_event=event.text, last_update=stamp)
    path = f"{CONDITION}.negativeEvents[{index}]"
    return passport.with_dynamic(PD, path, entry.to_payload(), stamp, source)


def count_negative_events(payload: JsonObject) -> Counter[NegativeEventKind]:
    """Events per kind in a PerformanceAndDurability payload (attributes 91, 92); unknown text is OTHER."""
    condition = payload.get("batteryCondition")
    events = condition.get("negativeEvents") if isinstance(condition, dict) else None
    counts: Counter[NegativeEventKind] = Counter()
    for entry in events if isinstance(events, list) else ():
        text = entry.get("negativeEvent") if isinstance(entry, dict) else None
        counts[_kind_of(text if isinstance(text, str) else "")] += 1
    return counts


def _kind_of(text: str) -> NegativeEventKind:
    lowered = text.strip().lower()
    for kind in NegativeEventKind:
        if lowered == kind.value or lowered.startswith(f"{kind.value}:"):
            return kind
    return NegativeEventKind.OTHER

