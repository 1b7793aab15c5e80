"""Telematics over REST and the command line: status, credentials (ledgered, scoped), signal series."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from telematics_world import SOH, SPEED, build, key, message, pack_epc, unit_epc, us, vin, vss_topic

from cli_helpers import run_cli
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.broker.accounts import MosquittoAccounts
from roadpass.telematics.ingest import Inbound

Headers = Callable[..., dict[str, str]]


def _ingest(app: Roadpass) -> None:
    app.telematics_ingest.ingest([
        Inbound(vss_topic(1), message({SPEED: 30.0, SOH: 96.0}, "2026-03-01T09:00:00Z"), us("2026-03-01T09:00:01Z")),
        Inbound(vss_topic(1), message({SPEED: 500.0, SOH: 101.0}, "2026-03-01T09:00:02Z"), us("2026-03-01T09:00:03Z")),
    ])


def test_series_status_and_scoping(app: Roadpass, auth_headers: Headers) -> None:
    build(app, 1)
    _ingest(app)
    api = create_app(roadpass=app)
    with TestClient(api, headers=auth_headers("manufacturer", gcp="6951234")) as owner:
        answer = owner.get("/telematics/series", params={"subject": vin(1), "path": [SPEED]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["series"][SPEED] == [["2026-03-01T09:00:00.000Z", 30.0],
                                                  ["2026-03-01T09:00:02.000Z", 500.0]]
        hourly = owner.get("/telematics/series", params={"subject": vin(1), "path": [SPEED], "grain": "hour"})
        assert hourly.json()["series"][SPEED][0] == {"bucket": "2026-03-01T09:00:00.000Z", "samples": 2,
                                                     "mean": 265.0, "min": 30.0, "max": 500.0}
        bad = owner.get("/telematics/series", params={"subject": vin(1), "path": ["Vehicle.Nope"]})
        assert bad.status_code == 400 and bad.json()["parameter"] == "path"
        bad_time = owner.get("/telematics/series", params={"subject": vin(1), "path": [SPEED], "start": "x"})
        assert bad_time.status_code == 400 and bad_time.json()["parameter"] == "start"
        status = owner.get("/telematics/status").json()
        assert status["stored"] == 3 and status["refused"] == {"above_max": 1}
    with TestClient(api, headers=auth_headers("manufacturer", gcp="4012345")) as stranger:
        hidden = stranger.get("/telematics/series", params={"subject": vin(1), "path": [SPEED]})
        assert hidden.status_code == 404
    with TestClient(api) as anonymous:
        assert anonymous.get("/telematics/status").status_code == 401


def test_credentials_over_rest(app: Roadpass, auth_headers: Headers, tmp_path: Path) -> None:
    build(app, 1)
    app.telematics.accounts = MosquittoAccounts(tmp_path)
    path = f"/telematics/units/{quote(unit_epc(1), safe='')}/credentials"
    api = create_app(roadpass=app)
    with TestClient(api, headers=auth_headers("manufacturer", gcp="4012345")) as stranger:
        assert stranger.post(path).status_code == 404
    with TestClient(api, headers=auth_headers("operator")) as operator:
        made = operator.post(path)
        assert made.status_code == 201, made.text
        assert made.json()["topic"] == vss_topic(1) and made.json()["password"]
        assert operator.post(path).status_code == 409
        assert operator.delete(path).json()["revoked"] is True
        assert operator.delete(path).status_code == 404
    actions = [e.action for e in app.ledger.recent(limit=10)]
    assert "telematics.credential.create" in actions and "telematics.credential.revoke" in actions


@pytest.mark.usefixtures("fresh_cli_state")
def test_cli_status_and_credentials(sqlite_app: Roadpass, sqlite_url: str, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROADPASS_TELEMATICS_DIR", str(tmp_path))
    build(sqlite_app, 1)
    _ingest(sqlite_app)
    code, body = run_cli(sqlite_url, "telematics", "status", "--json")
    assert code == 0 and body["stored"] == 3 and body["recentRefusals"][0]["reason"] == "above_max"
    code, text = run_cli(sqlite_url, "telematics", "status")
    assert code == 0 and "above_max" in text
    code, made = run_cli(sqlite_url, "telematics", "credentials", "create", unit_epc(1), "--json")
    assert code == 0 and made["unit"] == key(unit_epc(1))
    assert made["username"] in (tmp_path / "passwd").read_text()
    code, listed = run_cli(sqlite_url, "telematics", "credentials", "list", "--json")
    assert [c["username"] for c in listed] == [made["username"]]
    code, _ = run_cli(sqlite_url, "telematics", "credentials", "revoke", unit_epc(1), "--json")
    assert code == 0 and made["username"] not in (tmp_path / "passwd").read_text()
    code, err = run_cli(sqlite_url, "telematics", "credentials", "revoke", pack_epc(1), "--json")
    assert code == 1 and err["field"] == "unit"
