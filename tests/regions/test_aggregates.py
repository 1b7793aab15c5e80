"""Aggregates delivered to a peer, on two nodes served on loopback with their own databases: Frankfurt
(eu-central) captures events of vehicles in use; Riyadh (me-central, on SQLite or PostgreSQL) is subscribed to
them, and the policy lets vehicles in use cross that border only as counts.

The counts arrive in Riyadh by market, business step and day, groups under k suppressed; they are ledgered at
both ends; a replayed batch is stored once, a forged one refused; a policy edit changes the next batch; a
Riyadh down for a while gets the batches when it is back, from the relay worker's thread."""

from __future__ import annotations

import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from pg import PgCluster, template_database
from regions.test_nodes import CONTEXT, MARKER, VEHICLE, VIN, Node, _folder, _subscribe, repair
from roadpass.cli import common
from roadpass.cli.main import app as cli_app
from roadpass.regions.aggregates_service import RECEIVE_ACTION, SEND_ACTION
from webhooks import free_port

SHOP = "urn:epc:id:sgln:4012345.00001.0"
MDA = "urn:epcglobal:cbv:mda#"
PEER_PATH = "/federation/peer/aggregates"


def sale(i: int, day: str = "2026-11-03") -> dict[str, Any]:
    return {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "retail_selling",
            "eventTime": f"{day}T09:00:{i:02d}Z", "eventTimeZoneOffset": "+01:00", "epcList": [VEHICLE],
            "bizLocation": {"id": SHOP}, "example:owner": {"example:name": MARKER}}


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Events with the shop's master data (a German site: the market of the counts)."""
    site = {"id": SHOP, "attributes": [{"id": MDA + "countryCode", "attribute": "DE"}]}
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-02T10:00:00Z",
            "epcisHeader": {"epcisMasterData": {"vocabularyList": [
                {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": [site]}]}},
            "epcisBody": {"eventList": events}}


class Pair:
    """Frankfurt subscribed Riyadh to its events and holds an API key of its party on Riyadh."""

    def __init__(self, eu: Node, riyadh: Node) -> None:
        self.eu, self.riyadh = eu, riyadh
        self.token = ""

    def connect(self) -> None:
        """Riyadh's API key for Frankfurt's party (the one the aggregates are delivered with)."""
        party = next(p for p in self.riyadh.rp.access.parties(role="manufacturer") if p.key == "frankfurt-node")
        self.token = str(self.riyadh.rp.admin.create_api_key(actor="test", party_id=party.id, name="agg")[0].token)
        self.eu.rp.federation.api_keys["riyadh"] = self.token
        self.eu.rp.aggregates.settle_us = 0

    def capture(self, events: list[dict[str, Any]]) -> None:
        self.eu.rp.trace.capture(document(events), actor="test")
        for _ in range(3):  # Frankfurt's subscription worker projects them: every event withheld for a count
            self.eu.rp.subscriptions.run_once()
            time.sleep(0.05)

    def received(self) -> list[dict[str, Any]]:
        return list(self.riyadh.rp.aggregates.overview()["received"])

    def edit_policy(self, old: str, new: str) -> None:
        assert self.eu.policy is not None
        self.eu.policy.write_text(self.eu.policy.read_text("utf-8").replace(old, new), encoding="utf-8")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def pair(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[Pair]:
    policy = tmp_path / "transfer-policies.yaml"
    shipped = resources.files("roadpass.regions").joinpath("transfer-policies.yaml").read_text("utf-8")
    policy.write_text(shipped.replace("window_hours: 24", "window_hours: 0"), encoding="utf-8")
    ports = {name: free_port() for name in ("eu", "riyadh")}
    eu = Node("frankfurt", "eu-central", _folder(tmp_path, "eu", sqlite_template), ports["eu"], policy=policy,
              peers=[{"node": "riyadh", "region": "me-central", "url": f"http://127.0.0.1:{ports['riyadh']}"}])
    riyadh = Node("riyadh", "me-central", _folder(tmp_path, "riyadh", sqlite_template), ports["riyadh"], peers=[
        {"node": "frankfurt", "region": "eu-central", "url": f"http://127.0.0.1:{ports['eu']}",
         "party": "frankfurt-node"}])
    if request.param == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        (riyadh.folder / "node.sqlite3").unlink()
        riyadh.database_url, riyadh.pg_data = template_database(cluster), cluster.root / "data"
    riyadh.start()
    eu.start()
    made = Pair(eu, riyadh)
    try:
        _subscribe(eu, riyadh, "frankfurt-node")
        made.connect()
        yield made
    finally:
        for node in (eu, riyadh):
            if node.server is not None:
                node.stop()


def test_counts_by_market_step_and_day_reach_the_peer_small_groups_suppressed(pair: Pair) -> None:
    pair.capture([repair(i) for i in range(6)] + [sale(i) for i in range(2)])
    assert pair.riyadh.events() == []  # no event crosses this border, only counts
    outcomes = pair.eu.rp.relay_worker.run_once()
    assert outcomes["aggregates"] == {"riyadh": True}
    [batch] = pair.received()
    assert batch["from"] == "frankfurt" and batch["region"] == "eu-central" and batch["minGroupSize"] == 5
    assert batch["groups"] == [{"market": "DE", "bizStep": "repairing", "day": "2026-11-02", "count": 6}]
    assert batch["suppressed"] == {"events": 2, "groups": 1} and batch["withheld"] == 8
    assert pair.eu.rp.relay_worker.run_once()["aggregates"] == {}  # nothing new: nothing sent again
    assert len(pair.received()) == 1
    sent = pair.eu.rp.aggregates.overview()["sent"]
    assert [(s["to"], s["state"]) for s in sent] == [("riyadh", "delivered")]
    # Ledgered at both ends, with the basis; the other node holds counts, never the owner or the VIN.
    assert SEND_ACTION in {e.action for e in pair.eu.rp.ledger.recent(limit=50, actor="node:frankfurt")}
    received = pair.riyadh.rp.ledger.recent(limit=50, actor="node:frankfurt")
    assert [e.action for e in received] == [RECEIVE_ACTION] and "allow_aggregated" in received[0].rule
    assert pair.eu.rp.ledger.verify().ok and pair.riyadh.rp.ledger.verify().ok
    stored = pair.riyadh.file_bytes()
    for secret in (MARKER, VIN, "PACK-0001"):
        assert secret.encode() not in stored
    # Both nodes show it: GET /nodes/aggregates and a line per peer in `roadpass nodes status`.
    shown = httpx.get(f"{pair.riyadh.url}/nodes/aggregates", headers={"Authorization": f"Bearer {pair.token}"})
    assert shown.status_code == 200 and shown.json()["perPeer"]["frankfurt"]["received"] == 1
    assert httpx.get(f"{pair.riyadh.url}/nodes/aggregates").status_code == 401


def test_nodes_status_names_the_aggregates_per_peer(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    pair.capture([repair(i) for i in range(5)])
    pair.eu.rp.relay_worker.run_once()
    for node, line in ((pair.riyadh, "aggregates frankfurt: received 1, sent 0"),
                       (pair.eu, "aggregates riyadh: received 0, sent 1")):
        monkeypatch.setattr(common.state, "app", node.rp)
        result = CliRunner().invoke(cli_app, ["nodes", "status"])
        assert result.exit_code == 0 and line in result.output, result.output
    result = CliRunner().invoke(cli_app, ["nodes", "status", "--json"])
    assert '"aggregates"' in result.output


def test_a_replayed_batch_is_stored_once_and_a_forged_one_refused(pair: Pair) -> None:
    pair.capture([repair(i) for i in range(5)])
    pair.eu.rp.relay_worker.run_once()
    [row] = pair.eu.rp.aggregates.overview()["sent"]
    body = {**next(r.body for r in _outbox(pair)), "batch": row["batch"]}
    url = f"{pair.riyadh.url}{PEER_PATH}"
    auth = {"Authorization": f"Bearer {pair.token}"}
    replay = httpx.post(url, json=body, headers=auth)
    assert replay.status_code == 200 and replay.json() == {"stored": False}
    assert len(pair.received()) == 1
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url, json=body, headers={"Authorization": "Bearer rp_forged"}).status_code == 401
    stranger = pair.riyadh.rp.admin.create_party(actor="test", key="stranger", name="stranger", role="manufacturer",
                                                 country="DE", gcp="4012345")
    other = pair.riyadh.rp.admin.create_api_key(actor="test", party_id=stranger.id, name="s")[0].token
    refused = httpx.post(url, json={**body, "batch": 99}, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403 and refused.json()["parameter"] == "Authorization"
    small = {**body, "batch": 100, "groups": [{**body["groups"][0], "count": 1}]}
    invalid = httpx.post(url, json=small, headers=auth)
    assert invalid.status_code == 400 and invalid.json()["errors"][0]["instance"] == "$.groups[0].count"
    assert len(pair.received()) == 1


def _outbox(pair: Pair) -> list[Any]:
    with pair.eu.rp.aggregates.records.read() as records:
        return list(records.outbox())


def test_a_policy_edit_changes_the_next_batch(pair: Pair) -> None:
    pair.capture([sale(i) for i in range(2)])
    pair.eu.rp.relay_worker.run_once()
    assert pair.received()[0]["groups"] == [] and pair.received()[0]["suppressed"]["events"] == 2
    pair.edit_policy("min_group_size: 5", "min_group_size: 2")
    pair.capture([sale(i, day="2026-11-04") for i in range(2)])
    pair.eu.rp.relay_worker.run_once()
    newest = pair.received()[0]
    assert newest["minGroupSize"] == 2
    assert newest["groups"] == [{"market": "DE", "bizStep": "retail_selling", "day": "2026-11-04", "count": 2}]
    # The location may no longer cross: the next batch carries no market.
    pair.edit_policy("- {from: eu-central, to: \"*\", class: personal, decision: deny, basis: gdpr-art-44}",
                     "- {from: eu-central, to: \"*\", class: personal, decision: deny, basis: gdpr-art-44}\n"
                     "  - {from: eu-central, to: me-central, class: non_personal, decision: allow_aggregated,"
                     " basis: gdpr-anonymous}")
    pair.capture([sale(i, day="2026-11-05") for i in range(2)])
    pair.eu.rp.relay_worker.run_once()
    assert [g["market"] for g in pair.received()[0]["groups"]] == [None]


def test_a_peer_down_for_a_while_gets_its_batches_from_the_worker_thread(pair: Pair) -> None:
    pair.riyadh.stop()
    pair.capture([repair(i) for i in range(5)])
    worker = pair.eu.rp.relay_worker
    assert worker.run_once()["aggregates"] == {"riyadh": False}
    [pending] = _outbox(pair)
    assert pending.state == "pending" and pending.attempts == 1 and "unreachable" in (pending.last_error or "")
    assert worker.backoff["aggregates"].waiting(time.monotonic()) == {"riyadh"}
    pair.riyadh.start()
    worker.backoff["aggregates"].base = 0.2
    worker.backoff["aggregates"].not_before["riyadh"] = time.monotonic() + 0.2
    worker.interval = 0.1
    assert worker.start() and worker.running
    try:
        deadline = time.monotonic() + 20
        while not pair.received() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert not worker.running
    [batch] = pair.received()
    assert batch["groups"][0]["count"] == 5
    assert [r.state for r in _outbox(pair)] == ["delivered"]
