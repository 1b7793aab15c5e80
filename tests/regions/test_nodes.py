"""Proof on three nodes served on loopback, each with its own database: Frankfurt (eu-central) captures events
of a vehicle in use, the maker's home node (cn-east) and Riyadh (me-central) are subscribed to them.

What crosses is what the transfer policy allows: pseudonyms at home, nothing per event in Riyadh, and the
owner's marker and the raw VIN in no byte of the other nodes' database files; forged and replayed deliveries
are refused or stored once; a node down for a while catches up; a policy edit governs the next transfer."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from sqlalchemy import text

from pg import PgCluster, template_database
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.regions.keys import region_key
from roadpass.regions.pseudonymise import Pseudonymiser
from roadpass.settings import Settings
from roadpass.trace.capture_plan import now_us
from webhooks import free_port

MARKER = "OWNER-MARKER-5c1e9a"
VIN = "WDB9634031L738291"
VEHICLE = f"https://id.gs1.org/8004/4012345{VIN}"
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"example": "https://example.org/owner/"}]


def pack(i: int) -> str:
    return f"https://id.gs1.org/01/09521234543213/21/PACK-{i:04d}"


def repair(i: int) -> dict[str, Any]:
    """An event of the vehicle in use (repairing), carrying its owner's name in a user extension."""
    return {"type": "AggregationEvent", "action": "ADD", "bizStep": "repairing",
            "eventTime": f"2026-11-02T10:{i // 60:02d}:{i % 60:02d}Z", "eventTimeZoneOffset": "+01:00",
            "parentID": VEHICLE, "childEPCs": [pack(i)], "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"},
            "example:owner": {"example:name": MARKER}}


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-02T10:00:00Z", "epcisBody": {"eventList": events}}


class Server:
    """One node served by uvicorn on a fixed loopback port (so that it can stop and come back on it)."""

    def __init__(self, roadpass: Roadpass, port: int) -> None:
        self.port = port
        self.server = uvicorn.Server(uvicorn.Config(create_app(roadpass=roadpass), host="127.0.0.1", port=port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "node did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@dataclass
class Node:
    """A node: its folder (database, key), settings, the running container and server."""

    name: str
    region: str
    folder: Path
    port: int
    peers: list[dict[str, str]]
    policy: Path | None = None
    database_url: str | None = None  # default: node.sqlite3 in its folder
    pg_data: Path | None = None  # the PostgreSQL cluster's data directory, when the node is on PostgreSQL
    roadpass: Roadpass | None = None
    server: Server | None = None
    sent: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def rp(self) -> Roadpass:
        assert self.roadpass is not None
        return self.roadpass

    def start(self) -> None:
        self.roadpass = bootstrap(Settings(
            database_url=self.database_url or f"sqlite:///{self.folder / 'node.sqlite3'}", environment="test",
            region=self.region,
            node_id=self.name, peers=self.peers, transfer_policy=self.policy))
        self.server = Server(self.roadpass, self.port)

    def stop(self) -> None:
        assert self.server is not None
        self.server.stop()
        self.rp.close()
        self.server = self.roadpass = None

    def events(self) -> list[dict[str, Any]]:
        with self.rp.uow.read() as conn:
            docs = conn.execute(text("SELECT doc FROM epcis_event ORDER BY id")).scalars()
            return [orjson.loads(doc) for doc in docs]

    def file_bytes(self) -> bytes:
        """Every byte of the node's files: its folder (SQLite database, -wal, -shm) and, on PostgreSQL, every
        file of the cluster (tables, indexes, pg_wal) after a checkpoint."""
        files = [path for path in sorted(self.folder.iterdir()) if path.is_file()]
        if self.pg_data is not None:
            with self.rp.engine.connect() as conn:
                conn.execute(text("CHECKPOINT"))
            files += [path for path in sorted(self.pg_data.rglob("*")) if path.is_file()]
        return b"".join(path.read_bytes() for path in files)


@dataclass
class World:
    """Frankfurt, the home node and Riyadh; Frankfurt's maker subscribed the other two to its events."""

    eu: Node
    home: Node
    riyadh: Node

    def capture(self, events: list[dict[str, Any]]) -> None:
        self.eu.rp.trace.capture(document(events), actor="test")

    def wait(self, node: Node, count: int, seconds: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while len(found := node.events()) < count and time.monotonic() < deadline:
            self.eu.rp.subscriptions.deliver_due(now_us() + 3_600_000_000)  # retries due now, not after backoff
            time.sleep(0.1)
        return found

    def settle(self) -> None:
        """Let Frankfurt's worker deliver what it has (the receivers answer at once)."""
        for _ in range(5):
            self.eu.rp.subscriptions.run_once()
            time.sleep(0.1)

    def transfers(self, peer: str) -> list[Any]:
        return self.eu.rp.regions.transfers_to(peer)


def _folder(tmp_path: Path, name: str, template: Path) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(template, folder / "node.sqlite3")
    return folder


def _subscribe(sender: Node, receiver: Node, party: str) -> None:
    """The receiver makes a webhook key for the sender's node; the sender's maker subscribes it."""
    made_party = receiver.rp.admin.create_party(actor="test", key=party, name=f"node {sender.name}",
                                                role="manufacturer", country="DE", gcp="4012345")
    made, _info = receiver.rp.admin.create_api_key(actor="test", party_id=made_party.id, name=sender.name,
                                                   webhook=True)
    sender.rp.subscriptions.create("everything", {"dest": f"{receiver.url}/capture", "signatureToken": made.token,
                                                  "stream": True}, actor="test", party_id=_maker(sender))


def _maker(sender: Node) -> int:
    """The maker's party on the sending node, with its query of every event (made once)."""
    for party in sender.rp.access.parties(role="manufacturer"):
        if party.key == "maker":
            return int(party.id)
    made = sender.rp.admin.create_party(actor="test", key="maker", name="Maker Europe", role="manufacturer",
                                       country="DE", gcp="4012345")
    sender.rp.queries.create({"name": "everything", "query": {}}, actor="test", party_id=made.id)
    return int(made.id)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[World]:
    """Frankfurt and Riyadh on SQLite files; the home node on SQLite, or on PostgreSQL."""
    policy = tmp_path / "transfer-policies.yaml"
    policy.write_text(resources.files("roadpass.regions").joinpath("transfer-policies.yaml").read_text("utf-8"))
    ports = {name: free_port() for name in ("eu", "home", "riyadh")}
    eu_peer = {"node": "frankfurt", "region": "eu-central", "url": f"http://127.0.0.1:{ports['eu']}",
               "party": "frankfurt-node"}
    eu = Node("frankfurt", "eu-central", _folder(tmp_path, "eu", sqlite_template), ports["eu"], policy=policy, peers=[
        {"node": "home", "region": "cn-east", "url": f"http://127.0.0.1:{ports['home']}"},
        {"node": "riyadh", "region": "me-central", "url": f"http://127.0.0.1:{ports['riyadh']}"}])
    home = Node("home", "cn-east", _folder(tmp_path, "home", sqlite_template), ports["home"], peers=[eu_peer])
    if request.param == "postgresql":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        (home.folder / "node.sqlite3").unlink()
        home.database_url, home.pg_data = template_database(cluster), cluster.root / "data"
    riyadh = Node("riyadh", "me-central", _folder(tmp_path, "riyadh", sqlite_template), ports["riyadh"],
                  peers=[eu_peer])
    for node in (home, riyadh, eu):
        node.start()
    made = World(eu, home, riyadh)
    try:
        _subscribe(eu, home, "frankfurt-node")
        _subscribe(eu, riyadh, "frankfurt-node")
        yield made
    finally:
        for node in (eu, home, riyadh):
            if node.server is not None:
                node.stop()


def test_personal_data_stays_in_frankfurt_and_pseudonyms_reach_home(world: World) -> None:
    world.capture([repair(i) for i in range(5)])
    arrived = world.wait(world.home, 5)
    assert len(arrived) == 5
    eu_key = region_key(None, directory=world.eu.folder, region="eu-central")
    pseudonym = Pseudonymiser("eu-central", eu_key).pseudonym(VEHICLE)
    assert {event["parentID"] for event in arrived} == {pseudonym}
    assert all(Pseudonymiser.is_pseudonym(child) for event in arrived for child in event["childEPCs"])
    assert all("example:owner" not in event for event in arrived)
    world.settle()
    assert world.riyadh.events() == []  # only aggregates may go to Riyadh: no event is sent
    to_riyadh = world.transfers("riyadh")
    assert to_riyadh and sum(t.events for t in to_riyadh) >= 5 and all(t.sent == 0 for t in to_riyadh)
    assert to_riyadh[0].summary["aggregatesByBizStep"]
    home_transfers = world.transfers("home")
    assert sum(t.sent for t in home_transfers) >= 5
    assert home_transfers[0].summary["removed"].get("example:owner")
    assert "pseudonymous" in home_transfers[0].summary["bases"]
    for node in (world.home, world.riyadh):
        stored = node.file_bytes()
        for secret in (MARKER, VIN, "PACK-0001"):
            assert secret.encode() not in stored, (node.name, secret)
        if node is world.home:  # the files read are the ones the node stores in: what arrived is there
            assert pseudonym.encode() in stored
    assert MARKER.encode() in world.eu.file_bytes()  # the marker is there to be found: at home in Frankfurt
    ledgered = world.eu.rp.ledger.recent(limit=100, actor="node:frankfurt")
    assert ledgered and {e.action for e in ledgered} == {"regions.transfer"}
    assert world.eu.rp.ledger.verify().ok


def test_a_forged_delivery_is_refused_and_a_replayed_one_stored_once(world: World) -> None:
    posted: list[tuple[bytes, dict[str, str]]] = []
    webhook = world.eu.rp.subscriptions.webhook
    original: Callable[[str, bytes, dict[str, str]], int] = webhook.post

    def recording(dest: str, body: bytes, headers: dict[str, str]) -> int:
        if dest.startswith(world.home.url):
            posted.append((body, dict(headers)))
        return original(dest, body, headers)

    webhook.post = recording  # type: ignore[method-assign]
    world.capture([repair(i) for i in range(3)])
    assert len(world.wait(world.home, 3)) == 3
    body, headers = posted[0]
    capture = f"{world.home.url}/capture"
    forged = body.replace(b"repairing", b"retail_selling")
    assert httpx.post(capture, content=forged, headers=headers).status_code == 401  # signature no longer fits
    unsigned = {k: v for k, v in headers.items() if k != "GS1-Signature"}
    assert httpx.post(capture, content=body, headers=unsigned).status_code in (401, 403)
    assert httpx.post(capture, content=body, headers=headers).status_code == 202  # a replay: accepted …
    time.sleep(1.0)
    assert len(world.home.events()) == 3  # … and stored once (idempotent capture by eventID)


def test_a_node_down_for_a_while_catches_up_with_nothing_lost_or_twice(world: World) -> None:
    world.capture([repair(i) for i in range(2)])
    assert len(world.wait(world.home, 2)) == 2
    world.home.stop()
    world.capture([repair(i) for i in range(2, 8)])
    world.settle()  # the deliveries fail: the home node is down; they stay in the outbox
    status = world.eu.rp.regions.status().as_json()
    home = next(p for p in status["peers"] if p["node"] == "home")
    assert home["outboxDepth"] > 0 and home["subscriptions"][0]["failedAttempts"] > 0
    world.home.start()
    arrived = world.wait(world.home, 8)
    time.sleep(0.5)
    arrived = world.home.events()
    ids = [event["eventID"] for event in arrived]
    assert len(ids) == 8 and len(set(ids)) == 8


def test_a_policy_edit_changes_what_the_next_transfer_carries(world: World) -> None:
    world.capture([repair(0)])
    assert len(world.wait(world.home, 1)) == 1
    assert world.eu.policy is not None
    edited = world.eu.policy.read_text(encoding="utf-8").replace(
        "{from: eu-central, to: cn-east, class: pseudonymous, decision: allow_pseudonymised, basis: eu-scc}",
        "{from: eu-central, to: cn-east, class: pseudonymous, decision: allow_aggregated, basis: gdpr-anonymous}")
    world.eu.policy.write_text(edited, encoding="utf-8")
    world.capture([repair(1)])
    world.settle()
    assert len(world.home.events()) == 1  # the clauses were suspended: the next event stays home
    last = world.transfers("home")[0]
    assert last.sent == 0 and last.summary["bases"]["pseudonymous"].startswith("allow_aggregated")
