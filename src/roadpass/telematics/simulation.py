"""A fleet that drives: the demo vehicles drive, park and charge with plausible physics and report COVESA
VSS signals as their telematics units would (the ``vss`` message of ``docs/telematics.md``).

Pure and deterministic for a seed: :meth:`FleetSim.advance` moves simulated time and returns the messages
the units would have published, each with its topic; a runner (:mod:`roadpass.telematics.simulation_run`)
maps wall-clock time onto simulated time (the speedup) and hands them to a publisher.

The physics, simple but with the right shape and sign:

* state of charge from the pack current (VSS: positive into the pack) over the pack's *true* capacity, which
  fades; the open-circuit voltage follows an LFP-like curve per cell (3.2 V nominal, flat in the middle,
  steep below 10 % and above 95 %), the terminal voltage adds ``I x R`` (so a pack driven nearly empty sags
  below its minimum voltage: a deep-discharge event);
* temperature relaxes (time constant 30 min) towards the ambient temperature of the vehicle's market
  (``simulation-climates.yaml``, day-night swing) plus the heat of the ``I^2 R`` losses: DC fast charging in
  a hot market leaves the temperature range;
* capacity fade, from the pack's last reported state of health (else from its age): calendar fade faster
  when hot (doubling per +10 degC) plus cycle fade per equivalent full cycle, LFP-like magnitudes (about
  1.5 %/year calendar at 25 degC, 20 % after some 5,000 cycles); a pack from a bad cell lot fades four times
  as fast (which a recall can then find);
* driving: trips of 15-70 min at 6-25 kW (more with heating or air conditioning), parking 2-10 h; charging
  when the state of charge falls below the driver's habit, AC 11 kW or DC 60-120 kW tapering above 80 %;
* the BMS reports its state of health hourly (true capacity / rated, with 0.2 points of noise).

A few units misbehave on purpose, to exercise the ingest's refusals: ``bad_values`` (a state of charge of
140 %, a temperature as text), ``wrong_topic`` (publishes under ``…/telemetry``), ``replay`` (sends an old
message again, as a unit with a lost acknowledgement would).
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Any

import orjson
import yaml

from roadpass.telematics.health import CURRENT, SOC, SOH, TEMPERATURE, VOLTAGE
from roadpass.telematics.topics import PREFIX, topic, unit_segment

__all__ = [
    "IS_CHARGING",
    "SPEED",
    "Climate",
    "FadeModel",
    "FleetSim",
    "Misbehaviour",
    "Outgoing",
    "PackSpec",
    "VehicleSim",
    "VehicleSpec",
    "climate_of",
    "open_circuit_voltage",
]

SPEED = "Vehicle.Speed"
IS_CHARGING = "Vehicle.Powertrain.TractionBattery.Charging.IsCharging"
_US = 1_000_000
# Per-cell open-circuit voltage of an LFP cell against state of charge (fraction), 3.2 V nominal.
_OCV = ((0.0, 2.50), (0.03, 2.90), (0.10, 3.20), (0.30, 3.26), (0.70, 3.30), (0.95, 3.34), (1.0, 3.60))
_OCV_X = [x for x, _ in _OCV]


def open_circuit_voltage(soc_fraction: float, nominal_voltage_v: float) -> float:
    """The pack's open-circuit voltage at a state of charge (LFP-like curve, cells = nominal / 3.2 V)."""
    s = min(1.0, max(0.0, soc_fraction))
    i = min(len(_OCV) - 2, bisect_right(_OCV_X, s) - 1)
    (x0, y0), (x1, y1) = _OCV[i], _OCV[i + 1]
    return (y0 + (y1 - y0) * (s - x0) / (x1 - x0)) * nominal_voltage_v / 3.2


@dataclass(frozen=True, slots=True)
class Climate:
    """Ambient air temperature of a market: annual mean and half the day-night swing, degC."""

    mean_c: float
    swing_c: float

    def at(self, at_us: int) -> float:
        """Ambient temperature at a UTC instant (warmest mid-afternoon UTC; markets' offsets ignored)."""
        hour = (at_us / _US / 3600.0) % 24.0
        return self.mean_c + self.swing_c * math.sin(2 * math.pi * (hour - 9.0) / 24.0)


@cache
def _climates() -> tuple[Climate, dict[str, Climate]]:
    text = resources.files("roadpass.telematics").joinpath("simulation-climates.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    default = Climate(float(data["default"]["mean_c"]), float(data["default"]["swing_c"]))
    markets = {k: Climate(float(v["mean_c"]), float(v["swing_c"])) for k, v in (data.get("markets") or {}).items()}
    return default, markets


def climate_of(market: str | None) -> Climate:
    """The climate of a market (ISO 3166 alpha-2), or the default one."""
    default, markets = _climates()
    return markets.get((market or "").upper(), default)


@dataclass(frozen=True, slots=True)
class FadeModel:
    """How fast a pack loses capacity (fractions of the rated capacity)."""

    calendar_per_day: float = 0.015 / 365.0  # about 1.5 %/year at 25 degC
    cycle_per_full_cycle: float = 0.00004  # 20 % after 5,000 equivalent full cycles
    doubling_c: float = 10.0  # calendar fade doubles per this many degC above 25 (Arrhenius rule of thumb)
    bad_lot_factor: float = 4.0


@dataclass(frozen=True, slots=True)
class PackSpec:
    """The pack a simulated vehicle carries, with its passport's declared figures."""

    key: str
    rated_capacity_ah: float
    nominal_voltage_v: float
    minimum_voltage_v: float
    maximum_voltage_v: float
    resistance_ohm: float = 0.12


class Misbehaviour(StrEnum):
    """How a misbehaving unit misbehaves."""

    BAD_VALUES = "bad_values"
    WRONG_TOPIC = "wrong_topic"
    REPLAY = "replay"


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """One simulated vehicle: its VIN, the unit that reports for it, its market and pack, how it is used."""

    vin: str
    unit_key: str
    market: str | None
    pack: PackSpec
    age_days: float = 0.0
    bad_cell_lot: bool = False
    misbehaviour: Misbehaviour | None = None
    careless: bool = False  # drives nearly empty now and then (deep discharge)
    initial_fade: float | None = None  # the fade its passport last reported (else from its age, below)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message a unit publishes: its credentials' unit, the topic, the payload, the sample time."""

    unit_key: str
    topic: str
    payload: bytes
    at_us: int


@dataclass(slots=True)
class _State:
    soc: float  # fraction
    temperature_c: float
    fade: float  # fraction of rated capacity lost
    mode: str = "parked"
    until_us: int = 0
    power_kw: float = 0.0  # drive demand (> 0 out of the pack) or charge power (> 0 into it)
    target_soc: float = 0.9
    current_a: float = 0.0
    speed_kmh: float = 0.0
    next_publish_us: int = 0
    next_soh_us: int = 0
    sent: list[bytes] = field(default_factory=list)
    count: int = 0


class VehicleSim:
    """One vehicle's physics and its unit's messages (see module docstring)."""

    def __init__(self, spec: VehicleSpec, start_us: int, rng: random.Random, fade: FadeModel) -> None:
        self.spec, self.rng, self.model = spec, rng, fade
        self.now_us = start_us
        self.climate = climate_of(spec.market)
        factor = fade.bad_lot_factor if spec.bad_cell_lot else 1.0
        # The fade a pack of this age has had: calendar at the market's mean plus about 0.35 cycles a day.
        warm = 2.0 ** ((self.climate.mean_c - 25.0) / fade.doubling_c)
        initial = spec.age_days * (fade.calendar_per_day * warm + 0.35 * fade.cycle_per_full_cycle) * factor
        initial = initial if spec.initial_fade is None else spec.initial_fade
        self.state = _State(soc=rng.uniform(0.45, 0.9), temperature_c=self.climate.at(start_us), fade=initial,
                            until_us=start_us + int(rng.uniform(0, 3 * 3600) * _US))
        self.charge_below = 0.06 if spec.careless else rng.uniform(0.25, 0.45)

    @property
    def capacity_ah(self) -> float:
        """The pack's true capacity now."""
        return self.spec.pack.rated_capacity_ah * (1.0 - self.state.fade)

    def voltage(self) -> float:
        """Terminal voltage: open-circuit voltage plus ``I x R`` (charging raises it, load sags it)."""
        p = self.spec.pack
        return open_circuit_voltage(self.state.soc, p.nominal_voltage_v) + self.state.current_a * p.resistance_ohm

    def _next_mode(self, now_us: int) -> None:
        s, rng = self.state, self.rng
        low = s.soc < self.charge_below + (0.02 if s.mode == "driving" else 0.0)
        if low and s.mode != "charging":
            dc = rng.random() < 0.25
            s.mode, s.power_kw = "charging", rng.uniform(60.0, 120.0) if dc else 11.0
            s.target_soc = rng.uniform(0.8, 0.95)
            s.until_us = now_us + 12 * 3600 * _US  # ends at the target long before
        elif s.mode == "parked":
            ambient = self.climate.at(now_us)
            hvac = abs(ambient - 20.0) * 0.15  # kW of heating or air conditioning
            s.mode, s.power_kw = "driving", rng.uniform(6.0, 25.0) + hvac
            s.until_us = now_us + int(rng.uniform(15, 70) * 60 * _US)
            s.speed_kmh = 20.0 + s.power_kw * 3.0
        else:
            s.mode, s.power_kw, s.speed_kmh = "parked", 0.0, 0.0
            s.until_us = now_us + int(rng.uniform(2, 10) * 3600 * _US)

    def _step(self, dt_s: float, now_us: int) -> None:
        s, p, m = self.state, self.spec.pack, self.model
        ocv = open_circuit_voltage(s.soc, p.nominal_voltage_v)
        if s.mode == "charging":
            taper = 1.0 if s.soc < 0.8 else max(0.05, (1.0 - s.soc) / 0.2)
            s.current_a = s.power_kw * taper * 1000.0 / ocv
        elif s.mode == "driving":
            s.current_a = -s.power_kw * 1000.0 / ocv
        else:
            s.current_a = 0.0
        capacity = self.capacity_ah
        s.soc = min(1.0, max(0.0, s.soc + s.current_a * dt_s / 3600.0 / capacity))
        loss_kw = s.current_a ** 2 * p.resistance_ohm / 1000.0
        target = self.climate.at(now_us) + 2.0 * loss_kw
        s.temperature_c += (target - s.temperature_c) * (1.0 - math.exp(-dt_s / 1800.0))
        factor = m.bad_lot_factor if self.spec.bad_cell_lot else 1.0
        calendar = m.calendar_per_day * dt_s / 86400.0 * 2.0 ** ((s.temperature_c - 25.0) / m.doubling_c)
        cycles = abs(s.current_a) * dt_s / 3600.0 / (2.0 * p.rated_capacity_ah)
        s.fade += (calendar + cycles * m.cycle_per_full_cycle) * factor
        if s.mode == "charging" and s.soc >= s.target_soc:
            s.until_us = now_us
        floor = 0.002 if self.spec.careless else 0.03
        if s.mode == "driving" and s.soc <= floor:
            s.until_us = now_us

    def _signals(self, now_us: int) -> dict[str, Any]:
        s = self.state
        signals: dict[str, Any] = {
            SOC: round(s.soc * 100.0, 2), CURRENT: round(s.current_a, 2), VOLTAGE: round(self.voltage(), 2),
            TEMPERATURE: round(s.temperature_c, 2), SPEED: round(s.speed_kmh, 1), IS_CHARGING: s.mode == "charging",
        }
        if now_us >= s.next_soh_us:
            soh = 100.0 * (1.0 - s.fade) + self.rng.gauss(0.0, 0.2)
            signals[SOH] = round(min(100.0, max(0.0, soh)), 1)
            s.next_soh_us = now_us + 3600 * _US
        return signals

    def _message(self, now_us: int) -> list[Outgoing]:
        s, spec = self.state, self.spec
        signals = self._signals(now_us)
        s.count += 1
        odd = spec.misbehaviour is not None and s.count % 10 == 0
        if odd and spec.misbehaviour is Misbehaviour.BAD_VALUES:
            signals[SOC], signals[TEMPERATURE] = 140.0, "hot"  # above_max, bad_datatype
        payload = orjson.dumps({"ts": now_us // 1000, "signals": signals})
        name = topic(spec.unit_key)
        if odd and spec.misbehaviour is Misbehaviour.WRONG_TOPIC:
            name = f"{PREFIX}{unit_segment(spec.unit_key)}/telemetry"  # refused: unknown_topic
        out = [Outgoing(spec.unit_key, name, payload, now_us)]
        if odd and spec.misbehaviour is Misbehaviour.REPLAY and len(s.sent) > 5:
            out.append(Outgoing(spec.unit_key, topic(spec.unit_key), s.sent[-5], now_us))  # stored once
        s.sent = [*s.sent[-9:], payload]
        return out

    def advance(self, until_us: int, *, step_s: float, publish_every_s: float) -> list[Outgoing]:
        """Run the vehicle's clock on to ``until_us``; the messages published on the way, oldest first."""
        s, out, step_us, every_us = self.state, [], int(step_s * _US), int(publish_every_s * _US)
        while self.now_us < until_us:
            now_us = self.now_us
            if now_us >= s.until_us:
                self._next_mode(now_us)
                self._step(0.0, now_us)
                out.extend(self._message(now_us))  # wake-up, key off, plugged in: a unit reports on change
                s.next_publish_us = now_us + every_us
            if s.mode == "parked":  # nothing flows: jump to the next trip, relaxing temperature and ageing
                nxt = min(s.until_us, until_us)
                self._step((nxt - now_us) / _US, nxt)
                self.now_us = nxt
                continue
            self._step(step_s, now_us)
            self.now_us = now_us + step_us
            if self.now_us >= s.next_publish_us:
                out.extend(self._message(self.now_us))
                s.next_publish_us = self.now_us + every_us
        return out


class FleetSim:
    """Every simulated vehicle, advanced together on one simulated clock."""

    def __init__(
        self, vehicles: Sequence[VehicleSpec], start_us: int, *, seed: int = 14, step_s: float = 10.0,
        publish_every_s: float = 60.0, fade: FadeModel = FadeModel(),
    ) -> None:
        rng = random.Random(seed)
        self.vehicles = [VehicleSim(v, start_us, random.Random(rng.random()), fade) for v in vehicles]
        self.now_us = start_us
        self.step_s, self.publish_every_s = step_s, publish_every_s

    def advance(self, until_us: int) -> list[Outgoing]:
        """Move the simulated clock to ``until_us``; every vehicle's messages in that span, by time."""
        out: list[Outgoing] = []
        if until_us <= self.now_us:
            return out
        for v in self.vehicles:
            out.extend(v.advance(until_us, step_s=self.step_s, publish_every_s=self.publish_every_s))
        self.now_us = until_us
        out.sort(key=lambda o: o.at_us)
        return out

    def truth(self) -> dict[str, float]:
        """Each pack's true capacity now (Ah), for tests and the demo's sanity checks."""
        return {v.spec.pack.key: v.capacity_ah for v in self.vehicles}
