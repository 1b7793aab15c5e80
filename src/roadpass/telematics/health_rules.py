"""Between the health estimators and the battery passport: the declared figures a pack is measured against,
the totals its passport already carries, and the Battery Pass v1.2 ``PerformanceAndDurability`` values one
:class:`~roadpass.telematics.health.HealthReport` writes (paths and units as ``health-attributes.yaml`` gives
them, from the Battery Pass long-list v1.2 and DIN DKE SPEC 99100).

Everything here reads and builds plain JSON, so the telematics feature needs nothing from the passport
feature but the passport service's ``record`` (declared in :mod:`roadpass.telematics.health_ports`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

from roadpass.telematics.health import EstimatorSettings, HealthReport, HealthTotals, PackRatings
from roadpass.trace.timeutil import from_us

__all__ = [
    "ATTRIBUTES_FILE",
    "CONDITION",
    "PD",
    "HealthAttribute",
    "attributes",
    "estimator_settings",
    "passport_writes",
    "ratings_from",
    "totals_from",
]

ATTRIBUTES_FILE = "health-attributes.yaml"
PD: Final = "PerformanceAndDurability"
CONDITION = "$.batteryCondition"


@dataclass(frozen=True, slots=True)
class HealthAttribute:
    """One passport attribute roadpass derives from the signals, with its sources (one YAML entry)."""

    name: str
    clause: str
    regulation: str
    unit: str
    method: str
    signals: tuple[str, ...]


@cache
def _data() -> dict[str, Any]:
    text = resources.files("roadpass.telematics").joinpath(ATTRIBUTES_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
        raise ValueError(f"{ATTRIBUTES_FILE}: expected a mapping with 'attributes'")
    return data


def attributes() -> tuple[HealthAttribute, ...]:
    """The attributes of ``health-attributes.yaml``, in file order."""
    return tuple(
        HealthAttribute(name, str(e["clause"]), str(e["regulation"]), str(e["unit"]), str(e["method"]),
                        tuple(str(s) for s in e.get("signals") or ()))
        for name, e in _data()["attributes"].items()
    )


def estimator_settings() -> EstimatorSettings:
    """The estimator settings of ``health-attributes.yaml``."""
    e = _data().get("estimator") or {}
    return EstimatorSettings(min_soc_swing_percent=float(e.get("min_soc_swing_percent", 40.0)),
                             max_gap_seconds=float(e.get("max_gap_seconds", 300.0)),
                             idle_current_a=float(e.get("idle_current_a", 2.0)))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _get(payload: Any, *keys: str) -> Any:
    for key in keys:
        payload = payload.get(key) if isinstance(payload, dict) else None
    return payload


def ratings_from(performance: dict[str, Any]) -> PackRatings | None:
    """The pack's declared figures from its ``PerformanceAndDurability`` payload; ``None`` without a rated
    capacity (nothing to measure capacity fade or cycles against)."""
    tech = _get(performance, "batteryTechicalProperties") or {}  # sic: the v1.2 schema's spelling
    rated = _number(_get(tech, "ratedCapacity"))
    if rated is None or rated <= 0:
        return None
    low_default, high_default = (_data().get("estimator") or {}).get("default_temperature_range_c", [-20.0, 45.0])
    # Long-list 85/86 name a lower and an upper boundary; the v1.2 schema has one number (0..60, described as
    # "upper an lower boundary"): roadpass reads it as the upper boundary and takes the lower from the
    # defaults (to confirm per battery model until the schema carries both).
    low = None
    high = _number(_get(tech, "temperatureRangeIdleState"))
    return PackRatings(
        rated_capacity_ah=rated,
        minimum_voltage_v=_number(_get(tech, "minimumVoltage")),
        maximum_voltage_v=_number(_get(tech, "maximumVoltage")),
        temperature_low_c=float(low_default) if low is None else low,
        temperature_high_c=float(high_default) if high is None else high,
    )


def totals_from(performance: dict[str, Any]) -> HealthTotals:
    """The lifetime totals the passport carries now (zero where it has none): the next update adds to them."""
    condition = _get(performance, "batteryCondition") or {}
    temps = _get(condition, "temperatureInformation") or {}

    def value(*keys: str) -> float:
        return _number(_get(condition, *keys)) or 0.0

    def minutes(key: str) -> float:
        return _number(_get(temps, key)) or 0.0

    return HealthTotals(
        capacity_throughput_ah=value("capacityThroughput", "capacityThroughputValue"),
        energy_throughput_kwh=value("energyThroughput"),
        minutes_hot=minutes("timeExtremeHighTemp"),
        minutes_cold=minutes("timeExtremeLowTemp"),
        minutes_hot_charging=minutes("timeExtremeHighTempCharging"),
        minutes_cold_charging=minutes("timeExtremeLowTempCharging"),
        full_cycles=value("numberOfFullCycles", "numberOfFullCyclesValue"),
    )


def _round(value: float, digits: int = 3) -> float:
    return round(value, digits)


def passport_writes(report: HealthReport, performance: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(JSONPath, value)`` pairs for the passport's ``PerformanceAndDurability`` section, each dynamic value
    with its ``lastUpdate`` (the time of the last sample it covers); negative events are appended after the
    ones the passport has (``performance`` is its current section payload)."""
    at = from_us(report.at_us).isoformat()
    t = report.totals
    writes: list[tuple[str, Any]] = []
    if report.reported_soh_percent is not None:  # Art. 14, Annex VII Part A: the vehicle's own figure (EV: SOCE)
        writes.append(("stateOfCertifiedEnergy",
                       {"stateOfCertifiedEnergyValue": _round(report.reported_soh_percent, 2), "lastUpdate": at}))
    if report.estimated_capacity_ah is not None and report.capacity_fade_percent is not None:
        writes.append(("remainingCapacity",  # Annex VII Part A (1), roadpass's coulomb-counting estimate
                       {"remainingCapacityValue": _round(report.estimated_capacity_ah, 2), "lastUpdate": at}))
        writes.append(("capacityFade",  # Annex IV Part A (2); DIN DKE SPEC 99100 6.7.2.4
                       {"capacityFadeValue": _round(report.capacity_fade_percent, 3), "lastUpdate": at}))
    writes.append(("numberOfFullCycles",  # DIN DKE SPEC 99100 6.7.6.4
                   {"numberOfFullCyclesValue": _round(t.full_cycles), "lastUpdate": at}))
    writes.append(("energyThroughput", _round(t.energy_throughput_kwh)))  # Annex VII Part B (2); v1.2: bare kWh
    writes.append(("capacityThroughput",  # Annex VII Part B (3)
                   {"capacityThroughputValue": _round(t.capacity_throughput_ah), "lastUpdate": at}))
    writes.append(("temperatureInformation", {  # Annex VII Part B (4); minutes (DIN DKE SPEC 99100 6.7.7.5-8)
        "timeExtremeHighTemp": _round(t.minutes_hot, 1),
        "timeExtremeLowTemp": _round(t.minutes_cold, 1),
        "timeExtremeHighTempCharging": _round(t.minutes_hot_charging, 1),
        "timeExtremeLowTempCharging": _round(t.minutes_cold_charging, 1),
        "lastUpdate": at,
    }))
    existing = _get(performance, "batteryCondition", "negativeEvents")
    index = len(existing) if isinstance(existing, list) else 0
    for offset, event in enumerate(report.events):  # Annex VII Part B (4): deep discharge events
        entry = {"negativeEvent": event.text, "lastUpdate": from_us(event.at_us).isoformat()}
        writes.append((f"negativeEvents[{index + offset}]", entry))
    return [(f"{CONDITION}.{name}", value) for name, value in writes]
