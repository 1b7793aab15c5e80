"""Software updates (UN R156) over REST, in process, on SQLite and PostgreSQL: vehicle types, reports from
units, campaigns, per-vehicle history (scoped), RFC 7807 errors naming the field, and the campaign page."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

sys.path.insert(0, str(Path(__file__).parents[1] / "telematics" / "software"))
from software_world import AURORA, CAMPAIGN, fit, payload, unit_epc, vin

Headers = Callable[..., dict[str, str]]
LR1, LR2, SR1 = vin("2", 1), vin("2", 2), vin("1", 3)
NOW = "2026-12-06T00:00:00Z"


@pytest.fixture
def maker(app: Roadpass, auth_headers: Headers) -> Iterator[TestClient]:
    """The manufacturer (its company prefix is the vehicles' and units'), with three fitted vehicles."""
    for n, v in enumerate((LR1, LR2, SR1), start=1):
        fit(app, v, unit_epc(n), "2026-01-05T08:00:00Z")
    with TestClient(create_app(roadpass=app), headers=auth_headers(gcp="6951234")) as client:
        yield client


def _post_report(client: TestClient, n: int, body: bytes) -> dict[str, object]:
    response = client.post(f"/software/units/{unit_epc(n)}/reports", content=body)
    assert response.status_code in (200, 201), response.text
    result: dict[str, object] = response.json()
    return result


def test_types_reports_campaign_and_history(maker: TestClient) -> None:
    assert maker.post("/software/vehicle-types", json=AURORA).status_code == 201
    assert maker.post("/software/vehicle-types", json=AURORA).status_code == 409
    assert [t["key"] for t in maker.get("/software/vehicle-types").json()] == ["aurora"]
    for n in (1, 2, 3):
        assert _post_report(maker, n, payload("3.1.0", "2026-02-01T08:00:00Z"))["vin"] in (LR1, LR2, SR1)
    again = maker.post(f"/software/units/{unit_epc(1)}/reports", content=payload("3.1.0", "2026-02-01T08:00:00Z"))
    assert again.status_code == 200 and again.json()["duplicate"] is True

    created = maker.post("/software/campaigns", json=CAMPAIGN)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/software/campaigns/CCU3-3.2"
    assert created.json()["by_state"]["offered"] == 2

    _post_report(maker, 1, payload("3.1.0", "2026-03-01T08:00:00Z", claim="success"))
    _post_report(maker, 2, payload("3.2.0", "2026-03-01T08:00:00Z", rxswin="R10SWIN-AUR-0003"))
    status = maker.get("/software/campaigns/CCU3-3.2").json()
    assert status["by_state"]["installed"] == 1 and status["by_state"]["offered"] == 1
    assert [c["vin"] for c in status["unconfirmed_claims"]] == [LR1]
    assert [c["key"] for c in maker.get("/software/campaigns").json()] == ["CCU3-3.2"]

    history = maker.get(f"/software/vehicles/{LR2}/history").json()
    assert history["rxswin"] == ["R10SWIN-AUR-0003", "R79SWIN-AUR-0001"]
    assert [c["state"] for c in history["campaigns"]] == ["offered", "installed"]

    page = maker.get("/ui/software/CCU3-3.2")
    assert page.status_code == 200 and LR1 in page.text and "installs nothing" in page.text
    assert "CCU3-3.2" in maker.get("/ui/software").text
    assert maker.get("/ui/software/nope").status_code == 404


def test_errors_name_the_field(maker: TestClient) -> None:
    bad = maker.post(f"/software/units/{unit_epc(1)}/reports", content=b'{"reported_at": "soon", "ecus": []}')
    assert bad.status_code == 400
    assert {i["path"] for i in bad.json()["issues"]} == {"/reported_at", "/ecus"}
    nowhere = maker.post(f"/software/units/{unit_epc(8)}/reports", content=payload("3.1.0", "2026-02-01T08:00:00Z"))
    assert nowhere.status_code == 422 and nowhere.json()["issues"][0]["path"] == "unit"
    campaign = maker.post("/software/campaigns", json={**CAMPAIGN, "vehicle_type": "zeta"})
    assert campaign.status_code == 400 and campaign.json()["issues"][0]["path"] == "/vehicle_type"
    assert maker.post("/software/campaigns", content=b"{").json()["issues"][0]["reason"] == "not JSON"
    assert maker.get("/software/campaigns/none").status_code == 404


def test_history_is_scoped_to_the_vehicles_the_caller_sees(app: Roadpass, maker: TestClient,
                                                          auth_headers: Headers) -> None:
    with TestClient(create_app(roadpass=app), headers=auth_headers("dealer")) as other:
        assert other.get(f"/software/vehicles/{LR1}/history").status_code == 404
        assert other.post("/software/campaigns", json=CAMPAIGN).status_code == 403
    assert maker.get(f"/software/vehicles/{LR1}/history").status_code == 200
