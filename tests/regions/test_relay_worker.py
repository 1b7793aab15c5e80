"""The relay worker on the home node of tests/regions/test_federation.py (Frankfurt and Riyadh served on
loopback with their vehicles): a campaign defined at home reaches the regional nodes and their completion
counts come back with no relay call and no status read; a region down for a while catches up."""

from __future__ import annotations

import time
from typing import Any

from regions import test_federation as federation
from regions.test_federation import World, campaign
from roadpass.bootstrap import Roadpass
from roadpass.features import regions as regions_feature
from roadpass.regions.recall_relay import RelayRow

world = federation.world  # the same three nodes


def _rows(home: Roadpass, key: str) -> list[RelayRow]:
    with home.recall_relay.records.read() as records:
        return records.relays(campaign_key=key)


def _wait_reported(home: Roadpass, key: str, regions: int, seconds: float = 30) -> list[RelayRow]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = _rows(home, key)
        if len(rows) == regions and all(r.report is not None for r in rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"not reported in {seconds} s: {_rows(home, key)}")


def _by_market(row: RelayRow) -> dict[str, Any]:
    return dict((row.report or {}).get("byMarket", {}))


def test_a_campaign_defined_at_home_reaches_the_regions_and_completion_comes_back_by_itself(world: World) -> None:
    world.home.recalls.create(campaign("RC-W1"), actor="test", owner="maker")
    worker = world.home.relay_worker
    worker.interval = 0.1
    lines = regions_feature.before_serve(world.home)  # what `roadpass serve` does: the worker starts
    try:
        assert any(line.startswith("Relay worker: recall-relay, aggregates") for line in lines), lines
        assert worker.running
        rows = _wait_reported(world.home, "RC-W1", 2)
    finally:
        worker.stop()
    assert not worker.running
    found = {row.region: _by_market(row) for row in rows}
    assert found["eu-central"]["DE"]["affected"] == 2 and found["eu-central"]["FR"]["affected"] == 1
    assert found["me-central"]["SA"]["affected"] == 2
    assert {row.state for row in rows} == {"delivered"}
    assert world.eu.recalls.definition("RC-W1")["campaignKey"] == "RC-W1"  # opened in Frankfurt, resolved there
    relayed = world.home.ledger.recent(limit=20, actor="node:home")
    assert "regions.recall.relay" in {e.action for e in relayed}  # relayed by the node itself, ledgered
    # A campaign handed over by a peer is carried out there, not relayed on: Frankfurt's worker relays nothing.
    assert world.eu.recall_relay.relay_new() == 0


def test_reports_are_asked_for_again_once_they_are_old(world: World) -> None:
    world.home.recalls.create(campaign("RC-W2"), actor="test", owner="maker")
    worker = world.home.relay_worker
    worker.run_once()
    first = {row.peer: row.reported_at for row in _rows(world.home, "RC-W2")}
    assert all(first.values())
    worker.run_once()  # reports are fresh: not asked again
    assert {row.peer: row.reported_at for row in _rows(world.home, "RC-W2")} == first
    world.home.recall_relay.report_every = 0
    worker.run_once()
    again = {row.peer: row.reported_at for row in _rows(world.home, "RC-W2")}
    assert all(again[peer] > first[peer] for peer in first)  # type: ignore[operator]


def test_a_region_down_for_a_while_catches_up_from_the_worker(world: World) -> None:
    peers = world.home.regions.peers
    riyadh = next(p for p in peers if p.node == "riyadh")
    world.home.regions.peers = tuple(
        type(p)(p.node, p.region, "http://127.0.0.1:9", p.party) if p is riyadh else p for p in peers)
    world.home.recalls.create(campaign("RC-W3"), actor="test", owner="maker")
    worker = world.home.relay_worker
    outcomes = worker.run_once()
    assert outcomes["recall-relay"] == {"frankfurt": True, "riyadh": False}
    down = next(r for r in _rows(world.home, "RC-W3") if r.peer == "riyadh")
    assert down.state == "pending" and down.attempts == 1 and "unreachable" in (down.last_error or "")
    assert worker.backoff["recall-relay"].waiting(time.monotonic()) == {"riyadh"}
    worker.run_once()  # backing off: Riyadh is not tried again yet
    assert next(r for r in _rows(world.home, "RC-W3") if r.peer == "riyadh").attempts == 1
    world.home.regions.peers = peers  # Riyadh is back
    worker.backoff["recall-relay"].not_before["riyadh"] = time.monotonic() + 0.3
    worker.interval = 0.1
    assert worker.start()
    try:
        rows = _wait_reported(world.home, "RC-W3", 2)
    finally:
        worker.stop()
    assert _by_market(next(r for r in rows if r.peer == "riyadh"))["SA"]["affected"] == 2
