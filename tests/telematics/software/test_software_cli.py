"""``roadpass updates …`` as a user runs it, with --json, against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from software_world import AURORA, CAMPAIGN, fit, payload, unit_epc, vin

from cli_helpers import run_cli
from roadpass.bootstrap import bootstrap
from roadpass.settings import Settings

pytestmark = pytest.mark.usefixtures("fresh_cli_state")


def test_types_campaigns_reports_and_history(sqlite_url: str, tmp_path: Path) -> None:
    seed = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    fit(seed, vin("2", 1), unit_epc(1), "2026-01-05T08:00:00Z")
    seed.close()
    (tmp_path / "type.json").write_bytes(orjson.dumps(AURORA))
    (tmp_path / "campaign.json").write_bytes(orjson.dumps(CAMPAIGN))
    (tmp_path / "before.json").write_bytes(payload("3.1.0", "2026-02-01T08:00:00Z"))
    (tmp_path / "after.json").write_bytes(payload("3.1.0", "2026-03-01T08:00:00Z", claim="success"))

    code, out = run_cli(sqlite_url, "updates", "type", "add", str(tmp_path / "type.json"), "--json")
    assert code == 0 and out["key"] == "aurora"
    code, out = run_cli(sqlite_url, "updates", "type", "list", "--json")
    assert code == 0 and [t["key"] for t in out] == ["aurora"]
    code, out = run_cli(sqlite_url, "updates", "report", unit_epc(1), str(tmp_path / "before.json"), "--json")
    assert code == 0 and out["vin"] == vin("2", 1)
    code, out = run_cli(sqlite_url, "updates", "campaign", "create", str(tmp_path / "campaign.json"), "--json")
    assert code == 0 and out["by_state"]["offered"] == 1
    code, out = run_cli(sqlite_url, "updates", "report", unit_epc(1), str(tmp_path / "after.json"), "--json")
    assert code == 0 and out["transitions"] == [] and out["notes"]
    code, out = run_cli(sqlite_url, "updates", "campaign", "status", "CCU3-3.2", "--json")
    assert code == 0 and out["by_state"]["offered"] == 1 and out["unconfirmed_claims"]
    code, out = run_cli(sqlite_url, "updates", "campaign", "list", "--json")
    assert code == 0 and out[0]["key"] == "CCU3-3.2"
    code, out = run_cli(sqlite_url, "updates", "history", vin("2", 1), "--json")
    assert code == 0 and [c["state"] for c in out["campaigns"]] == ["offered"]
    code, text = run_cli(sqlite_url, "updates", "campaign", "status", "CCU3-3.2")
    assert code == 0 and "offered" in text

    code, out = run_cli(sqlite_url, "updates", "campaign", "create", str(tmp_path / "type.json"), "--json")
    assert code == 1 and {i["path"] for i in out["issues"]} >= {"/part_number", "/target_version"}
    code, out = run_cli(sqlite_url, "updates", "campaign", "status", "nope", "--json")
    assert code == 1 and "nope" in out["error"]
