"""The demo fleet's physics (pure): what the simulated units report is plausible, and the health estimators
find in it what the simulation knows to be true."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
import pytest

from roadpass.telematics.health import (
    SOC,
    HealthEventKind,
    HealthTally,
    HealthTotals,
    PackRatings,
    fold,
    report,
    samples_from_signals,
)
from roadpass.telematics.messages import parse_vss
from roadpass.telematics.simulation import (
    FleetSim,
    Misbehaviour,
    Outgoing,
    PackSpec,
    VehicleSpec,
    climate_of,
    open_circuit_voltage,
)
from roadpass.telematics.simulation_run import SimulationRunner
from roadpass.telematics.topics import parse_topic, topic
from roadpass.telematics.vss import vss_tree

T0 = 1_780_000_000_000_000
DAY = 86_400_000_000
RATINGS = PackRatings(rated_capacity_ah=140.6, minimum_voltage_v=320.0, maximum_voltage_v=467.2)


def vehicle(i: int, market: str, **kw: object) -> VehicleSpec:
    pack = PackSpec(f"https://id.gs1.org/01/06944120000301/21/{i}", 140.6, 409.6, 320.0, 467.2)
    return VehicleSpec(f"LVSIM0000000000{i:02d}", f"https://id.gs1.org/01/06957718001110/21/{i}", market, pack,
                       age_days=200.0, **kw)  # type: ignore[arg-type]


def run(specs: list[VehicleSpec], days: float, seed: int = 14) -> tuple[FleetSim, list[Outgoing]]:
    fleet = FleetSim(specs, T0, seed=seed, publish_every_s=120.0)
    return fleet, fleet.advance(T0 + int(days * DAY))


def signals_of(out: list[Outgoing], unit: str) -> list[tuple[int, str, float]]:
    rows = []
    for o in out:
        if o.unit_key == unit and o.topic == topic(unit):
            body = orjson.loads(o.payload)
            rows += [(body["ts"] * 1000, p, v) for p, v in body["signals"].items() if not isinstance(v, str)]
    return rows


def test_open_circuit_voltage_spans_the_declared_limits() -> None:
    volts = [open_circuit_voltage(s / 100, 409.6) for s in range(101)]
    assert volts == sorted(volts)
    assert volts[0] == pytest.approx(320.0) and volts[-1] == pytest.approx(460.8)
    assert volts[50] == pytest.approx(3.28 * 128, abs=1.0)


def test_the_estimators_find_the_true_capacity_the_simulation_knows() -> None:
    specs = [vehicle(i, m) for i, m in enumerate(["DE", "AE", "ES", "TH"])]
    fleet, out = run(specs, 10)
    truth = fleet.truth()
    for spec in specs:
        tally = fold(HealthTally(), samples_from_signals(signals_of(out, spec.unit_key)), RATINGS)
        health = report(tally, HealthTotals(), RATINGS)
        assert health is not None and health.estimated_capacity_ah is not None
        assert health.estimated_capacity_ah == pytest.approx(truth[spec.pack.key], rel=0.02)
        assert health.reported_soh_percent == pytest.approx(truth[spec.pack.key] / 140.6 * 100, abs=1.0)
        assert 2.0 < health.equivalent_full_cycles < 15.0  # about 0.3-1 cycles a day


def test_a_bad_cell_lot_fades_faster_and_heat_ages() -> None:
    specs = [vehicle(0, "DE"), vehicle(1, "DE", bad_cell_lot=True), vehicle(2, "AE")]
    fleet, _ = run(specs, 5)
    truth = fleet.truth()
    fade = {k: 1 - v / 140.6 for k, v in truth.items()}
    assert fade[specs[1].pack.key] > 3 * fade[specs[0].pack.key]
    assert fade[specs[2].pack.key] > fade[specs[0].pack.key]


def test_temperature_follows_the_market_climate() -> None:
    specs = [vehicle(0, "DE"), vehicle(1, "AE")]
    _, out = run(specs, 4)
    mean = {}
    for spec in specs:
        temps = [v for _, p, v in signals_of(out, spec.unit_key) if p.endswith("Temperature.Average")]
        mean[spec.market] = sum(temps) / len(temps)
    assert mean["AE"] - mean["DE"] > 10
    assert climate_of("AE").mean_c > climate_of("DE").mean_c and climate_of("??") == climate_of(None)


def test_a_careless_driver_runs_the_pack_into_deep_discharge() -> None:
    spec = vehicle(0, "ES", careless=True)
    _, out = run([spec], 10)
    events = fold(HealthTally(), samples_from_signals(signals_of(out, spec.unit_key)), RATINGS).events
    assert events and {e.kind for e in events} == {HealthEventKind.DEEP_DISCHARGE}


def test_good_units_send_only_valid_vss_and_misbehaving_ones_are_refused() -> None:
    specs = [vehicle(0, "DE"), vehicle(1, "NL", misbehaviour=Misbehaviour.BAD_VALUES),
             vehicle(2, "FR", misbehaviour=Misbehaviour.WRONG_TOPIC),
             vehicle(3, "BE", misbehaviour=Misbehaviour.REPLAY)]
    _, out = run(specs, 2)
    tree = vss_tree()
    reasons: dict[str, list[str]] = {s.unit_key: [] for s in specs}
    payloads: dict[str, list[bytes]] = {s.unit_key: [] for s in specs}
    for o in out:
        try:
            parse_topic(o.topic)
        except ValueError:
            reasons[o.unit_key].append("unknown_topic")
            continue
        reasons[o.unit_key] += [r.reason for r in parse_vss(o.payload, tree).refusals]
        payloads[o.unit_key].append(o.payload)
    assert reasons[specs[0].unit_key] == []
    assert {"above_max", "bad_datatype"} <= set(reasons[specs[1].unit_key])
    assert set(reasons[specs[2].unit_key]) == {"unknown_topic"}
    replayed = payloads[specs[3].unit_key]
    assert reasons[specs[3].unit_key] == [] and len(set(replayed)) < len(replayed)


def test_the_same_seed_gives_the_same_fleet_and_time_runs_in_pieces() -> None:
    specs = [vehicle(0, "DE"), vehicle(1, "ES")]
    _, once = run(specs, 2, seed=7)
    fleet = FleetSim(specs, T0, seed=7, publish_every_s=120.0)
    pieces = fleet.advance(T0 + DAY) + fleet.advance(T0 + 2 * DAY)
    assert [o.payload for o in once] == [o.payload for o in pieces]
    assert all(0 <= orjson.loads(o.payload)["signals"][SOC] <= 100 for o in once)


class FakeAccounts:
    """Credentials as the telematics service hands them out: one live account per unit."""

    def __init__(self, live: set[str]) -> None:
        self.live, self.log = set(live), []

    def create_credential(self, unit: str, *, actor: str) -> Issued:
        if unit in self.live:
            raise ValueError(f"unit: {unit} already has broker credentials; revoke them first")
        self.live.add(unit)
        self.log.append(("create", unit))
        return Issued(unit.rsplit("/", 1)[-1], f"pw-{unit[-1]}")

    def revoke_credential(self, unit: str, *, actor: str) -> None:
        self.live.discard(unit)
        self.log.append(("revoke", unit))


@dataclass(frozen=True)
class Issued:
    username: str
    password: str


class FakePublisher:
    """Keeps what would go to the broker."""

    def __init__(self) -> None:
        self.connected: dict[str, tuple[str, str]] = {}
        self.sent: list[tuple[str, str, bytes]] = []
        self.closed = False

    def connect(self, unit_key: str, username: str, password: str) -> None:
        self.connected[unit_key] = (username, password)

    def publish(self, unit_key: str, topic: str, payload: bytes) -> None:
        assert unit_key in self.connected
        self.sent.append((unit_key, topic, payload))

    def flush(self, timeout: float) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


def test_the_runner_replays_the_recent_past_in_sped_up_time_as_each_unit() -> None:
    specs = [vehicle(0, "DE"), vehicle(1, "ES")]
    ticks = iter(float(t) for t in range(1000))
    accounts, publisher = FakeAccounts({specs[1].unit_key}), FakePublisher()
    now = T0 + 30 * DAY
    runner = SimulationRunner(specs, publisher, accounts, minutes=2, speedup=720, now_us=now,
                              clock=lambda: next(ticks), tick_seconds=0.0)
    result = runner.run(drain_seconds=0)
    assert runner.start_us == now - 2 * 60 * 720 * 1_000_000  # one simulated day, ending now
    # a unit with a live account from an earlier run gets a fresh one (its password is gone)
    assert accounts.log == [("create", specs[0].unit_key), ("revoke", specs[1].unit_key),
                            ("create", specs[1].unit_key)]
    assert set(publisher.connected) == {s.unit_key for s in specs} and publisher.closed
    times = [orjson.loads(p)["ts"] * 1000 for _, _, p in publisher.sent]
    assert result.messages == len(publisher.sent) > 50
    assert runner.start_us <= min(times) and max(times) <= now
    assert all(name == topic(unit) for unit, name, _ in publisher.sent)
    with pytest.raises(ValueError, match="minutes"):
        SimulationRunner(specs, publisher, accounts, minutes=0)
