"""Warranty claims on SQLite and PostgreSQL: submitted → accepted or rejected (with the reason the genealogy
and coverage give) → settled; only the vehicle's maker decides; every step is ledgered."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from roadpass.aftermarket.service.model import Operation, PartSwap, WorkOrder
from roadpass.aftermarket.warranty.model import NewClaim, WorkflowError
from roadpass.aftermarket.warranty.service import NotTheMaker
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.query import Visibility
from roadpass.trace.timeutil import parse_time

AT = parse_time("2026-10-01T09:00:00Z")


@pytest.fixture
def repaired(app: Roadpass) -> tuple[Roadpass, WorkOrder, str]:
    """A fleet with one repair recorded; the app, the work order and another vehicle's VIN."""
    load_fleet(app, FleetSpec(vehicles=8, service_share=0.0))
    with app.uow.read() as conn:
        vin, other = [r[0] for r in conn.execute(text(
            "SELECT vin FROM unit WHERE vin IS NOT NULL AND market IS NOT NULL ORDER BY vin LIMIT 2"))]
    old = next(c.key for c in app.trace.as_built(vin, AT).children if not c.children)
    order = WorkOrder("WO-1", vin, AT, 30_000, "A. Tech", (Operation("REPL"),),
                      (PartSwap(old, old.split("/21/")[0] + "/21/SV0001"),))
    app.service_records.record(order, actor="t")
    return app, order, other


def _claim(order: WorkOrder, key: str, **changes: object) -> NewClaim:
    fields: dict[str, object] = {"claim_key": key, "vin": order.vin, "epc": order.removed[0], "product": "vehicle",
                                 "claimed_at": order.performed_at, "odometer_km": order.odometer_km,
                                 "defect": "fails self-test", "record_key": order.record_key,
                                 "amount_cents": 40_000}
    return NewClaim(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_claim_inside_coverage_is_accepted_then_settled_and_ledgered(repaired: tuple[Roadpass, WorkOrder, str]
                                                                       ) -> None:
    app, order, _other = repaired
    assert app.warranty.submit(_claim(order, "WC-1"), actor="party:w/user:r").status == "submitted"
    decided = app.warranty.decide("WC-1", actor="party:lanxing/user:m")
    assert decided.status == "accepted" and "maker-new-vehicle" in (decided.reason or "")
    settled = app.warranty.settle("WC-1", actor="party:lanxing/user:m", amount_cents=38_000)
    assert [s.status for s in settled.steps] == ["submitted", "accepted", "settled"]
    assert settled.steps[-1].amount_cents == 38_000
    with pytest.raises(WorkflowError):
        app.warranty.settle("WC-1", actor="m")
    with app.uow.read() as conn:
        actions = [r[0] for r in conn.execute(text(
            "SELECT action FROM ledger_entry WHERE action LIKE 'warranty.%' ORDER BY seq"))]
    assert actions == ["warranty.submit", "warranty.accepted", "warranty.settled"]
    assert app.ledger.verify().ok
    assert [c.claim.claim_key for c in app.warranty.claims_for(order.vin)] == ["WC-1"]


def test_a_part_never_in_that_vehicle_is_rejected(repaired: tuple[Roadpass, WorkOrder, str]) -> None:
    app, order, other = repaired
    app.warranty.submit(_claim(order, "WC-2", vin=other, record_key=None), actor="r")
    decided = app.warranty.decide("WC-2", actor="m")
    assert decided.status == "rejected" and "never in that vehicle" in (decided.reason or "")


def test_a_claim_outside_coverage_or_against_another_record_is_rejected(
    repaired: tuple[Roadpass, WorkOrder, str]
) -> None:
    app, order, _other = repaired
    late = _claim(order, "WC-3", claimed_at=parse_time("2031-01-01T00:00:00Z"), odometer_km=140_000)
    app.warranty.submit(late, actor="r")
    assert app.warranty.check("WC-3").accepted is False
    assert app.warranty.decide("WC-3", actor="m").reason.startswith("outside coverage")  # type: ignore[union-attr]
    app.warranty.submit(_claim(order, "WC-4", epc=order.fitted[0]), actor="r")
    assert "did not remove the claimed part" in (app.warranty.decide("WC-4", actor="m").reason or "")


def test_only_the_maker_decides_and_a_reviewer_may_reject_with_a_reason(
    repaired: tuple[Roadpass, WorkOrder, str]
) -> None:
    app, order, _other = repaired
    app.warranty.submit(_claim(order, "WC-5"), actor="r")
    with pytest.raises(NotTheMaker):
        app.warranty.decide("WC-5", actor="r", maker=Visibility(unit_prefixes=("https://id.gs1.org/01/0426",)))
    maker = Visibility(unit_prefixes=("https://id.gs1.org/8004/6975001",))
    row = app.warranty.decide("WC-5", actor="m", maker=maker, reject_reason="damage from an accident")
    assert (row.status, row.reason) == ("rejected", "damage from an accident")
    with pytest.raises(WorkflowError):
        app.warranty.submit(_claim(order, "WC-5"), actor="r")
