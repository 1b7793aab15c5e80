"""The battery health service: cadence, lifetime totals, negative events, ledger and access levels, the
warranty hook; with fakes at its ports, and with the real passport service on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.passport.access import Role
from roadpass.passport.domain import BatteryPassport
from roadpass.telematics.health import CURRENT, SOC, SOH, TEMPERATURE, VOLTAGE
from roadpass.telematics.health_chart import health_chart_svg, health_series
from roadpass.telematics.health_service import ACTOR, RULE, PackHealthService
from roadpass.telematics.health_warranty import HealthFigure, WarrantyTerms, warranty_finding
from roadpass.telematics.service import Point
from roadpass.trace.timeutil import iso_utc, parse_time

PD = "PerformanceAndDurability"
PACK = "https://id.gs1.org/01/06944120000318/21/1"
T0 = parse_time("2026-06-01T00:00:00Z")
MIN = 60_000_000
HOUR = 60 * MIN


@dataclass
class FakePassport:
    """The passport as health uses it: sections and a history of dynamic writes."""

    battery_id: str
    sections: dict[str, Any]
    history: list[tuple[str, Any, str, str | None]] = field(default_factory=list)

    def value_at(self, section: str, path: str) -> Any:
        node: Any = self.sections.get(section, {})
        for part in path.removeprefix("$").strip(".").replace("[", ".[").split("."):
            if not part:
                continue
            if part.startswith("["):
                index = int(part[1:-1])
                node = node[index] if isinstance(node, list) and index < len(node) else None
            else:
                node = node.get(part) if isinstance(node, dict) else None
        return node

    def with_dynamic(self, section: str, path: str, value: Any, last_update: str,
                     source: str | None = None) -> FakePassport:
        out = copy.deepcopy(self)
        parts = path.removeprefix("$.").split(".")
        node = out.sections.setdefault(section, {})
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        last = parts[-1]
        if "[" in last:
            name, index = last[:-1].split("[")
            items = node.setdefault(name, [])
            assert int(index) == len(items)
            items.append(value)
        else:
            node[last] = value
        out.history.append((path, value, last_update, source))
        return out


class FakePassports:
    """One passport per pack; every record is kept (what would be ledgered)."""

    def __init__(self, passports: dict[str, FakePassport]) -> None:
        self.passports = passports
        self.records: list[tuple[str, str, str]] = []

    def resolve(self, identifier: str) -> str:
        if identifier not in self.passports:
            raise LookupError(identifier)
        return f"urn:roadpass:{identifier.rsplit('/', 1)[-1]}"

    def _key(self, passport_id: str) -> str:
        return next(k for k in self.passports if k.endswith("/" + passport_id.rsplit(":", 1)[-1]))

    def get(self, passport_id: str) -> FakePassport:
        return self.passports[self._key(passport_id)]

    def record(self, passport_id: str, change: Callable[[FakePassport], FakePassport], *, actor: str,
               rule: str = "") -> FakePassport:
        key = self._key(passport_id)
        self.passports[key] = change(self.passports[key])
        self.records.append((passport_id, actor, rule))
        return self.passports[key]

    def list_passports(self, *, limit: int = 50, offset: int = 0, query: str | None = None) -> list[dict[str, Any]]:
        rows = [{"passportId": self.resolve(k), "batteryId": k} for k in self.passports]
        return rows[offset:offset + limit]


class FakeSignals:
    """Stored samples by pack: ``{pack: [(ts, path, value)]}``; answers like the telematics reading API."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[int, str, Any]]] = {}

    def add(self, pack: str, at: int, **signals: float) -> None:
        names = {"soc": SOC, "current": CURRENT, "voltage": VOLTAGE, "temperature": TEMPERATURE, "soh": SOH}
        self.rows.setdefault(pack, []).extend((at, names[k], v) for k, v in signals.items())

    def series(self, subject: str, paths: Sequence[str], start: int, end: int,
               grain: str = "raw") -> Mapping[str, Sequence[Point]]:
        out: dict[str, list[Point]] = {p: [] for p in paths}
        for ts, path, value in sorted(self.rows.get(subject, [])):
            if start <= ts < end and path in out:
                out[path].append(Point(ts, value))
        return out


def passport(extra: dict[str, Any] | None = None) -> FakePassport:
    tech = {"ratedCapacity": 100.0, "minimumVoltage": 320.0, "maximumVoltage": 467.2, "nominalVoltage": 409.6,
            "temperatureRangeIdleState": 45}
    return FakePassport(PACK, {PD: {"batteryTechicalProperties": tech, **(extra or {})},
                               "GeneralProductInformation": {"puttingIntoService": "2025-06-01T00:00:00Z"}})


def drive(signals: FakeSignals, start: int, minutes: int, *, capacity: float = 90.0, soc: float = 90.0,
          current: float = -45.0, soh: float = 91.0, volts: float = 400.0) -> int:
    for i in range(minutes + 1):
        signals.add(PACK, start + i * MIN, soc=soc + current * i / 60 / capacity * 100, current=current,
                    voltage=volts, temperature=25.0, soh=soh)
    return start + minutes * MIN


def service(passports: FakePassports, signals: FakeSignals, hours: float = 12.0) -> PackHealthService[Any]:
    return PackHealthService(passports, signals, cadence_seconds=hours * 3600)


def test_nothing_is_written_before_a_cadence_is_covered_then_one_ledgered_update() -> None:
    passports, signals = FakePassports({PACK: passport()}), FakeSignals()
    health = service(passports, signals)
    end = drive(signals, T0, 80)
    assert health.update(PACK, until_us=end) is None and passports.records == []  # 80 min < 12 h
    drive(signals, T0 + 13 * HOUR, 1, current=0.5, soc=30.0)
    update = health.update(PACK, until_us=T0 + 14 * HOUR)
    assert update is not None and passports.records == [("urn:roadpass:1", ACTOR, RULE)]
    condition = passports.get("urn:roadpass:1").value_at(PD, "$.batteryCondition")
    assert condition["remainingCapacity"]["remainingCapacityValue"] == pytest.approx(90.0, rel=0.02)
    assert condition["stateOfCertifiedEnergy"]["stateOfCertifiedEnergyValue"] == 91.0
    assert condition["capacityThroughput"]["lastUpdate"] == iso_utc(T0 + 13 * HOUR + MIN).replace(".000Z", "+00:00")


def test_totals_carry_on_across_updates_and_a_restart() -> None:
    passports, signals = FakePassports({PACK: passport()}), FakeSignals()
    drive(signals, T0, 80)
    first = service(passports, signals, hours=1).update(PACK, until_us=T0 + 2 * HOUR, force=True)
    assert first is not None
    drive(signals, T0 + 3 * HOUR, 80)
    # a new service (a restart) reads where the passport is up to date from the passport itself
    second = service(passports, signals, hours=1).update(PACK, until_us=T0 + 5 * HOUR, force=True)
    assert second is not None
    ratio = second.report.totals.capacity_throughput_ah / first.report.totals.capacity_throughput_ah
    assert ratio == pytest.approx(2.0, rel=0.01)
    assert second.report.equivalent_full_cycles == pytest.approx(2 * first.report.equivalent_full_cycles, rel=0.01)


def test_deep_discharges_are_appended_as_negative_events() -> None:
    existing = {"batteryCondition": {"negativeEvents": [{"negativeEvent": "overheating",
                                                         "lastUpdate": "2026-01-01T00:00:00Z"}]}}
    passports, signals = FakePassports({PACK: passport(existing)}), FakeSignals()
    end = drive(signals, T0, 10, volts=310.0)
    assert service(passports, signals).update(PACK, until_us=end, force=True) is not None
    events = passports.get("urn:roadpass:1").value_at(PD, "$.batteryCondition.negativeEvents")
    assert [e["negativeEvent"].split(":")[0] for e in events] == ["overheating", "deep discharge"]


def test_a_pack_without_passport_or_rated_capacity_is_skipped() -> None:
    bare = passport()
    bare.sections[PD]["batteryTechicalProperties"].pop("ratedCapacity")
    passports, signals = FakePassports({PACK: bare}), FakeSignals()
    drive(signals, T0, 80)
    health = service(passports, signals)
    assert health.update(PACK, until_us=T0 + 2 * HOUR, force=True) is None
    assert health.update("https://id.gs1.org/01/06944120000318/21/404", force=True) is None
    assert health.update_all(until_us=T0 + 2 * HOUR, force=True) == [] and health.packs() == [PACK]


def test_warranty_rule_flags_below_threshold_within_the_years_only() -> None:
    start = parse_time("2024-01-01T00:00:00Z")
    year = int(365.25 * 86_400_000_000)
    terms = WarrantyTerms(threshold_percent=80.0, years=8)
    low_late = HealthFigure("reported", 75.0, start + 9 * year)
    low_early = HealthFigure("estimated", 78.5, start + 3 * year)
    fine = HealthFigure("reported", 92.0, start + 3 * year)
    assert not warranty_finding(terms, start, [fine, low_late]).flagged
    found = warranty_finding(terms, start, [fine, low_early])
    assert found.flagged and found.figure == low_early and "estimated" in found.reason
    assert not warranty_finding(terms, None, [low_early]).flagged
    with pytest.raises(ValueError, match="threshold_percent"):
        WarrantyTerms(threshold_percent=0, years=8)


def test_the_service_flags_packs_from_their_passports() -> None:
    passports, signals = FakePassports({PACK: passport()}), FakeSignals()
    end = drive(signals, T0, 80, soh=77.0, capacity=76.0)
    health = service(passports, signals)
    health.update(PACK, until_us=end, force=True)
    flagged = health.flagged([PACK, "https://id.gs1.org/01/06944120000318/21/404"], WarrantyTerms(80.0, 8))
    assert list(flagged) == [PACK] and flagged[PACK].figure is not None
    assert not health.flagged([PACK], WarrantyTerms(70.0, 8))


def test_chart_from_a_view_history() -> None:
    history = [
        {"section": PD, "path": "$.batteryCondition.stateOfCertifiedEnergy", "last_update": "2026-01-01T00:00:00Z",
         "value": {"stateOfCertifiedEnergyValue": 97.0, "lastUpdate": "2026-01-01T00:00:00Z"}},
        {"section": PD, "path": "$.batteryCondition.capacityFade", "last_update": "2026-02-01T00:00:00Z",
         "value": {"capacityFadeValue": 3.5, "lastUpdate": "2026-02-01T00:00:00Z"}},
        {"section": PD, "path": "$.batteryCondition.numberOfFullCycles", "last_update": "2026-02-01T00:00:00Z",
         "value": {"numberOfFullCyclesValue": 40, "lastUpdate": "2026-02-01T00:00:00Z"}},
        {"section": "Circularity", "path": "$.x", "last_update": "2026-02-01T00:00:00Z", "value": 1},
    ]
    series = health_series(history)
    assert series["reported"] == [(parse_time("2026-01-01T00:00:00Z"), 97.0)]
    assert series["estimated"] == [(parse_time("2026-02-01T00:00:00Z"), 96.5)]
    svg = health_chart_svg(history)
    assert svg is not None and svg.startswith("<svg") and "</svg>" in svg
    assert health_chart_svg(history[2:]) is None  # cycles alone: no state of health to draw


def test_on_the_real_passport_service(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> None:
    load_fleet(app, FleetSpec(vehicles=2))
    issued = app.passports.issue_from_trace(actor="test").issued
    pack = app.passports.get(issued[0]).battery_id
    signals = FakeSignals()
    end = drive(signals, T0, 80, capacity=130.0, current=-60.0)
    for at, path, value in signals.rows[PACK]:
        signals.rows.setdefault(pack, []).append((at, path, value))
    health: PackHealthService[BatteryPassport] = PackHealthService(app.passports, signals, cadence_seconds=3600)
    update = health.update(pack, until_us=end, force=True)
    assert update is not None and update.passport_id == issued[0]
    stored = app.passports.get(issued[0])
    assert stored.value_at(PD, "$.batteryCondition.stateOfCertifiedEnergy.stateOfCertifiedEnergyValue") == 91.0
    assert [e.action for e in app.ledger.recent(limit=5, actor=ACTOR)] == ["passport.dynamic"]
    legit = app.passports.view(issued[0], Role.LEGITIMATE_INTEREST, actor="test")
    public = app.passports.view(issued[0], Role.PUBLIC, actor="test")
    assert health_chart_svg(legit.to_json()["history"]) is not None  # type: ignore[arg-type]
    assert health_chart_svg(public.to_json()["history"]) is None  # type: ignore[arg-type]
    assert "stateOfCertifiedEnergy" not in str(public.to_json())
    # the passport page draws the chart for a repairer (legitimate interest), the public page never
    client = TestClient(create_app(roadpass=app), headers=auth_headers(role="repairer"))
    page = client.get(f"/ui/passports/{issued[0]}")
    assert page.status_code == 200 and 'id="health-chart"' in page.text and "<svg" in page.text
    public_page = client.get(f"/passport/{issued[0]}")
    assert public_page.status_code == 200 and 'id="health-chart"' not in public_page.text
