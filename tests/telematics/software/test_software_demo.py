"""The software-update demo on a small generated fleet: a campaign with vehicles in every state, among them
one whose "success" message installed nothing, and a ledger that still verifies."""

from __future__ import annotations

from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet_model import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.features import software_updates as feature
from roadpass.telematics.software.demo import DEMO_CAMPAIGN
from roadpass.telematics.software.model import STATES


def test_the_demo_campaign_has_every_state(sqlite_app: Roadpass) -> None:
    load_fleet(sqlite_app, FleetSpec(vehicles=30))
    feature.load_demo(sqlite_app, 30)
    status = sqlite_app.software_updates.campaign_status(DEMO_CAMPAIGN["key"])
    assert all(status.by_state[s] >= 1 for s in STATES), status.by_state
    assert any("'success'" in (r.note or "") for r in status.unconfirmed)
    assert sqlite_app.ledger.verify().ok
    # Loading it again changes no state: the type and the campaign exist, and the new baseline reports are
    # older than each vehicle's newest report (kept in the history only).
    feature.load_demo(sqlite_app, 30)
    assert sqlite_app.software_updates.campaign_status(DEMO_CAMPAIGN["key"]).by_state == status.by_state
