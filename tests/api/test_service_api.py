"""Service records and warranty over REST, in process: record a work order, read history and what is due,
submit and decide claims; errors are RFC 7807 bodies naming the field; callers see only their vehicles."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from roadpass.access.model import ShareKind
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet

AT = "2026-10-01T09:00:00Z"
FAR = 4_102_444_800_000_000  # 2100-01-01 (µs)


@pytest.fixture
def world(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> dict[str, object]:
    """A small fleet; the carmaker's, a repairer's (one shared vehicle) and a stranger's headers."""
    load_fleet(app, FleetSpec(vehicles=6, service_share=0.0))
    with app.uow.read() as conn:
        vins = [r[0] for r in conn.execute(text(
            "SELECT vin FROM unit WHERE vin IS NOT NULL AND market IS NOT NULL ORDER BY vin LIMIT 2"))]
    repairer = auth_headers("repairer", key="fix_de")
    app.admin.share_owned(actor="test", grantor_key="lanxing", grantee_key="fix_de", kind=ShareKind.UNIT,
                          target=vins[0], purpose="repair", valid_until=FAR)
    maker = auth_headers("manufacturer", key="lanxing", gcp="6975001", country="CN")
    return {"vins": vins, "repairer": repairer, "maker": maker, "stranger": auth_headers("repairer")}


def _work_order(app: Roadpass, vin: str, key: str = "WO-1") -> dict[str, object]:
    old = next(c.key for c in app.trace.as_built(vin).children if not c.children)
    return {"recordKey": key, "vin": vin, "performedAt": AT, "odometerKm": 30000, "technician": "A. Tech",
            "operations": [{"code": "REPL", "description": "replace", "hours": 1}],
            "parts": [{"removed": old, "fitted": old.split("/21/")[0] + "/21/SV0001"}]}


def test_a_repairer_records_work_and_reads_history_and_what_is_due(app: Roadpass, world: dict[str, object]) -> None:
    vin = world["vins"][0]  # type: ignore[index]
    client = TestClient(create_app(roadpass=app), headers=world["repairer"])  # type: ignore[arg-type]
    body = _work_order(app, vin)
    made = client.post("/service-records", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["stored"] == 1 and made.json()["events"] == 2
    assert client.post("/service-records", json=body).json()["alreadyRecorded"] == 1
    history = client.get(f"/vehicles/{vin}/service-records").json()["records"]
    assert [r["recordKey"] for r in history] == ["WO-1"]
    due = client.get(f"/vehicles/{vin}/due")
    assert due.status_code == 200
    assert due.json()["vin"] == vin and due.json()["history"][0]["recordKey"] == "WO-1"
    assert {c["coverage"] for c in due.json()["coverage"]} >= {"maker-new-vehicle"}


def test_errors_name_the_field(app: Roadpass, world: dict[str, object]) -> None:
    client = TestClient(create_app(roadpass=app), headers=world["repairer"])  # type: ignore[arg-type]
    bad = client.post("/service-records", json={"vin": "123", "performedAt": "soon", "odometerKm": -5})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    instances = {e["instance"] for e in bad.json()["errors"]}
    assert {"$.recordKey", "$.vin", "$.performedAt", "$.odometerKm", "$.technician"} <= instances
    vin = world["vins"][0]  # type: ignore[index]
    batch = client.post("/service-records", json={"workOrders": [_work_order(app, vin), {"recordKey": "x"}]})
    assert batch.status_code == 400 and "$.workOrders[1].vin" in {e["instance"] for e in batch.json()["errors"]}


def test_a_vehicle_not_shared_is_not_found(app: Roadpass, world: dict[str, object]) -> None:
    vins = world["vins"]
    client = TestClient(create_app(roadpass=app), headers=world["repairer"])  # type: ignore[arg-type]
    assert client.get(f"/vehicles/{vins[1]}/due").status_code == 404  # type: ignore[index]
    assert client.post("/service-records", json=_work_order(app, vins[1])).status_code == 404  # type: ignore[index]
    stranger = TestClient(create_app(roadpass=app), headers=world["stranger"])  # type: ignore[arg-type]
    assert stranger.get(f"/vehicles/{vins[0]}/service-records").status_code == 404  # type: ignore[index]


def test_the_warranty_workflow_over_rest(app: Roadpass, world: dict[str, object]) -> None:
    vin = world["vins"][0]  # type: ignore[index]
    repairer = TestClient(create_app(roadpass=app), headers=world["repairer"])  # type: ignore[arg-type]
    maker = TestClient(create_app(roadpass=app), headers=world["maker"])  # type: ignore[arg-type]
    order = _work_order(app, vin)
    assert repairer.post("/service-records", json=order).status_code == 201
    part = order["parts"][0]["removed"]  # type: ignore[index]
    claim = {"claimKey": "WC-1", "vin": vin, "part": part, "product": "vehicle", "claimedAt": AT,
             "odometerKm": 30000, "defect": "fails self-test", "recordKey": "WO-1", "amountCents": 40000}
    submitted = repairer.post("/warranty/claims", json=claim)
    assert submitted.status_code == 201 and submitted.json()["status"] == "submitted"
    assert repairer.post("/warranty/claims/WC-1/decision", json={}).status_code == 403
    decided = maker.post("/warranty/claims/WC-1/decision", json={})
    assert decided.status_code == 200 and decided.json()["status"] == "accepted", decided.text
    settled = maker.post("/warranty/claims/WC-1/settlement", json={"amountCents": 39000})
    assert settled.json()["status"] == "settled"
    again = maker.post("/warranty/claims/WC-1/settlement", json={})
    assert again.status_code == 409 and again.json()["errors"][0]["instance"] == "$.status"
    assert repairer.get("/warranty/claims/WC-1").json()["history"][-1]["amountCents"] == 39000
    coverage = repairer.get("/warranty/coverage").json()
    assert any(e["source"].startswith("Directive (EU) 2019/771") for e in coverage["coverage"])
    bad = repairer.post("/warranty/claims", json={**claim, "claimKey": "WC-2", "stateOfHealth": 101})
    assert bad.status_code == 400 and bad.json()["errors"][0]["instance"] == "$.stateOfHealth"
