"""``roadpass parts check|report|checks`` as a user runs them."""

from __future__ import annotations

import pytest

from cli_helpers import run_cli
from roadpass.bootstrap import bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings
from roadpass.trace.query import parse_event_query

pytestmark = pytest.mark.usefixtures("fresh_cli_state")


@pytest.fixture
def fleet_db(sqlite_url: str) -> tuple[str, str, str]:
    """A small demo fleet; its database URL, a VIN and a part fitted in it."""
    app = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        load_fleet(app, FleetSpec(vehicles=2))
        events = app.trace.events(parse_event_query({"eventType": "AggregationEvent", "perPage": "1000"}))[0]
        for event in events:
            if event.get("parentID") and event.get("childEPCs"):
                unit = app.trace.resolve(event["parentID"])
                if unit.vin:
                    return sqlite_url, unit.vin, event["childEPCs"][0]
    finally:
        app.close()
    raise AssertionError("no fitted part")


def test_check_report_and_log(fleet_db: tuple[str, str, str]) -> None:
    db, vin, part = fleet_db
    code, found = run_cli(db, "parts", "check", part, "--vin", vin, "--json")
    assert code == 0 and found["verdict"] == "genuine" and found["fittedNow"][0]["vin"] == vin
    code, text = run_cli(db, "parts", "check", part)
    assert code == 0 and "genuine" in text
    assert run_cli(db, "parts", "report", part, "--reference", "case 1", "--json")[0] == 0
    code, stolen = run_cli(db, "parts", "check", part, "--json")
    assert code == 1 and stolen["verdict"] == "stolen"
    assert run_cli(db, "parts", "report", part, "--reference", "case 1", "--recovered", "--json")[0] == 0
    code, log = run_cli(db, "parts", "checks", "--json")
    assert code == 0 and len(log) == 3
    code, bad = run_cli(db, "parts", "check", "urn:epc:class:lgtin:4012345.012345.LOT1", "--json")
    assert code == 1 and bad["field"] == "id"
