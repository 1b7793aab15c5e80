"""The passport router, pages and CLI through their adapters (FastAPI TestClient, typer CliRunner)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from roadpass.api.routes import passports
from roadpass.bootstrap import Roadpass
from roadpass.cli import common
from roadpass.cli.passport import passport_app
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet as load_demo
from roadpass.passport.jsondata import loads
from roadpass.web.passport_pages import mount_passport_pages


@pytest.fixture
def client(sqlite_app: Roadpass) -> Iterator[tuple[TestClient, list[str]]]:
    """A tiny app with the passport router and pages; ``X-Test-Role`` stands in for the sign-in layer."""
    load_demo(sqlite_app, FleetSpec(vehicles=6))
    service = sqlite_app.passports
    # The demo loader issues the fleet's passports already (passport feature hook); issue any left over.
    service.issue_from_trace(actor="test")
    issued = [p["passportId"] for p in service.list_passports(limit=1000) if not p["ceasedAt"]]
    api = FastAPI()
    api.state.roadpass = sqlite_app

    @api.middleware("http")
    async def role(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if "x-test-role" in request.headers:
            request.state.passport_role = request.headers["x-test-role"]
            request.state.actor = "tester"
        return await call_next(request)

    api.include_router(passports.router)
    from fastapi.staticfiles import StaticFiles

    from roadpass.web.routes import HERE

    api.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    mount_passport_pages(api)
    with TestClient(api) as test_client:
        yield test_client, issued


def test_get_returns_the_callers_view_and_refuses_more(client: tuple[TestClient, list[str]]) -> None:
    http, issued = client
    pid = issued[0]
    public = http.get(f"/passports/{pid}").json()
    legit = http.get(f"/passports/{pid}", headers={"X-Test-Role": "legitimate_interest"}).json()
    authority = http.get(f"/passports/{pid}", headers={"X-Test-Role": "authority"}).json()
    assert (public["role"], legit["role"], authority["role"]) == ("public", "legitimate_interest", "authority")
    assert "Labeling" in authority["sections"] and "resultOfTestReport" in authority["sections"]["Labeling"]
    assert "resultOfTestReport" not in public["sections"].get("Labeling", {})
    assert "stateOfCertifiedEnergy" not in public["sections"]["PerformanceAndDurability"].get("batteryCondition", {})
    # The node's own resolver root (ROADPASS_RESOLVER_BASE, else where it serves): a printed code resolves here.
    assert public["digitalLink"].startswith("http://127.0.0.1:8000/01/06944120000318/21/")
    denied = http.get(f"/passports/{pid}?level=authority")
    assert denied.status_code == 403
    assert denied.json()["ledgerSeq"] > 0
    assert http.get(f"/passports/{pid}?level=public", headers={"X-Test-Role": "authority"}).json()["role"] == "public"
    assert http.get("/passports/urn:roadpass:nope").status_code == 404
    assert http.get(f"/passports/{pid}?level=king").status_code == 400


def test_qr_export_list_and_import(client: tuple[TestClient, list[str]], sample_bytes: Callable[[str], bytes]) -> None:
    http, issued = client
    pid = issued[0]
    svg = http.get(f"/passports/{pid}/qr.svg")
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content
    assert http.get(f"/passports/{pid}/qr.png").content.startswith(b"\x89PNG")
    exported = http.get(f"/passports/{pid}/export", headers={"X-Test-Role": "authority"}).json()
    assert exported["batteryPassportIdentifier"] == pid and "batteryMaterials" in exported
    assert {r["passportId"] for r in http.get("/passports?limit=500").json()} >= set(issued)
    body = loads(sample_bytes("GeneralProductInformation"))
    assert http.post("/passports/import", json=body).status_code == 403  # the public imports nothing
    created = http.post("/passports/import", json=body, headers={"X-Test-Role": "authority"})
    assert created.status_code == 201 and created.json()["passportId"] == "urn:bmwk:123456687678"
    bad = http.post("/passports/import", json={**body, "batteryMass": "x"}, headers={"X-Test-Role": "authority"})
    assert bad.status_code == 422 and bad.json()["issues"][0]["path"] == "$.batteryMass"


def test_public_page_shows_the_public_view_for_a_phone(client: tuple[TestClient, list[str]]) -> None:
    http, issued = client
    page = http.get(f"/passport/{issued[0]}")
    assert page.status_code == 200
    html = page.text
    for fact in ("LFP", "Lithium iron phosphate", "Hefei PackWorks", "kWh", "Carbon footprint class",
                 "Recycled content", f"/passports/{issued[0]}/qr.svg", 'name="viewport"'):
        assert fact in html
    assert "stateOfCertifiedEnergy" not in html and "dismantling" not in html.lower()
    listing = http.get("/ui/passports")
    assert listing.status_code == 200 and issued[0] in listing.text
    dl = http.get("/01/06944120000318/21/100000000", follow_redirects=False)
    assert dl.status_code == 307 and dl.headers["location"].startswith("/passport/urn:roadpass:")


def test_cli_show_qr_export_import(sqlite_app: Roadpass, tmp_path: Path, sample_bytes: Callable[[str], bytes]) -> None:
    load_demo(sqlite_app, FleetSpec(vehicles=3))
    common.state.app = sqlite_app
    runner = CliRunner()
    try:
        issued = json.loads(runner.invoke(passport_app, ["issue", "--all", "--json"]).stdout)["issued"]
        shown = runner.invoke(passport_app, ["show", issued[0], "--role", "legitimate", "--json"])
        assert json.loads(shown.stdout)["role"] == "legitimate_interest"
        qr = runner.invoke(passport_app, ["qr", issued[0], "--out", str(tmp_path / "p.svg"), "--json"])
        assert qr.exit_code == 0 and b"<svg" in (tmp_path / "p.svg").read_bytes()
        exported = runner.invoke(passport_app, ["export", issued[0], "--out", str(tmp_path / "p.json")])
        assert exported.exit_code == 0 and json.loads((tmp_path / "p.json").read_text())["batteryCategory"] == "ev"
        (tmp_path / "bad.json").write_text('{"batteryMass": "x", "batteryCategory": "ev"}')
        refused = runner.invoke(passport_app, ["import", str(tmp_path / "bad.json"), "--passport", issued[0], "--json"])
        assert refused.exit_code == 1 and json.loads(refused.stdout)["issues"][0]["path"] == "$.batteryMass"
        (tmp_path / "gpi.json").write_bytes(sample_bytes("GeneralProductInformation"))
        imported = runner.invoke(passport_app, ["import", str(tmp_path / "gpi.json"), "--json"])
        assert json.loads(imported.stdout)["passportId"] == "urn:bmwk:123456687678"
    finally:
        common.state.app = None
