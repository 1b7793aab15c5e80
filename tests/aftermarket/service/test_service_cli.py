"""``roadpass service …`` and ``roadpass warranty …`` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import text

from cli_helpers import run_cli
from roadpass.bootstrap import bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings

pytestmark = pytest.mark.usefixtures("fresh_cli_state")
AT = "2026-10-01T09:00:00Z"


@pytest.fixture
def fleet_db(sqlite_url: str) -> tuple[str, str, str]:
    """A small fleet; its database URL, a sold VIN and a part fitted directly in it."""
    app = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        load_fleet(app, FleetSpec(vehicles=3, service_share=0.0))
        with app.uow.read() as conn:
            vin = conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL AND market IS NOT NULL "
                                    "ORDER BY vin")).scalar() or ""
        part = next(c.key for c in app.trace.as_built(vin).children if not c.children)
    finally:
        app.close()
    return sqlite_url, vin, part


def test_record_history_due_and_a_claim(fleet_db: tuple[str, str, str], tmp_path: Path) -> None:
    db, vin, part = fleet_db
    order = {"recordKey": "WO-1", "vin": vin, "performedAt": AT, "odometerKm": 20000, "technician": "T",
             "operations": ["REPL"], "parts": [{"removed": part, "fitted": part.split("/21/")[0] + "/21/SV1"}]}
    (tmp_path / "wo.json").write_bytes(orjson.dumps([order]))
    code, out = run_cli(db, "service", "record", str(tmp_path / "wo.json"), "--json")
    assert code == 0 and out["stored"] == 1 and out["events"] == 2
    code, rows = run_cli(db, "service", "history", vin, "--json")
    assert code == 0 and [r["recordKey"] for r in rows] == ["WO-1"]
    code, due = run_cli(db, "service", "due", vin, "--json")
    assert code == 0 and due["vin"] == vin
    assert "WO-1" in run_cli(db, "service", "history", vin)[1]

    claim = {"claimKey": "WC-1", "vin": vin, "part": part, "product": "vehicle", "claimedAt": AT,
             "odometerKm": 20000, "defect": "dead", "recordKey": "WO-1"}
    (tmp_path / "claim.json").write_bytes(orjson.dumps(claim))
    code, row = run_cli(db, "warranty", "submit", str(tmp_path / "claim.json"), "--json")
    assert code == 0 and row["status"] == "submitted"
    code, row = run_cli(db, "warranty", "decide", "WC-1", "--json")
    assert code == 0 and row["status"] == "accepted"
    code, row = run_cli(db, "warranty", "settle", "WC-1", "--amount-cents", "1000", "--json")
    assert code == 0 and row["status"] == "settled"
    code, out = run_cli(db, "warranty", "settle", "WC-1", "--json")
    assert code == 1 and "status" in out["error"]
    assert "settled" in run_cli(db, "warranty", "show", "WC-1")[1]
    code, table = run_cli(db, "warranty", "coverage", "--json")
    assert code == 0 and any(e["id"] == "eu-legal-guarantee" for e in table)


def test_an_invalid_work_order_names_the_field(fleet_db: tuple[str, str, str], tmp_path: Path) -> None:
    db, vin, _part = fleet_db
    (tmp_path / "wo.json").write_bytes(orjson.dumps({"recordKey": "WO-1", "vin": vin, "performedAt": AT,
                                                     "odometerKm": -1, "technician": "T", "operations": ["X"]}))
    code, out = run_cli(db, "service", "record", str(tmp_path / "wo.json"), "--json")
    assert code == 1 and out["errors"][0]["path"] == "$.odometerKm"
