"""``roadpass recall …`` in process, as a user runs it from a shell."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from cli_helpers import run_cli
from roadpass.aftermarket.recalls.scope import gtin_of
from roadpass.bootstrap import bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings


@pytest.mark.usefixtures("fresh_cli_state")
def test_create_status_report_and_check(sqlite_url: str, tmp_path: Path) -> None:
    app = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    load_fleet(app, FleetSpec(vehicles=40))
    found = app.recalls.largest_lot()
    assert found is not None
    packs = [h.via[0] for h in app.trace.where_used(found[0])[1] if h.vin and h.via]
    app.close()
    request = tmp_path / "campaign.json"
    request.write_bytes(orjson.dumps({
        "campaignKey": "RC-CLI", "title": "Cells may short", "manufacturer": "Lanxing (test)",
        "defect": {"description": "separator fold", "risk": "fire"},
        "remedy": {"description": "replace the pack", "parts": [gtin_of(packs[0])]},
        "scope": {"lots": [found[0]]}, "dates": {"dealerNoticeOn": "2026-09-01", "remedyDueOn": "2026-11-30"}}))

    code, created = run_cli(sqlite_url, "recall", "create", str(request), "--owner", "lanxing", "--json")
    assert code == 0 and created["vehicles"] == found[1]
    code, again = run_cli(sqlite_url, "recall", "create", str(request), "--json")
    assert code == 1 and "exists already" in again["error"]
    code, status = run_cli(sqlite_url, "recall", "status", "RC-CLI", "--json")
    assert code == 0 and status["totals"]["affected"] == found[1] and status["vehicles"] == []
    code, listed = run_cli(sqlite_url, "recall", "list", "--json")
    assert code == 0 and [c["campaignKey"] for c in listed] == ["RC-CLI"]
    code, report = run_cli(sqlite_url, "recall", "report", "RC-CLI", "us-573-7", "--quarter", "2026Q4")
    assert code == 0 and report["period"] == "2026Q4" and report["missing"]
    pdf = tmp_path / "report.pdf"
    code, _out = run_cli(sqlite_url, "recall", "report", "RC-CLI", "cn-samr", "--out", str(pdf))
    assert code == 0 and pdf.read_bytes().startswith(b"%PDF")
    code, bad = run_cli(sqlite_url, "recall", "report", "RC-CLI", "nope")
    assert code == 1 and "no report form" in str(bad)
    code, checked = run_cli(sqlite_url, "recall", "check", packs[0], "--json")
    assert code == 0 and [c["campaignKey"] for c in checked] == ["RC-CLI"]
    code, refreshed = run_cli(sqlite_url, "recall", "refresh", "RC-CLI")
    assert code == 0 and "0 vehicle(s) newly reached" in refreshed
