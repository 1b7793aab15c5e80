"""The recall service on both databases: reach through where-used, notices per market, completion from
service records, a moved pack moving the recall, and who sees what."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from roadpass.aftermarket.recalls.model import RecallInvalid, RemedyState, Viewer
from roadpass.aftermarket.recalls.scope import gtin_of
from roadpass.aftermarket.recalls.service import CampaignExists, CampaignNotFound
from roadpass.aftermarket.service.model import PartSwap, WorkOrder
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.query import Visibility
from roadpass.trace.timeutil import to_us

WHEN = to_us(datetime(2026, 10, 1, 9, tzinfo=UTC))


def request(lot: str, gtin: str, key: str = "RC-1", **scope: Any) -> dict[str, Any]:
    return {"campaignKey": key, "title": "Cells may short", "manufacturer": "Lanxing (test)",
            "defect": {"description": "separator fold", "risk": "fire"},
            "remedy": {"description": "replace the pack", "parts": [gtin]},
            "scope": scope or {"lots": [lot]}, "dates": {"remedyDueOn": "2026-11-30"}}


@pytest.fixture
def fleet(app: Roadpass) -> tuple[Roadpass, str, str]:
    """A small fleet; the lot in most vehicles and the GTIN of the packs it went into."""
    load_fleet(app, FleetSpec(vehicles=80))
    found = app.recalls.largest_lot()
    assert found is not None and found[1] >= 2
    packs = [h.via[0] for h in app.trace.where_used(found[0])[1] if h.vin and h.via]
    gtin = gtin_of(packs[0])
    assert gtin is not None
    return app, found[0], gtin


def test_a_campaign_reaches_every_vehicle_where_used_names_and_notifies_their_markets(
    fleet: tuple[Roadpass, str, str],
) -> None:
    app, lot, gtin = fleet
    _unit, hits = app.trace.where_used(lot)
    created = app.recalls.create(request(lot, gtin), actor="test", owner="lanxing")
    assert created.vehicles == hits.vehicles
    status = app.recalls.status("RC-1", Viewer())
    assert sorted(s.vin for s in status.states) == sorted(hits.vins)
    per_market = Counter(s.market for s in status.states)
    parties = {p.key: p for role in ("dealer", "repairer") for p in app.access.parties(role=role)}
    notified = [n for key in parties for n in app.recalls.notices(key)]
    assert notified and all(parties[n.party_key].country == n.market for n in notified)
    assert all(n.vehicles == per_market[n.market] for n in notified)
    assert {n.market for n in notified} == {m for m in per_market if m in {p.country for p in parties.values()}}
    assert app.ledger.verify().ok
    with pytest.raises(CampaignExists):
        app.recalls.create(request(lot, gtin), actor="test", owner="lanxing")
    with pytest.raises(RecallInvalid) as caught:
        app.recalls.create(request("urn:epc:class:lgtin:4012345.012345.NOPE", gtin, key="RC-2"), actor="t", owner="")
    assert [p.path for p in caught.value.problems] == ["$.scope.lots[0]"]


def test_completion_needs_the_campaign_and_the_remedy_part(fleet: tuple[Roadpass, str, str]) -> None:
    app, lot, gtin = fleet
    app.recalls.create(request(lot, gtin), actor="test", owner="lanxing")
    first, second = app.recalls.status("RC-1", Viewer()).states[:2]
    packs = {v.vin: v.via[0] for v in _vehicles(app)}
    app.service_records.record_many([
        WorkOrder("wo-1", first.vin, WHEN, 20_000, "tech", parts=(PartSwap(
            packs[first.vin], f"https://id.gs1.org/01/{gtin}/21/R1"),), campaigns=("RC-1",)),
        WorkOrder("wo-2", second.vin, WHEN, 20_000, "tech", campaigns=("RC-1",)),  # no remedy part fitted
    ], actor="test")
    states = {s.vin: s for s in app.recalls.status("RC-1", Viewer()).states}
    assert states[first.vin].state is RemedyState.REMEDIED and states[first.vin].record_key == "wo-1"
    assert states[second.vin].state is RemedyState.OPEN
    [recall] = app.recalls.open_recalls_for(first.vin)
    assert (recall.campaign_id, recall.vin, recall.remedied) == ("RC-1", first.vin, True)


def _vehicles(app: Roadpass) -> list[Any]:
    with app.recalls.records.read() as records:
        campaign = records.campaign("RC-1")
        assert campaign is not None
        return records.vehicles(campaign.id)


def test_a_moved_pack_moves_the_recall(fleet: tuple[Roadpass, str, str]) -> None:
    app, lot, gtin = fleet
    app.recalls.create(request(lot, gtin), actor="test", owner="lanxing")
    donor = _vehicles(app)[0]
    pack = donor.via[0]
    # Another vehicle of the fleet, not reached by the lot, receives the pack.
    all_vins = _fleet_vins(app)
    reached = {v.vin for v in _vehicles(app)}
    target = next(vin for vin in all_vins if vin not in reached)
    target_pack = next(c.key for c in app.trace.as_built(target).children if gtin_of(c.key) == gtin)
    app.service_records.record(WorkOrder("out", donor.vin, WHEN, 1, "tech", parts=(PartSwap(removed=pack),)),
                               actor="test")
    app.service_records.record(WorkOrder("in", target, WHEN + 3_600_000_000, 1, "tech",
                                         parts=(PartSwap(target_pack, pack),)), actor="test")
    states = {s.vin: s.state for s in app.recalls.status("RC-1", Viewer()).states}
    assert states[donor.vin] is RemedyState.NO_LONGER_FITTED
    assert states[target] is RemedyState.OPEN
    [moved] = app.recalls.open_recalls_for(pack)
    assert moved.vin == target
    assert app.recalls.open_recalls_for(donor.vin) == []
    [told] = app.recalls.open_recalls_visible(donor.vin, Viewer())
    assert told.state == "no_longer_fitted"


def _fleet_vins(app: Roadpass) -> list[str]:
    with app.uow.read() as conn:
        return [str(r[0]) for r in conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL ORDER BY vin"))]


def test_each_viewer_sees_its_own_vehicles_only(fleet: tuple[Roadpass, str, str]) -> None:
    app, lot, gtin = fleet
    app.recalls.create(request(lot, gtin), actor="test", owner="lanxing")
    everything = app.recalls.status("RC-1", Viewer())
    market = everything.states[0].market
    dealer = app.recalls.status("RC-1", Viewer("d", "dealer", market, Visibility()))
    assert dealer.states and {s.market for s in dealer.states} == {market}
    authority = app.recalls.status("RC-1", Viewer("a", "authority", "XX", Visibility(markets=frozenset({market}))))
    assert {s.vin for s in authority.states} == {s.vin for s in dealer.states}
    assert len(app.recalls.status("RC-1", Viewer("lanxing", "manufacturer", "CN", Visibility())).states) == len(
        everything.states)
    with pytest.raises(CampaignNotFound):
        app.recalls.status("RC-1", Viewer("s", "supplier", "DE", Visibility()))
    assert app.recalls.open_recalls_visible(everything.states[0].vin, Viewer("s", "supplier", "DE", Visibility())) == []


def test_serial_ranges_and_production_windows_resolve_to_units(fleet: tuple[Roadpass, str, str]) -> None:
    app, lot, gtin = fleet
    app.recalls.create(request(lot, gtin), actor="test", owner="lanxing")
    pack = _vehicles(app)[0].via[0]
    serial = int(pack.rsplit("/", 1)[1])
    created = app.recalls.create(request(lot, gtin, key="RC-R", serialRanges=[
        {"gtin": gtin, "first": serial, "last": serial}]), actor="test", owner="lanxing")
    assert created.vehicles == 1
    window = app.recalls.create(request(lot, gtin, key="RC-W", productionWindow={
        "start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z", "gtin": gtin}), actor="test", owner="l")
    assert window.vehicles >= len(_vehicles(app))
