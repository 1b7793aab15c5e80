"""``roadpass nodes demo``: the fleet split by market across the regional nodes (build record at home), the
peers wiring, and the demo itself: four nodes served, transfers made, every child gone when it stops (Ctrl-C)
or when it is killed outright."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roadpass.demo.fleet import FleetSpec, fleet_locations, generate_fleet
from roadpass.regions.nodes_demo import DEMO_NODES, HOME, MARKET_REGIONS, peers_of, split_documents

SITES = {loc.sgln.rsplit(".", 1)[0]: (loc.role, loc.country) for loc in fleet_locations()}


def test_the_fleet_is_split_by_market_with_the_build_record_at_home() -> None:
    documents = list(generate_fleet(FleetSpec(vehicles=40, seed=7)))
    total = sum(len(d["epcisBody"]["eventList"]) for d in documents)
    split = split_documents(documents, SITES)
    assert sum(split.events.values()) + sum(split.left_out.values()) == total  # nothing lost, nothing twice
    assert split.left_out == {}  # every market's region has a node in the demo
    regions = {node.name: node.region for node in DEMO_NODES}
    for name, docs in split.documents.items():
        for event in (e for d in docs for e in d["epcisBody"]["eventList"]):
            site = (event.get("readPoint") or event.get("bizLocation") or {}).get("id", "").rsplit(".", 1)[0]
            role, country = SITES.get(site, ("factory", "CN"))
            if name == HOME:  # the build record: factories, labs and the export in China
                assert country == "CN" or role == "factory", event
            else:
                assert MARKET_REGIONS[country] == regions[name] and role != "factory", event
    assert all(split.events[node.name] > 0 for node in DEMO_NODES)
    # The master data goes to every node (sites and products, no person).
    assert all("epcisHeader" in docs[0] for docs in split.documents.values())


_SITE_IDS = [*sorted(SITES), "urn:epc:id:sgln:0000000.00000", "geo:1,2", ""]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(_SITE_IDS), st.sampled_from(["readPoint", "bizLocation"])),
                         max_size=8), min_size=1, max_size=4))
def test_every_event_goes_to_one_node_or_is_counted_out(documents: list[list[tuple[str, str]]]) -> None:
    made = [{"epcisBody": {"eventList": [{"eventID": f"{d}-{i}", where: {"id": site + ".7"} if site else {}}
                                         for i, (site, where) in enumerate(events)]}}
            for d, events in enumerate(documents)]
    split = split_documents(made, SITES)
    placed = [e["eventID"] for docs in split.documents.values() for d in docs for e in d["epcisBody"]["eventList"]]
    assert len(placed) == len(set(placed))  # nothing twice
    assert len(placed) + sum(split.left_out.values()) == sum(len(events) for events in documents)  # none lost
    assert sum(split.events.values()) == len(placed)


def test_regional_nodes_peer_with_home_and_home_with_each() -> None:
    ports = {node.name: 9000 + i for i, node in enumerate(DEMO_NODES)}
    home = next(node for node in DEMO_NODES if node.name == HOME)
    assert {p["node"] for p in peers_of(home, ports)} == {"frankfurt", "riyadh", "singapore", "mexico-city"}
    assert all(p["party"] == f"node-{p['node']}" for p in peers_of(home, ports))
    assert all("apiKey" not in p for p in peers_of(home, ports))
    with_keys = peers_of(home, ports, api_keys={"riyadh": "rk"})
    assert [p.get("apiKey") for p in with_keys if p["node"] == "riyadh"] == ["rk"]
    for node in DEMO_NODES:
        if node.name != HOME:
            assert peers_of(node, ports) == [{"node": HOME, "region": "cn-east", "url": "http://127.0.0.1:9003",
                                              "party": "node-home"}]
            assert [p.get("apiKey") for p in peers_of(node, ports, api_keys={HOME: "hk"})] == ["hk"]


def _free_ports(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports, below the ephemeral range (from 32768 on Linux)
    that other processes' connections take ports from."""
    for base in range(10000 + os.getpid() * 7 % 20000, 32000, 17):
        try:
            probes = []
            for port in range(base, base + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise RuntimeError("no free ports")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # a zombie is gone, only not yet reaped
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path, int, list[int]]]:
    first = _free_ports(len(DEMO_NODES))
    process = subprocess.Popen(
        [sys.executable, "-m", "roadpass", "nodes", "demo", "--dir", str(tmp_path), "-n", "20",
         "--first-port", str(first)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "COLUMNS": "200"})
    assert process.stdout is not None
    pids: list[int] = []
    lines: list[str] = []
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            if "(pid " in line:
                pids.append(int(line.rsplit("(pid ", 1)[1].split(")")[0]))
            if "Ctrl-C stops every node" in line:
                break
        assert len(pids) == len(DEMO_NODES), "".join(lines)
        assert any("carmaker@lanxing.example" in line for line in lines)
        yield process, tmp_path, first, pids
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_the_demo_serves_every_node_transfers_and_stops_every_child_on_ctrl_c(
        demo: tuple[subprocess.Popen[str], Path, int, list[int]]) -> None:
    process, root, first, pids = demo
    for i in range(len(DEMO_NODES)):
        assert httpx.get(f"http://127.0.0.1:{first + i}/", timeout=10).status_code == 200
    deadline = time.monotonic() + 60
    transfers = 0
    while time.monotonic() < deadline and not transfers:
        with sqlite3.connect(root / "frankfurt" / "node.sqlite3") as db:
            transfers = db.execute("SELECT count(*) FROM region_transfer WHERE peer = 'home'").fetchone()[0]
        time.sleep(0.5)
    assert transfers > 0  # Frankfurt delivered to the home node, through the border
    # The home node may ask each regional node's where-used as its peer (the federated where-used's wiring).
    keys = orjson.loads((root / "home" / "peer-api-keys.json").read_bytes())
    assert set(keys) == {"frankfurt", "riyadh", "singapore", "mexico-city"}
    asked = httpx.get(f"http://127.0.0.1:{first}/federation/peer/where-used",
                      params={"id": "https://id.gs1.org/01/09521234543213/21/NONE"},
                      headers={"Authorization": f"Bearer {keys['frankfurt']}"}, timeout=30)
    assert asked.status_code == 200, asked.text
    assert httpx.get(f"http://127.0.0.1:{first}/federation/peer/where-used", timeout=30,
                     params={"id": "x"}).status_code in (401, 403)  # not without the home node's key
    # And each regional node holds a key of its own on the home node, for what it pushes there (battery
    # health summaries): accepted as that node's party, so a body that is no summary is refused for its content.
    regional = orjson.loads((root / "frankfurt" / "peer-api-keys.json").read_bytes())
    pushed = httpx.post(f"http://127.0.0.1:{first + 3}/federation/peer/health", json={},
                        headers={"Authorization": f"Bearer {regional['home']}"}, timeout=30)
    assert pushed.status_code == 400, pushed.text
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) in (0, 1)
    assert not [pid for pid in pids if _alive(pid)]


@pytest.mark.slow
def test_the_nodes_die_with_the_demo_when_it_is_killed(
        demo: tuple[subprocess.Popen[str], Path, int, list[int]]) -> None:
    process, _root, _first, pids = demo
    process.kill()  # no chance to clean up: the children must notice by themselves
    process.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)
    assert not [pid for pid in pids if _alive(pid)]
