"""End to end: a short simulation of the demo fleet through a real Mosquitto on a free port lands state of
health on the packs' passports (each update ledgered, seen at the legitimate-interest level only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_helpers import run_cli
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.broker.accounts import ROADPASS_USER, broker_directory
from roadpass.broker.publisher import MqttPublisher
from roadpass.broker.runner import BrokerUnavailable, MosquittoBroker, find_mosquitto, free_port
from roadpass.broker.subscriber import MqttIngester
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.passport.access import Role
from roadpass.settings import Settings
from roadpass.telematics.health_service import ACTOR, PackHealthService
from roadpass.telematics.health_warranty import WarrantyTerms
from roadpass.telematics.simulation_fleet import simulated_fleet
from roadpass.telematics.simulation_run import SimulationRunner
from roadpass.trace.timeutil import parse_time

pytestmark = pytest.mark.slow
TCU = "https://id.gs1.org/01/06957718001116/21/"  # the demo fleet's telematics control units
PD = "PerformanceAndDurability"


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Roadpass, MosquittoBroker]]:
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto; `make test` installs it)")
    app = bootstrap(Settings(database_url=sqlite_url, telematics_dir=tmp_path / "mqtt"))
    load_fleet(app, FleetSpec(vehicles=6))
    app.passports.issue_from_trace(actor="test")
    broker = MosquittoBroker(broker_directory(tmp_path / "mqtt"), port=free_port())
    try:
        broker.start()
    except BrokerUnavailable as exc:  # pragma: no cover - depends on the machine
        pytest.skip(str(exc))
    app.telematics.republish()
    try:
        yield app, broker
    finally:
        broker.stop()
        app.close()


def test_a_short_simulation_lands_health_on_the_passports(world: tuple[Roadpass, MosquittoBroker]) -> None:
    app, broker = world
    ingester = MqttIngester(app.telematics_ingest, host=broker.host, port=broker.port, username=ROADPASS_USER,
                            password=broker.accounts.roadpass_password())
    ingester.start()
    assert ingester.connected.is_set()
    health: PackHealthService = PackHealthService(app.passports, app.telematics, cadence_seconds=12 * 3600)
    minutes, speedup = 0.1, 3 * 86_400 / 6  # three simulated days in six seconds
    runner = SimulationRunner([], MqttPublisher(broker.host, broker.port), app.telematics, minutes=minutes,
                              speedup=speedup, health=health, health_every_seconds=2.0, lag_seconds=1.0)
    fleet = simulated_fleet(app.passports, app.trace, vehicles=6, unit_prefixes=[TCU], start_us=runner.start_us,
                            misbehave_every=2)
    assert len(fleet.vehicles) == 6 and fleet.bad_lot is not None
    assert any(v.bad_cell_lot for v in fleet.vehicles)
    # a recall by the bad lot finds the simulated packs made with it
    hits = {h.vin for h in app.trace.where_used(fleet.bad_lot)[1]}
    assert {v.vin for v in fleet.vehicles if v.bad_cell_lot} <= hits
    runner = SimulationRunner(fleet.vehicles, MqttPublisher(broker.host, broker.port), app.telematics,
                              minutes=minutes, speedup=speedup, health=health, health_every_seconds=2.0,
                              lag_seconds=1.0, now_us=runner.end_us)
    try:
        result = runner.run(drain_seconds=2.0)
    finally:
        ingester.stop()
    assert result.messages > 100 and result.unacknowledged == 0
    status = app.telematics.status().as_json()
    assert status["stored"] > 0 and status["duplicates"] > 0  # the replaying unit's messages stored once
    # the misbehaving units (every second one: bad values, wrong topic, replay) were refused, with the reason
    assert {"above_max", "bad_datatype", "unknown_topic"} <= set(status["refused"])

    written = {u.pack for u in result.health_updates}
    assert written == {v.pack.key for v in fleet.vehicles}
    pack = fleet.vehicles[0].pack.key
    passport_id = app.passports.resolve(pack)
    passport = app.passports.get(passport_id)
    condition = passport.value_at(PD, "$.batteryCondition")
    assert isinstance(condition, dict)
    soce = condition["stateOfCertifiedEnergy"]
    assert 80.0 < soce["stateOfCertifiedEnergyValue"] <= 100.0
    assert runner.start_us <= parse_time(soce["lastUpdate"]) <= runner.end_us
    assert condition["numberOfFullCycles"]["numberOfFullCyclesValue"] > 0
    assert condition["capacityThroughput"]["capacityThroughputValue"] > 0
    assert "timeExtremeHighTemp" in condition["temperatureInformation"]
    # the updates are in the ledger, attributed to the health service under the regulation's rule
    entries = app.ledger.recent(limit=2000, actor=ACTOR)
    assert entries and all(e.action == "passport.dynamic" and "Annex VII" in e.rule for e in entries)
    # Annex XIII (4): state of health is for persons with a legitimate interest, not the public
    public = app.passports.view(passport_id, Role.PUBLIC, actor="test").to_json()
    assert "stateOfCertifiedEnergy" not in str(public)
    legit = app.passports.view(passport_id, Role.LEGITIMATE_INTEREST, actor="test").to_json()
    assert "stateOfCertifiedEnergy" in str(legit)
    # the warranty hook answers for every simulated pack
    finding = health.warranty(pack, WarrantyTerms(threshold_percent=99.9, years=8))
    assert finding.figure is not None and finding.in_service_us is not None


def test_the_simulate_command_brings_its_own_broker(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch, fresh_cli_state: None
) -> None:
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto; `make test` installs it)")
    monkeypatch.setenv("ROADPASS_TELEMATICS_DIR", str(tmp_path / "mqtt"))
    monkeypatch.setenv("ROADPASS_MQTT_PORT", str(free_port()))  # nothing listens: the command starts a broker
    monkeypatch.setenv("ROADPASS_TELEMATICS_HEALTH_CADENCE_HOURS", "6")
    app = bootstrap(Settings(database_url=sqlite_url))
    load_fleet(app, FleetSpec(vehicles=3))
    app.passports.issue_from_trace(actor="test")
    app.close()
    code, out = run_cli(sqlite_url, "telematics", "simulate", "--vehicles", "2", "--minutes", "0.08",
                        "--speedup", "20000", "--json")
    assert code == 0, out
    assert out["vehicles"] == 2 and out["messages"] > 0 and out["unacknowledged"] == 0
    assert {u["pack"] for u in out["healthUpdates"]} and all(u["equivalentFullCycles"] > 0
                                                              for u in out["healthUpdates"])
    code, flagged = run_cli(sqlite_url, "telematics", "health", "--threshold", "99.99", "--json")
    assert code == 0 and set(flagged["flagged"]) >= {u["pack"] for u in out["healthUpdates"]}
    code, bad = run_cli(sqlite_url, "telematics", "health", "--threshold", "0", "--json")
    assert code != 0 and "threshold" in str(bad)
