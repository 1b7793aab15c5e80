"""``roadpass repairers …`` and ``roadpass security-access …`` as a user runs them, and the demo hook."""

from __future__ import annotations

import pytest

from cli_helpers import run_cli
from roadpass.aftermarket.network.demo import load_network_demo
from roadpass.aftermarket.network.service import Viewer
from roadpass.bootstrap import bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings
from roadpass.trace.query import parse_event_query

pytestmark = pytest.mark.usefixtures("fresh_cli_state")


@pytest.fixture
def fleet_db(sqlite_url: str) -> tuple[str, str]:
    """A small demo fleet; its database URL and a VIN."""
    app = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        load_fleet(app, FleetSpec(vehicles=3))
        events = app.trace.events(parse_event_query({"eventType": "AggregationEvent", "perPage": "1000"}))[0]
        vin = next(u.vin for e in events if e.get("parentID") for u in [app.trace.resolve(e["parentID"])] if u.vin)
    finally:
        app.close()
    return sqlite_url, vin


def test_register_approve_authorise_request_use_revoke(fleet_db: tuple[str, str]) -> None:
    db, vin = fleet_db
    assert run_cli(db, "repairers", "add", "workshop_de_1", "--kind", "independent", "--market", "DE",
                   "--qualification", "high_voltage", "--json")[0] == 0
    code, site = run_cli(db, "repairers", "site", "workshop_de_1", "4261181000012", "Hannover", "--json")
    assert code == 0 and site["country"] == "DE"
    code, approval = run_cli(db, "repairers", "approve", "workshop_de_1", "--body", "CAB (test)", "--country", "DE",
                             "--from", "2026-01-01", "--until", "2031-01-01", "--json")
    assert code == 0 and approval["standsNow"]
    code, person = run_cli(db, "repairers", "authorise", "workshop_de_1", "--name", "Test Person", "--residence",
                           "DE", "--from", "2026-01-01", "--until", "2031-01-01", "--checked-by", "CAB (test)",
                           "--checked-on", "2026-01-01", "--json")
    assert code == 0 and person["state"] == "valid"
    code, grant = run_cli(db, "security-access", "request", person["authorisation"], vin, "key_programming", "--json")
    assert code == 0 and grant["granted"] and grant["credential"]
    assert run_cli(db, "security-access", "use", grant["credential"], vin, "key_programming", "--json")[0] == 0
    assert run_cli(db, "repairers", "revoke", person["authorisation"], "--reason", "left", "--json")[0] == 0
    code, refused = run_cli(db, "security-access", "use", grant["credential"], vin, "key_programming", "--json")
    assert code == 1 and not refused["accepted"] and "revoked" in refused["reason"]
    code, listed = run_cli(db, "security-access", "list", "--party", "lanxing", "--json")
    assert code == 0 and len(listed) == 1 and len(listed[0]["uses"]) == 2
    code, network = run_cli(db, "repairers", "list", "--json")
    assert code == 0 and network[0]["peopleValidNow"] == 0
    assert run_cli(db, "repairers", "people", "workshop_de_1", "--json")[1][0]["state"] == "revoked"
    code, bad = run_cli(db, "repairers", "add", "lanxing", "--kind", "authorised", "--json")
    assert code == 1 and bad["field"] == "party"
    code, text = run_cli(db, "repairers", "list")
    assert code == 0 and "Repair network" in text


def test_the_demo_has_several_markets_an_operator_with_revoked_people_and_refusals(sqlite_url: str) -> None:
    app = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        load_fleet(app, FleetSpec(vehicles=40))
        made = load_network_demo(app.repair_network, app.parts, app.trace)
        assert made.repairers >= 5 and made.granted >= 2 and made.refused >= 2 and made.checks == 4
        markets = {r["repairer"].country for r in app.repair_network.network()}
        assert {"DE", "SA", "MX"} <= markets
        revoked = {a.revoked_at is not None for a in app.repair_network.authorisations()}
        assert revoked == {True, False}
        accesses = app.repair_network.accesses(Viewer(None, "operator", everything=True))
        assert any(r.granted for r, _ in accesses) and any(not r.granted for r, _ in accesses)
        assert any(not u.accepted and "revoked" in u.reason for _, uses in accesses for u in uses)
        again = load_network_demo(app.repair_network, app.parts, app.trace)
        assert again.notes and again.repairers == 0
        assert app.ledger.verify().ok
    finally:
        app.close()
