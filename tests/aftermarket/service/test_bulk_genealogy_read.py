"""The one-statement read behind a batch of work orders (children of many vehicles at given times), on SQLite
and PostgreSQL: it agrees with the per-vehicle as-built read at every asked instant, follows swaps, leaves
unknown VINs out and applies the caller's visibility; a batch checked with it refuses what it refused before."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from roadpass.aftermarket.service.model import Operation, PartSwap, WorkOrder, WorkOrderInvalid
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.query import Visibility
from roadpass.trace.service import Hidden
from roadpass.trace.timeutil import parse_time

AT = parse_time("2026-10-01T09:00:00Z")


@pytest.fixture
def fleet(app: Roadpass) -> Roadpass:
    load_fleet(app, FleetSpec(vehicles=6, service_share=0.0))
    return app


def _vins(app: Roadpass) -> list[str]:
    with app.uow.read() as conn:
        return [r[0] for r in conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL ORDER BY vin"))]


def _direct(app: Roadpass, vin: str, at: int) -> list[tuple[str, object, object, object]]:
    return sorted((c.key, c.kind, c.since, c.until) for c in app.trace.as_built(vin, at).children)


def test_children_at_many_instants_agree_with_as_built(fleet: Roadpass) -> None:
    vins = _vins(fleet)
    vin = vins[0]
    old = next(c.key for c in fleet.trace.as_built(vin, AT).children if not c.children)
    new = old.split("/21/")[0] + "/21/BULK0001"
    fleet.service_records.record(
        WorkOrder("WO-B1", vin, AT, 10, "t", (Operation("R"),), (PartSwap(old, new),)), actor="t")
    instants = [AT - 1, AT, AT + 1, parse_time("2030-01-01T00:00:00Z")]
    asked = [(v, at) for v in vins for at in instants] + [("ZZZZZZZZZZZZZZZZZ", AT)]
    found = fleet.trace.vehicles_children_at(asked)
    assert ("ZZZZZZZZZZZZZZZZZ", AT) not in found
    for v, at in asked[:-1]:
        tree = found[(v, at)]
        assert tree.vin == v and tree.key == fleet.trace.resolve(v).key
        assert sorted((c.key, c.kind, c.since, c.until) for c in tree.children) == _direct(fleet, v, at)
    assert old in {c.key for c in found[(vin, AT - 1)].children}
    assert {old, new} & {c.key for c in found[(vin, AT)].children} == {new}
    assert fleet.trace.vehicles_children_at([]) == {}


def test_children_at_many_applies_visibility(fleet: Roadpass) -> None:
    vin = _vins(fleet)[0]
    nobody = Visibility(unit_prefixes=("https://id.gs1.org/01/0000000",))
    with pytest.raises(Hidden):
        fleet.trace.vehicles_children_at([(vin, AT)], visibility=nobody)
    owner = Visibility(unit_keys=frozenset({fleet.trace.resolve(vin).key}))
    assert fleet.trace.vehicles_children_at([(vin, AT)], visibility=owner)[(vin, AT)].vin == vin


def test_a_part_deeper_in_the_vehicle_is_refused_with_the_reason(fleet: Roadpass) -> None:
    vin = _vins(fleet)[0]
    pack = next(c for c in fleet.trace.as_built(vin, AT).children if c.children)
    inner = pack.children[0].key
    order = WorkOrder("WO-D", vin, AT, 10, "t", (), (PartSwap(inner, None),))
    with pytest.raises(WorkOrderInvalid) as caught:
        fleet.service_records.record_many([order], actor="t")
    assert caught.value.problems[0].path == "$[0].parts[0].removed"
    assert "sits inside another part" in caught.value.problems[0].reason


def test_a_batch_on_one_vehicle_at_two_times_reads_each_instant(fleet: Roadpass) -> None:
    vin = _vins(fleet)[0]
    old = next(c.key for c in fleet.trace.as_built(vin, AT).children if not c.children)
    first = old.split("/21/")[0] + "/21/BULK0002"
    second = old.split("/21/")[0] + "/21/BULK0003"
    later = AT + 3_600_000_000
    orders = [WorkOrder("WO-T1", vin, AT, 10, "t", (), (PartSwap(old, first),)),
              WorkOrder("WO-T2", vin, later, 20, "t", (), (PartSwap(first, second),))]
    outcome = fleet.service_records.record_many(orders, actor="t")
    assert outcome.stored == 2
    assert second in {c.key for c in fleet.trace.as_built(vin).children}
