"""Service records on SQLite and PostgreSQL: the part swaps reach genealogy through the capture path, the
record is checked against genealogy, re-sending is safe, and every write is ledgered."""

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
    load_fleet(app, FleetSpec(vehicles=8, service_share=0.0))
    return app


def _vins(app: Roadpass) -> list[str]:
    with app.uow.read() as conn:
        return [r[0] for r in conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL ORDER BY vin"))]


def _swap(app: Roadpass, vin: str, key: str, serial: str = "SV0001", at: int = AT) -> WorkOrder:
    old = next(c.key for c in app.trace.as_built(vin, at).children if not c.children)
    new = old.split("/21/")[0] + f"/21/{serial}"
    return WorkOrder(key, vin, at, 30_000, "A. Tech", (Operation("REPL", "replace"),), (PartSwap(old, new),),
                     ("RC-1",))


def test_a_swap_reaches_as_built_and_where_used_and_the_ledger(fleet: Roadpass) -> None:
    vin = _vins(fleet)[0]
    order = _swap(fleet, vin, "WO-1")
    outcome = fleet.service_records.record(order, actor="party:test/user:t")
    assert (outcome.stored, outcome.events) == (1, 2) and outcome.ledger_seq is not None
    children = {c.key for c in fleet.trace.as_built(vin).children}
    assert order.fitted[0] in children and order.removed[0] not in children
    assert order.removed[0] in {c.key for c in fleet.trace.as_built(vin, AT - 1).children}
    _unit, hits = fleet.trace.where_used(order.fitted[0])
    assert [h.vin for h in hits] == [vin]
    [row] = fleet.service_records.history(vin)
    assert (row.record_key, row.removed, row.fitted, row.campaigns) == ("WO-1", tuple(order.removed),
                                                                         tuple(order.fitted), ("RC-1",))
    assert fleet.ledger.verify().ok
    with fleet.uow.read() as conn:
        action = conn.execute(text("SELECT action, actor FROM ledger_entry WHERE seq = :s"),
                              {"s": outcome.ledger_seq}).one()
        campaign = conn.execute(text("SELECT campaign_key, vin FROM service_record_campaign")).one()
    assert tuple(action) == ("service.record", "party:test/user:t")
    assert tuple(campaign) == ("RC-1", vin)


def test_resending_is_safe_and_a_reused_key_is_refused(fleet: Roadpass) -> None:
    vin, other = _vins(fleet)[:2]
    order = _swap(fleet, vin, "WO-1")
    fleet.service_records.record(order, actor="t")
    again = fleet.service_records.record(order, actor="t")
    assert (again.stored, again.already_recorded, again.events) == (0, 1, 0)
    with pytest.raises(WorkOrderInvalid) as caught:
        fleet.service_records.record(_swap(fleet, other, "WO-1", "SV0002"), actor="t")
    assert caught.value.problems[0].path == "$.recordKey"


def test_the_genealogy_refuses_a_part_not_in_that_vehicle(fleet: Roadpass) -> None:
    vin, other = _vins(fleet)[:2]
    foreign = _swap(fleet, other, "WO-X")
    wrong = WorkOrder("WO-2", vin, AT, 1, "t", (), (PartSwap(foreign.removed[0], None),))
    with pytest.raises(WorkOrderInvalid) as caught:
        fleet.service_records.record(wrong, actor="t")
    assert caught.value.problems[0].path == "$.parts[0].removed"
    assert "was not in vehicle" in caught.value.problems[0].reason
    fitted_elsewhere = WorkOrder("WO-3", vin, AT, 1, "t", (), (PartSwap(None, foreign.removed[0]),))
    with pytest.raises(WorkOrderInvalid) as caught:
        fleet.service_records.record(fitted_elsewhere, actor="t")
    assert f"sits in vehicle {other}" in caught.value.problems[0].reason


def test_a_batch_is_all_or_nothing_and_one_capture(fleet: Roadpass) -> None:
    vins = _vins(fleet)[:3]
    orders = [_swap(fleet, v, f"WO-{i}", f"SV{i:04d}") for i, v in enumerate(vins)]
    bad = WorkOrder("WO-bad", "ZZZZZZZZZZZZZZZZZ", AT, 1, "t", (Operation("X"),))
    with pytest.raises(WorkOrderInvalid) as caught:
        fleet.service_records.record_many([*orders, bad], actor="t")
    assert caught.value.problems[0].path == "$[3].vin"
    assert fleet.service_records.history(vins[0]) == []
    outcome = fleet.service_records.record_many(orders, actor="t")
    assert (outcome.stored, outcome.events) == (3, 6) and outcome.capture_id is not None


def test_a_caller_who_does_not_see_the_vehicle_is_refused(fleet: Roadpass) -> None:
    vin = _vins(fleet)[0]
    nobody = Visibility(unit_prefixes=("https://id.gs1.org/01/0000000",))
    with pytest.raises(Hidden):
        fleet.service_records.record(_swap(fleet, vin, "WO-1"), actor="t", visibility=nobody)
    with pytest.raises(Hidden):
        fleet.service_records.history(vin, visibility=nobody)


def test_what_is_due_follows_new_records_and_applies_visibility(fleet: Roadpass) -> None:
    vin = _vins(fleet)[0]
    assert fleet.repairer_desk.due(vin).history == []
    fleet.service_records.record(_swap(fleet, vin, "WO-1"), actor="t")
    due = fleet.repairer_desk.due(vin)
    assert [r.record_key for r in due.history] == ["WO-1"]
    assert due.as_json()["history"][0]["fitted"] == list(due.history[0].fitted)
    with pytest.raises(Hidden):
        fleet.repairer_desk.due(vin, visibility=Visibility(unit_prefixes=("https://id.gs1.org/01/0000000",)))
    assert fleet.repairer_desk.due(vin, visibility=Visibility(unit_keys=frozenset({due.vehicle}))).vin == vin


def test_a_batch_larger_than_the_capture_limit_is_captured_in_parts(fleet: Roadpass) -> None:
    vins = _vins(fleet)[:3]
    orders = [_swap(fleet, v, f"WO-{i}", f"SV{i:04d}") for i, v in enumerate(vins)]
    fleet.trace.max_events = 2  # each work order's swap is two events: three captures
    outcome = fleet.service_records.record_many(orders, actor="t")
    assert (outcome.stored, outcome.events) == (3, 6)
    with fleet.uow.read() as conn:
        jobs = conn.execute(text("SELECT COUNT(*) FROM capture_job WHERE actor = 't'")).scalar_one()
    assert jobs == 3
