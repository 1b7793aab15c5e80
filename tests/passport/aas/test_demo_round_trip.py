"""Every demo passport's AAS, for every role, loads strictly and round-trips (JSON; AASX for a sample)."""

from __future__ import annotations

from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.passport.access import Role

from .conftest import strict_aasx_round_trip, strict_json_round_trip


def test_every_demo_passport_round_trips(sqlite_app: Roadpass) -> None:
    load_fleet(sqlite_app, FleetSpec(vehicles=3))
    sqlite_app.passports.issue_from_trace(actor="test")
    ids = [p["passportId"] for p in sqlite_app.passports.list_passports(limit=1000)]
    assert ids
    for passport_id in ids:
        for role in Role:
            export = sqlite_app.aas.export(passport_id, role)
            assert not export.skipped, export.skipped  # the demo's figures all fit the templates' types
            written, again = strict_json_round_trip(export)
            assert written == again
    written, from_package = strict_aasx_round_trip(sqlite_app.aas.export(ids[0], Role.AUTHORITY))
    assert written == from_package
