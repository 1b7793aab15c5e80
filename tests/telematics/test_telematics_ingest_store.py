"""Ingest on SQLite and PostgreSQL: checked, attributed through the genealogy, stored once, rolled up,
refusals dead-lettered and counted, every batch ledgered."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from telematics_world import (
    SOC,
    SOH,
    SPEED,
    build,
    fit,
    key,
    message,
    pack_epc,
    unit_epc,
    us,
    vehicle_epc,
    vin,
    vss_topic,
)

from roadpass.bootstrap import Roadpass
from roadpass.telematics.ingest import Inbound
from roadpass.telematics.service import Point
from roadpass.trace.timeutil import FOREVER

_arrivals = itertools.count(us("2026-03-02T00:00:00Z"))


def _in(unit: int, payload: bytes) -> Inbound:
    """A message as received now (each receipt at its own microsecond, as the subscriber stamps them)."""
    return Inbound(vss_topic(unit), payload, next(_arrivals))


def test_signals_are_stored_on_vehicle_and_pack_and_duplicates_once(app: Roadpass) -> None:
    build(app)
    batch = [_in(1, message({SPEED: 50.0, SOH: 97.5, SOC: 80.0}, "2026-03-01T09:00:00Z")),
             _in(1, message({SPEED: 52.0, SOH: 97.4}, "2026-03-01T09:00:01Z"))]
    first = app.telematics_ingest.ingest(batch)
    assert (first.stored, first.duplicates, sum(first.refused.values())) == (5, 0, 0)
    again = app.telematics_ingest.ingest([_in(1, m.payload) for m in batch])  # QoS 1 redelivery
    assert (again.stored, again.duplicates) == (0, 5)
    fresh = message({SPEED: 9.0}, "2026-03-01T09:00:05Z")
    mixed = app.telematics_ingest.ingest([_in(1, batch[0].payload), _in(1, fresh)])
    assert (mixed.stored, mixed.duplicates) == (1, 3)
    speeds = app.telematics.series(vin(1), [SPEED], 0, FOREVER)
    assert speeds[SPEED] == [Point(us("2026-03-01T09:00:00Z"), 50.0), Point(us("2026-03-01T09:00:01Z"), 52.0),
                             Point(us("2026-03-01T09:00:05Z"), 9.0)]
    pack = app.telematics.series(pack_epc(1), [SOH, SPEED], 0, FOREVER)
    assert [p.value for p in pack[SOH]] == [97.5, 97.4] and pack[SPEED] == []
    assert app.telematics.series(vehicle_epc(1), [SOH], 0, FOREVER)[SOH] == []  # battery data are the pack's
    hourly = app.telematics.series(pack_epc(1), [SOH], 0, FOREVER, "hour")[SOH]
    assert len(hourly) == 1 and hourly[0].samples == 2 and hourly[0].min == 97.4 and hourly[0].max == 97.5
    status = app.telematics.status().as_json()
    assert status["messages"] == 6 and status["stored"] == 6 and status["duplicates"] == 8


def test_late_and_out_of_order_samples_land_at_their_own_time(app: Roadpass) -> None:
    build(app, 1)
    app.telematics_ingest.ingest([_in(1, message({SPEED: 3.0}, "2026-03-01T12:00:00Z"))])
    app.telematics_ingest.ingest([_in(1, message({SPEED: 1.0}, "2026-03-01T10:00:00Z")),
                                  _in(1, message({SPEED: 2.0}, us("2026-03-01T11:00:00Z") // 1000))])
    points = app.telematics.series(vin(1), [SPEED], 0, FOREVER)[SPEED]
    assert [p.value for p in points] == [1.0, 2.0, 3.0]
    daily = app.telematics.series(vin(1), [SPEED], 0, FOREVER, "day")[SPEED]
    assert [(d.samples, d.mean) for d in daily] == [(3, 2.0)]


def test_refusals_are_counted_and_dead_lettered_and_good_neighbours_kept(app: Roadpass) -> None:
    build(app, 1)
    out = app.telematics_ingest.ingest([
        _in(1, message({SPEED: 10.0, SOH: 140.0, "Vehicle.Nope": 1, "Vehicle.Powertrain": 1}, T1)),
        _in(1, b"{not json"),
        Inbound("roadpass/units/x/other", b"{}", us(T1)),
        _in(1, message({SPEED: {"value": 5, "unit": "m/s"}}, T1)),
        _in(9, message({SPEED: 1.0}, T1)),  # a unit the trace store does not know
    ])
    assert out.stored == 1
    assert dict(out.refused) == {"above_max": 1, "unknown_path": 1, "not_a_leaf": 1, "not_json": 1,
                                 "unknown_topic": 1, "wrong_unit": 1, "unknown_unit": 1}
    rows = app.telematics.refusals(20)
    assert {r["reason"] for r in rows} == set(out.refused)
    above = next(r for r in rows if r["reason"] == "above_max")
    assert above["path"] == f'$.signals["{SOH}"]' and above["unit"] == key(unit_epc(1))
    assert app.telematics.status().refused["above_max"] == 1


T1 = "2026-03-01T09:00:00Z"


def test_swaps_follow_the_genealogy(app: Roadpass) -> None:
    build(app, 2)
    # At noon pack 1 moves from vehicle 1 to vehicle 2 (pack 2 out), and unit 1 to vehicle 2.
    fit(app, 1, [pack_epc(1), unit_epc(1)], "2026-03-01T12:00:00Z", "DELETE")
    fit(app, 2, [pack_epc(2), unit_epc(2)], "2026-03-01T12:00:00Z", "DELETE")
    fit(app, 2, [pack_epc(1), unit_epc(1)], "2026-03-01T12:00:00Z")
    out = app.telematics_ingest.ingest([
        _in(1, message({SPEED: 1.0, SOH: 99.0}, "2026-03-01T11:00:00Z")),  # before: vehicle 1, pack 1
        _in(1, message({SPEED: 2.0, SOH: 98.0}, "2026-03-01T13:00:00Z")),  # after: vehicle 2, pack 1
        _in(2, message({SPEED: 3.0}, "2026-03-01T13:00:00Z")),  # unit 2 is out of every vehicle
    ])
    assert out.stored == 4 and out.refused["not_fitted"] == 1
    assert [p.value for p in app.telematics.series(vin(1), [SPEED], 0, FOREVER)[SPEED]] == [1.0]
    assert [p.value for p in app.telematics.series(vin(2), [SPEED], 0, FOREVER)[SPEED]] == [2.0]
    assert [p.value for p in app.telematics.series(pack_epc(1), [SOH], 0, FOREVER)[SOH]] == [99.0, 98.0]


def test_battery_signal_without_a_pack_is_refused(app: Roadpass) -> None:
    fit(app, 1, [unit_epc(1)], "2026-03-01T08:00:00Z")
    out = app.telematics_ingest.ingest([_in(1, message({SOH: 90.0, SPEED: 4.0}, T1))])
    assert out.stored == 1 and out.refused["no_pack"] == 1


def test_batches_are_ledgered_and_the_chain_verifies(app: Roadpass) -> None:
    build(app, 1)
    before = app.ledger.verify().entries
    app.telematics_ingest.ingest([_in(1, message({SPEED: 1.0}, T1))])
    app.telematics_ingest.ingest([_in(1, message({SPEED: 1.0}, T1))])  # a duplicate only: nothing written
    report = app.ledger.verify()
    assert report.ok, report.problems
    assert report.entries == before + 1


def test_raw_retention_keeps_rollups(app: Roadpass) -> None:
    build(app, 1)
    app.telematics_ingest.ingest([_in(1, message({SPEED: 7.0}, T1))])
    assert app.telematics.prune(now=us(T1) + 91 * 86_400_000_000) == 1
    assert app.telematics.series(vin(1), [SPEED], 0, FOREVER)[SPEED] == []
    assert app.telematics.series(vin(1), [SPEED], 0, FOREVER, "hour")[SPEED][0].mean == 7.0


def test_unknown_path_or_grain_is_refused_naming_it(app: Roadpass) -> None:
    build(app, 1)
    with pytest.raises(ValueError, match="path"):
        app.telematics.series(vin(1), ["Vehicle.Nope"], 0, FOREVER)
    with pytest.raises(ValueError, match="grain"):
        app.telematics.series(vin(1), [SPEED], 0, FOREVER, "week")  # type: ignore[arg-type]


def test_credentials_are_ledgered_and_written_for_the_broker(app: Roadpass, tmp_path: Path) -> None:
    from roadpass.broker.accounts import MosquittoAccounts

    build(app, 1)
    app.telematics.accounts = MosquittoAccounts(tmp_path)
    issued = app.telematics.create_credential(unit_epc(1), actor="cli:test")
    assert issued.topic == vss_topic(1).rsplit("/", 1)[0] + "/vss"
    passwd = (tmp_path / "passwd").read_text()
    assert f"{issued.username}:$7$101$" in passwd and issued.password not in passwd
    assert f"topic write roadpass/units/{issued.username}/#" in (tmp_path / "acl").read_text()
    app.telematics.revoke_credential(unit_epc(1), actor="cli:test")
    assert issued.username not in (tmp_path / "passwd").read_text()
    assert app.ledger.verify().ok


def test_a_flood_is_counted_whole_but_dead_lettered_in_part(app: Roadpass) -> None:
    build(app, 1)
    out = app.telematics_ingest.ingest([_in(1, b"junk") for _ in range(50)] + [_in(1, message({SPEED: 3.0}, T1))])
    assert out.refused["not_json"] == 50 and out.stored == 1
    assert len(app.telematics.refusals(100)) == 20
    assert app.telematics.status().refused["not_json"] == 50
