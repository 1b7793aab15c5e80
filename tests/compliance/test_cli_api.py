"""The compliance CLI (a small typer app around the lead's sub-apps), the API router and the web page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
import typer
import yaml
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient
from markupsafe import escape
from test_pack_sourcing import SOURCED, make_root
from typer.testing import CliRunner

from roadpass.api.routes.compliance import router
from roadpass.bootstrap import Roadpass
from roadpass.cli.common import state
from roadpass.cli.compliance import compliance_app, evidence_app, product_app, sbom_app
from roadpass.compliance.demo import HERE, demo_products, load_compliance_demo
from roadpass.compliance.service import default_library
from roadpass.compliance.sources import primary_url
from roadpass.web.compliance_pages import mount_compliance_pages
from roadpass.web.routes import HERE as WEB

FIRST_MARKETS = {"EU", "US", "CN", "SA", "MX", "TH", "ID", "BR", "IN", "GB", "JP"}
cli = typer.Typer()
cli.add_typer(compliance_app, name="compliance")
cli.add_typer(product_app, name="product")
cli.add_typer(evidence_app, name="evidence")
cli.add_typer(sbom_app, name="sbom")


@cli.callback()
def _global(db: Annotated[str | None, typer.Option("--db")] = None) -> None:
    state.database_url = db
    state.app = None


@pytest.fixture
def run(sqlite_url: str) -> Iterator[object]:
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--db", sqlite_url, *args])
        return result.exit_code, result.output

    yield invoke
    if state.app is not None:
        state.app.close()
    state.app = None


def test_cli_end_to_end(run: object, tmp_path: Path) -> None:
    invoke = run  # type: ignore[assignment]
    code, out = invoke("compliance", "packs", "--json")  # type: ignore[operator]
    packs = json.loads(out)
    # Valid means the sourcing rules hold too; each issue names file, line and requirement (test_pack_sourcing).
    assert code == (0 if packs["valid"] else 1) and packs["valid"] == (not packs["issues"])
    assert any(
        r["id"] == "US-CV-791.303" and "prohibited_when" in r for p in packs["packs"] for r in p["requirements"])
    for doc in demo_products(default_library().packs):
        path = tmp_path / f"{doc['key']}.yaml"
        path.write_text(yaml.safe_dump(doc))
        code, out = invoke("product", "import", str(path), "--json")  # type: ignore[operator]
        assert code == 0, out
    code, out = invoke("sbom", "import", "ccu-3", str(HERE / "ccu-3.cdx.json"), "--json")  # type: ignore[operator]
    assert code == 0 and json.loads(out)["hardware"] == 2
    report = tmp_path / "cb.pdf"
    report.write_bytes(b"CB report")
    code, out = invoke("evidence", "add", str(report), "--standard", "IEC-61851-1", "--standard", "IEC-62196-2",  # type: ignore[operator]
                       "--standard", "IEC-62196-3", "--lab", "Demo CBTL", "--expires", "2027-01-15",
                       "--issued", "2024-01-15", "--issued-in", "DE", "--issuer-role", "cb_testing_laboratory",
                       "--scheme", "IECEE-CB", "--product", "nl-wallbox-22", "--json")
    assert code == 0 and json.loads(out)["sha256"]
    code, out = invoke("compliance", "assess", "nl-wallbox-22", "--market", "TH", "--on", "2027-01-15", "--json")  # type: ignore[operator]
    assert code == 0 and next(r for r in json.loads(out)["results"]
                              if r["requirement"] == "TH-TISI-CHARGER")["status"] in ("gap", "to_confirm")
    code, out = invoke("compliance", "matrix", "--on", "2026-11-24", "--json")  # type: ignore[operator]
    assert code == 0 and {p["product"] for p in json.loads(out)["products"]} >= {"aurora-ev-my27", "ccu-3"}
    code, out = invoke("compliance", "matrix", "--on", "2026-11-24")  # type: ignore[operator]
    assert code == 0 and out.count("blk") > 2 and "open gaps" in out
    code, out = invoke("compliance", "plan", "aurora-ev-my27", "--market", "CN", "--demo-costs", "--json")  # type: ignore[operator]
    assert code == 0 and json.loads(out)["total_cost"] > 0
    code, out = invoke("compliance", "cv-check", "ccu-3", "--json")  # type: ignore[operator]
    assert code == 0 and "flagged" in json.loads(out)
    code, out = invoke("compliance", "diff", "ccu-3", "--market", "EU", "--json")  # type: ignore[operator]
    assert code == 1 and "diff needs two" in json.loads(out)["error"]
    code, out = invoke("compliance", "assess", "nope", "--market", "EU", "--json")  # type: ignore[operator]
    assert code == 1 and json.loads(out)["error"] == "product 'nope' not found"
    code, out = invoke("compliance", "export-ciso", "--out", str(tmp_path / "ciso"), "--json")  # type: ignore[operator]
    assert code == 0 and any(f.endswith("roadpass-regpack-eu.yaml") for f in json.loads(out)["files"])
    code, out = invoke("compliance", "report", "--out", str(tmp_path / "r.html"), "--json")  # type: ignore[operator]
    assert code == 0 and "data:image/png" in (tmp_path / "r.html").read_text()


def test_cli_sources_and_proposed_versions(run: object) -> None:
    invoke = run  # type: ignore[assignment]
    code, out = invoke("compliance", "sources", "--market", "eu", "--json")  # type: ignore[operator]
    report = json.loads(out)
    assert code == 0 and report["stale_after_days"] == 365 and report["requirements"]
    assert {r["market"] for r in report["requirements"]} == {"EU"}
    assert all(r["url"].startswith("https://") and "reviewed" in r and r["confidence"] for r in report["requirements"])
    code, out = invoke("compliance", "sources", "--stale-after-days", "0", "--on", "2099-01-01", "--json")  # type: ignore[operator]
    report = json.loads(out)
    assert code == 0 and report["counts"]["stale"] == report["counts"]["requirements"] > 0
    code, out = invoke("compliance", "sources", "--market", "QQ", "--json")  # type: ignore[operator]
    assert code == 1 and "QQ" in json.loads(out)["error"]
    code, out = invoke("compliance", "sources", "--market", "EU")  # type: ignore[operator]
    assert code == 0 and "EU-" in out and "stale or missing review" in out
    code, out = invoke("compliance", "packs", "--market", "QQ", "--json")  # type: ignore[operator]
    assert code == 1 and "QQ" in json.loads(out)["error"]
    code, out = invoke("compliance", "matrix", "--with-proposed", "--json")  # type: ignore[operator]
    assert code == 0 and "products" in json.loads(out)


@pytest.fixture
def client(sqlite_app: Roadpass) -> Iterator[TestClient]:
    load_compliance_demo(sqlite_app.compliance)
    api = FastAPI()
    api.state.roadpass = sqlite_app
    api.include_router(router)
    api.mount("/static", StaticFiles(directory=str(WEB / "static")), name="static")
    mount_compliance_pages(api)
    with TestClient(api) as test_client:
        yield test_client


def test_api_and_web_page(client: TestClient) -> None:
    matrix = client.get("/compliance/matrix", params={"on": "2026-11-24"}).json()
    assert {"aurora-ev-my27", "ab86-pack", "ccu-3", "nl-wallbox-22"} == {p["product"] for p in matrix["products"]}
    # The demo targets every market with a pack, the new ones too; the matrix shows each of them.
    library = default_library()
    targeted = {t["market"] for doc in demo_products(library.packs) for t in doc["markets"]}
    assert set(matrix["markets"]) == targeted and targeted - FIRST_MARKETS == set(library.markets()) - FIRST_MARKETS
    a = client.get("/compliance/assess/aurora-ev-my27/GB", params={"on": "2027-07-01"}).json()
    assert next(r for r in a["results"] if r["requirement"] == "GB-R155")["status"] == "met"
    assert client.get("/compliance/assess/nope/EU").status_code == 404
    plan = client.get("/compliance/plan/aurora-ev-my27/CN", params={"demo_costs": True}).json()
    assert plan["plan"] and plan["total_cost"] > 0
    assert client.get("/compliance/diff/nl-wallbox-22/TH").json()["changes"]
    assert client.get("/compliance/oscal/aurora-ev-my27/EU").json()["assessment-results"]["results"]
    assert client.get("/compliance/connected-vehicle/aurora-ev-my27").json()["prohibited"] is True
    assert "requirement_nodes" in client.get("/compliance/ciso-assistant/EU").text
    assert client.get("/compliance/actions", params={"product": "aurora-ev-my27"}).json()
    decision = client.post("/compliance/decisions", json={
        "kind": "risk_acceptance", "product": "aurora-ev-my27", "market": "US", "decided_by": "General counsel",
        "rationale": "US launch postponed to MY2028 redesign", "requirement": "US-CV-791.303"})
    assert decision.status_code == 201 and decision.json()["snapshot"]["result"]["prohibited"] is True
    assert client.post("/compliance/products", content=b"key: [").status_code == 400
    page = client.get("/ui/compliance", params={"on": "2026-11-24", "product": "aurora-ev-my27", "market": "US"})
    assert page.status_code == 200 and "US-CV-791.303" in page.text and "Sarah Klein" in page.text
    # Each requirement links to its primary source.
    assert f'href="{escape(primary_url(library.get("US").get("US-CV-791.303")))}"' in page.text
    assert client.get("/compliance/report.html").text.count("data:image/png;base64") == 1


def test_cli_packs_fails_on_a_date_without_its_source(run: object, tmp_path: Path) -> None:
    invoke = run  # type: ignore[assignment]
    good = make_root(tmp_path / "good")
    code, out = invoke("compliance", "packs", "--root", str(good), "--json")  # type: ignore[operator]
    assert code == 0 and json.loads(out)["valid"] is True
    bad = make_root(tmp_path / "bad", SOURCED.replace("from: 2027-08-18", "from: 2000-01-01"))
    code, out = invoke("compliance", "packs", "--root", str(bad), "--json")  # type: ignore[operator]
    doc = json.loads(out)
    assert code == 1 and doc["valid"] is False
    [issue] = doc["issues"]
    assert issue["file"].endswith("xx/2026.1.yaml") and issue["line"] == 35 and "XX-ONE" in issue["reason"]
    assert issue["path"] == "/requirements/0/effective/phases/0/from"
    code, out = invoke("compliance", "packs", "--root", str(bad))  # type: ignore[operator]
    assert code == 1 and "1 sourcing issue:" in out and "placeholder" in out
