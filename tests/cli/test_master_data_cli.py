"""``roadpass masterdata list|show`` and the names ``roadpass trace`` prints, against a demo fleet on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from cli_helpers import run_cli
from roadpass.bootstrap import bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings

pytestmark = pytest.mark.usefixtures("fresh_cli_state")


@pytest.fixture
def fleet_db(sqlite_url: str) -> tuple[str, str]:
    """A two-vehicle demo fleet; its database URL and one VIN."""
    roadpass = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        load_fleet(roadpass, FleetSpec(vehicles=2))
        with roadpass.uow.read() as conn:
            vin = str(conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL LIMIT 1")).scalar())
    finally:
        roadpass.close()
    return sqlite_url, vin




def test_list_filters_and_limits(fleet_db: tuple[str, str]) -> None:
    db, _vin = fleet_db
    code, out = run_cli(db, "masterdata", "list", "--type", "EPCClass", "--name", "pack", "--json")
    assert code == 0 and [e["name"] for e in out] == ["Traction battery pack"]
    code, out = run_cli(db, "masterdata", "list", "--type", "ReadPoint", "--limit", "3", "--json")
    assert code == 0 and len(out) == 3 and all(e["type"].endswith("ReadPoint") for e in out)
    code, out = run_cli(db, "masterdata", "list", "--key-prefix", "https://id.gs1.org/417/", "--name", "Lanxing",
                     "--json")
    assert code == 0 and {e["name"] for e in out} >= {"Lanxing Automobile Co., Ltd.", "Lanxing Europe B.V."}
    assert all(e["id"].startswith("https://id.gs1.org/417/") for e in out)
    code, out = run_cli(db, "masterdata", "list", "--key-prefix", "https://id.gs1.org/417/", "--name", "Lanxing")
    assert code == 0 and "elements" in out


def test_show_gives_the_history_and_the_version_at_an_instant(fleet_db: tuple[str, str]) -> None:
    db, _vin = fleet_db
    code, out = run_cli(db, "masterdata", "show", "Party", "urn:epc:id:pgln:6975001.00000", "--json")
    assert code == 0 and out["name"] == "Lanxing Automobile Co., Ltd." and len(out["versions"]) == 1
    recorded = out["versions"][0]["recordedAt"]
    code, out = run_cli(db, "masterdata", "show", "Party", "urn:epc:id:pgln:6975001.00000", "--at", recorded, "--json")
    assert code == 0 and out["atVersion"]["version"] == 1
    code, out = run_cli(db, "masterdata", "show", "Party", "urn:epc:id:pgln:6975001.00000", "--at",
                     "2000-01-01T00:00:00Z", "--json")
    assert code == 2 and "no version" in out["error"]
    code, out = run_cli(db, "masterdata", "show", "EPCClass", "urn:epc:id:pgln:6975001.00000", "--json")
    assert code == 2 and "no master data" in out["error"]
    code, out = run_cli(db, "masterdata", "show", "Party", "urn:epc:id:pgln:6975001.00000")
    assert code == 0 and "urn:epcglobal:cbv:mda#countryCode" in out


def test_trace_prints_product_names_beside_keys(fleet_db: tuple[str, str]) -> None:
    db, vin = fleet_db
    code, out = run_cli(db, "trace", "as-built", vin)
    assert code == 0 and "Traction battery pack" in out and "Corner radar" in out
