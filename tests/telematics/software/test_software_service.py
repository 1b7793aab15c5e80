"""The software-update service on SQLite and PostgreSQL: reports mapped through the genealogy, campaigns and
their states (a bare "success" installs nothing), history, duplicates, late reports and the ledger."""

from __future__ import annotations

import pytest
from software_world import AURORA, CAMPAIGN, fit, payload, received, unit_epc, vin

from roadpass.bootstrap import Roadpass
from roadpass.telematics.ingest import Inbound
from roadpass.telematics.software.reports import ReportRejected
from roadpass.telematics.software.service import AlreadyExists, UnitNotFitted
from roadpass.telematics.topics import topic
from roadpass.trace.query import Visibility
from roadpass.trace.service import Hidden

LR1, LR2, LR3, SR1 = vin("2", 1), vin("2", 2), vin("2", 3), vin("1", 4)
FITTED = "2026-01-05T08:00:00Z"


def _world(app: Roadpass) -> None:
    for n, v in enumerate((LR1, LR2, LR3, SR1), start=1):
        fit(app, v, unit_epc(n), FITTED)
    app.software_updates.add_vehicle_type(AURORA, actor="homologation")
    for n in range(1, 5):
        at = "2026-02-01T08:00:00Z"
        app.software_updates.report(unit_epc(n), payload("3.1.0", at), received(at), actor="tcu", channel="http")


def _report(app: Roadpass, n: int, version: str | None, at: str, **kw: str) -> dict[str, object]:
    return app.software_updates.report(unit_epc(n), payload(version, at, **kw), received(at), actor=f"unit:{n}",
                                       channel="mqtt").as_json()


def test_a_campaign_tracks_each_vehicle_and_only_inventories_install(app: Roadpass) -> None:
    _world(app)
    status = app.software_updates.create_campaign(CAMPAIGN, actor="ota-team")
    assert status.by_state["offered"] == 3  # the SR vehicle is not a variant the campaign names
    with pytest.raises(AlreadyExists):
        app.software_updates.create_campaign(CAMPAIGN, actor="ota-team")

    _report(app, 1, "3.1.0", "2026-03-01T08:00:00Z", claim="downloaded")
    said = _report(app, 1, "3.1.0", "2026-03-01T09:00:00Z", claim="success")
    assert said["transitions"] == [] and "not counted as installed" in str(said["notes"])
    done = _report(app, 2, "3.2.0", "2026-03-01T08:00:00Z", rxswin="R10SWIN-AUR-0003", claim="success")
    assert [t["state"] for t in done["transitions"]] == ["installed"]  # type: ignore[union-attr]
    _report(app, 3, "3.1.0", "2026-03-01T08:00:00Z", claim="failed")

    status = app.software_updates.campaign_status("CCU3-3.2")
    states = {v.vin: v.state for v in status.vehicles}
    assert states == {LR1: "downloaded", LR2: "installed", LR3: "failed"}
    assert [r.vin for r in status.unconfirmed] == [LR1]
    assert status.as_json()["completion"] == pytest.approx(1 / 3, abs=1e-4)

    back = _report(app, 2, "3.1.0", "2026-03-02T08:00:00Z")
    assert [t["state"] for t in back["transitions"]] == ["rolled_back"]  # type: ignore[union-attr]
    history = app.software_updates.vehicle_history(LR2, visibility=None)
    assert [c["state"] for c in history["campaigns"]] == ["offered", "installed", "rolled_back"]
    assert [(c["from"], c["to"]) for c in history["changes"] if c["part_number"] == "HX-CCU3-101"] == [
        (None, "3.1.0"), ("3.1.0", "3.2.0"), ("3.2.0", "3.1.0")]
    assert history["vehicle_type"] == "aurora" and history["variant"] == "LR"

    actions = [(e.action, e.actor, e.rule) for e in app.ledger.recent(limit=100)]
    assert ("software.campaign.installed", "unit:2", "UN R156 para. 2.4 (execution)") in actions
    assert sum(a == "software.campaign.offered" for a, _, _ in actions) == 3
    assert ("software.campaign.create", "ota-team", "UN R156 para. 2.3 (software update)") in actions
    assert app.ledger.verify().ok


def test_duplicates_late_reports_and_refusals(app: Roadpass) -> None:
    _world(app)
    app.software_updates.create_campaign(CAMPAIGN, actor="ota-team")
    first = _report(app, 1, "3.2.0", "2026-03-05T08:00:00Z", rxswin="R10SWIN-AUR-0003")
    again = _report(app, 1, "3.2.0", "2026-03-05T08:00:00Z", rxswin="R10SWIN-AUR-0003")
    assert again["duplicate"] is True and again["report"] is None and first["report"] is not None
    late = _report(app, 1, "3.1.0", "2026-03-04T08:00:00Z")
    assert late["transitions"] == [] and "history only" in str(late["notes"])
    history = app.software_updates.vehicle_history(LR1, visibility=None)
    assert history["installed"][0]["software_version"] == "3.2.0"  # the newest by the vehicle's own time
    assert len(history["reports"]) == 3

    with pytest.raises(ReportRejected):
        app.software_updates.report(unit_epc(1), b"{}", received("2026-03-05T08:00:00Z"), actor="x", channel="http")
    with pytest.raises(UnitNotFitted):
        app.software_updates.report(unit_epc(9), payload("3.1.0", "2026-03-05T08:00:00Z"),
                                    received("2026-03-05T08:00:00Z"), actor="x", channel="http")
    # Over MQTT a refusal is counted and raised: the ingester dead-letters it with the reason.
    with pytest.raises(ReportRejected):
        app.software_updates.mqtt_handler(unit_epc(9), b"{}", received("2026-03-05T08:00:00Z"))
    with pytest.raises(UnitNotFitted):
        app.software_updates.mqtt_handler(unit_epc(9), payload("3.1.0", "2026-03-05T08:00:00Z"),
                                          received("2026-03-05T08:00:00Z"))
    assert app.software_updates.refused == {"bad payload": 1, "unit not fitted": 1}
    with pytest.raises(Hidden):
        app.software_updates.vehicle_history(LR1, visibility=Visibility())


def test_a_unit_reports_for_the_vehicle_it_is_fitted_in_at_report_time(app: Roadpass) -> None:
    _world(app)
    # The unit of LR1 moves to the SR vehicle on 1 April: from then on it reports for that vehicle.
    fit(app, LR1, unit_epc(1), "2026-04-01T08:00:00Z", action="DELETE")
    fit(app, SR1, unit_epc(1), "2026-04-01T09:00:00Z")
    before = _report(app, 1, "3.1.0", "2026-03-31T08:00:00Z")
    after = _report(app, 1, "3.1.1", "2026-04-02T08:00:00Z")
    assert before["vin"] == LR1 and after["vin"] == SR1
    with pytest.raises(UnitNotFitted):
        _report(app, 1, "3.1.0", "2026-04-01T08:30:00Z")  # between removal and refit: in no vehicle


def test_reports_over_the_mqtt_ingester_reach_the_vehicle(app: Roadpass) -> None:
    _world(app)
    app.software_updates.create_campaign(CAMPAIGN, actor="ota-team")
    at = "2026-03-01T08:00:00Z"
    good = Inbound(topic(unit_epc(2), "software"), payload("3.2.0", at, rxswin="R10SWIN-AUR-0003"), received(at))
    bad = Inbound(topic(unit_epc(3), "software"), b'{"ecus": []}', received(at))
    outcome = app.telematics_ingest.ingest([good, bad])
    assert outcome.refused == {"software_refused": 1}
    status = app.software_updates.campaign_status("CCU3-3.2")
    assert {v.vin: v.state for v in status.vehicles}[LR2] == "installed"
