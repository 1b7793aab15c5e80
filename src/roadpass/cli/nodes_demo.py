"""``roadpass nodes demo --dir DIR``: five regional nodes on loopback (Frankfurt, Riyadh, Singapore, Mexico City and the
maker's home node), one SQLite database per node under DIR, wired as peers with webhook keys and stream
subscriptions, the demo fleet split by market across them (:mod:`roadpass.regions.nodes_demo`), each node's
UI on its own port, running until Ctrl-C. Every child dies with this process (docs/regions.md)."""

from __future__ import annotations

import ctypes
import getpass
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Annotated

import httpx
import orjson
import typer

from roadpass.access.demo import DemoSignIn, ensure_demo_access
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.cli.common import console, fail
from roadpass.demo.fleet import FleetSpec, fleet_locations, fleet_parties, generate_fleet
from roadpass.regions.nodes_demo import (
    DEMO_NODES,
    HOME,
    DemoNode,
    DemoSplit,
    node_environment,
    peers_of,
    split_documents,
    webhook_party,
)
from roadpass.settings import Settings
from roadpass.trace.capture_plan import CaptureOutcome

__all__ = ["add_demo_command", "nodes_demo"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_SINCE_EVER = "2000-01-01T00:00:00Z"  # a stream subscription's initialRecordTime: every event captured so far
_QUERY = "to-home"
_CARMAKER = "lanxing"


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _settings(node: DemoNode, folder: Path, ports: dict[str, int]) -> Settings:
    """The settings the node's ``roadpass serve`` will read from its environment, for setting it up here."""
    return Settings(environment="development", database_url=_database_url(folder), port=ports[node.name],
                    region=node.region, node_id=node.name, peers=peers_of(node, ports), telematics_broker=False,
                    delivery_worker="thread")


def _database_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'node.sqlite3'}"


def _capture(rp: Roadpass, documents: list[dict[str, object]]) -> int:
    """Capture one node's share of the fleet through the real capture path; events stored."""
    for party in fleet_parties():
        rp.admin.create_party(actor=_actor(), key=party.key, name=party.name, role=party.role,
                              country=party.country, gcp=party.company_prefix)
    stored = 0
    for outcome in rp.trace.capture_many((orjson.dumps(doc) for doc in documents), actor=_actor()):
        if not isinstance(outcome, CaptureOutcome):
            raise RuntimeError(f"demo capture failed: {outcome}")
        stored += outcome.stored
    return stored


def _keys_file(root: Path, node: str) -> Path:
    """``node``'s API keys on its peers (its ``apiKey`` per peer), owner-readable only."""
    return root / node / "peer-api-keys.json"


def _api_keys(root: Path, node: str) -> dict[str, str]:
    path = _keys_file(root, node)
    return {str(k): str(v) for k, v in orjson.loads(path.read_bytes()).items()} if path.exists() else {}


def _write_keys(root: Path, node: str, keys: dict[str, str]) -> None:
    path = _keys_file(root, node)
    path.touch(mode=0o600)
    path.write_bytes(orjson.dumps(keys))


def _set_up(root: Path, ports: dict[str, int], split: DemoSplit) -> list[DemoSignIn]:
    """Every node's database: its share of the fleet, the demo sign-ins; on the home node a webhook party
    and key per regional node; on each regional node a query of every event and a stream subscription
    delivering it to the home node's /capture, signed with that key (projected at the border), and the party
    ``node-home`` with an API key the home node asks its federated where-used with."""
    apps = {node.name: bootstrap(_settings(node, root / node.name, ports)) for node in DEMO_NODES}
    try:
        sign_ins: list[DemoSignIn] = []
        for node in DEMO_NODES:
            rp = apps[node.name]
            _capture(rp, split.documents.get(node.name, []))
            sign_ins = ensure_demo_access(rp.admin, environment="development")
        home = apps[HOME]
        api_keys: dict[str, str] = {}
        for node in DEMO_NODES:
            if node.name == HOME:
                continue
            asks = apps[node.name].admin.create_party(actor=_actor(), key=webhook_party(HOME), role="manufacturer",
                                                      name="roadpass node home (cn-east)", country="CN")
            api_keys[node.name] = apps[node.name].admin.create_api_key(
                actor=_actor(), party_id=asks.id, name="node home: federated where-used")[0].token
            party = home.admin.create_party(actor=_actor(), key=webhook_party(node.name),
                                            name=f"roadpass node {node.name} ({node.region})",
                                            role="manufacturer", country="CN")
            key, _info = home.admin.create_api_key(actor=_actor(), party_id=party.id, name=f"node {node.name}",
                                                   webhook=True)
            # The node's API key on home: its battery health summaries and aggregates (the webhook key above
            # only signs captures).
            _write_keys(root, node.name, {HOME: home.admin.create_api_key(
                actor=_actor(), party_id=party.id, name=f"node {node.name}: health and aggregates")[0].token})
            rp = apps[node.name]
            maker = next(p for p in rp.access.parties() if p.key == _CARMAKER)
            rp.queries.create({"name": _QUERY, "query": {}}, actor=_actor(), party_id=maker.id)
            rp.subscriptions.create(_QUERY, {"dest": f"http://127.0.0.1:{ports[HOME]}/capture",
                                             "signatureToken": key.token, "stream": True,
                                             "initialRecordTime": _SINCE_EVER}, actor=_actor(), party_id=maker.id)
        _write_keys(root, HOME, api_keys)
        return sign_ins
    finally:
        for rp in apps.values():
            rp.close()


def _die_with(parent: int) -> None:
    """In the child, before ``roadpass serve`` starts: end when the demo process is gone (Linux
    PR_SET_PDEATHSIG, as trace/parse_worker.py die_with_parent; it survives exec)."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the demo ended before the signal was asked for
        os._exit(1)


def _start(node: DemoNode, root: Path, ports: dict[str, int], logs: list[IO[bytes]]) -> subprocess.Popen[bytes]:
    folder = root / node.name
    peers = peers_of(node, ports, api_keys=_api_keys(root, node.name))
    env = {**os.environ, **node_environment(node, database_url=_database_url(folder), port=ports[node.name],
                                            peers=peers)}
    log = (folder / "serve.log").open("ab")
    logs.append(log)
    parent = os.getpid()
    return subprocess.Popen([sys.executable, "-m", "roadpass", "serve"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=lambda: _die_with(parent))


def _wait_ready(ports: dict[str, int], children: list[subprocess.Popen[bytes]], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    waiting = dict(ports)
    while waiting:
        if any(child.poll() is not None for child in children) or time.monotonic() > deadline:
            raise RuntimeError("a node did not start (see its serve.log)")
        for name, port in list(waiting.items()):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                del waiting[name]
            except httpx.HTTPError:
                pass
        time.sleep(0.3)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """Stop every child: SIGTERM, then SIGKILL after a grace period, and reap each."""
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _print(root: Path, ports: dict[str, int], children: list[subprocess.Popen[bytes]],
           sign_ins: list[DemoSignIn], split: DemoSplit) -> None:
    # Plain lines, not a table: a terminal of any width shows each url whole.
    for node, child in zip(DEMO_NODES, children, strict=True):
        console.print(f"{node.name:<10} {node.region:<13} http://127.0.0.1:{ports[node.name]}/  {node.city}; "
                      f"{split.events.get(node.name, 0)} events captured here (pid {child.pid})",
                      highlight=False, soft_wrap=True)
    for region, count in sorted(split.left_out.items()):
        console.print(f"left out: {count} events of markets in {region} (no node for that region in this demo)",
                      soft_wrap=True)
    console.print("Demo sign-ins (development only; the same on every node):")
    for demo in sign_ins:
        console.print(f"  {demo.role:<12} {demo.email:<30} {demo.password:<20} {demo.what}",
                      highlight=False, soft_wrap=True)
    console.print(f"Databases and logs under {root}; each regional node streams its events to {HOME}, projected "
                  "by the transfer policy. Ctrl-C stops every node.", highlight=False, soft_wrap=True)


def nodes_demo(
    directory: Annotated[Path, typer.Option("--dir", help="Folder of the nodes' databases and logs.")],
    vehicles: Annotated[int, typer.Option("--vehicles", "-n", min=1, help="Vehicles in the demo fleet.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed of the fleet.")] = 7,
    first_port: Annotated[int, typer.Option(help="Port of the first node; the others follow.")] = 8101,
) -> None:
    """Start a local multi-node demo: Frankfurt, Riyadh, Singapore and the maker's home node, one SQLite
    database each under --dir, wired as peers; runs until Ctrl-C and stops every node."""
    root = directory.resolve()
    ports = {node.name: first_port + i for i, node in enumerate(DEMO_NODES)}
    for name, port in ports.items():
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                fail(f"port {port} (node {name}) is in use: choose another --first-port")
    fresh = not any((root / node.name / "node.sqlite3").exists() for node in DEMO_NODES)
    for node in DEMO_NODES:
        (root / node.name).mkdir(parents=True, exist_ok=True)
    sites = {loc.sgln.rsplit(".", 1)[0]: (loc.role, loc.country) for loc in fleet_locations()}
    split = split_documents(generate_fleet(FleetSpec(vehicles=vehicles, seed=seed)), sites)
    if fresh:
        console.print(f"setting up {len(DEMO_NODES)} nodes with {vehicles} vehicles under {root} …")
        sign_ins = _set_up(root, ports, split)
    else:  # a demo folder of an earlier run: its subscriptions name the ports it was set up with
        console.print(f"reusing the nodes under {root} (same --first-port as when they were made)")
        rp = bootstrap(_settings(DEMO_NODES[0], root / DEMO_NODES[0].name, ports))
        sign_ins = ensure_demo_access(rp.admin, environment="development")
        rp.close()
    children: list[subprocess.Popen[bytes]] = []
    logs: list[IO[bytes]] = []
    # SIGTERM ends the demo as Ctrl-C does: through the finally below, which stops every child.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        children = [_start(node, root, ports, logs) for node in DEMO_NODES]
        _wait_ready(ports, children)
        _print(root, ports, children, sign_ins, split)
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        fail("a node stopped (see its serve.log); stopping the others")
    except KeyboardInterrupt:
        console.print("stopping the nodes …")
    except RuntimeError as exc:
        fail(str(exc))
    finally:
        _stop(children)
        for log in logs:
            log.close()


def add_demo_command(nodes_app: typer.Typer) -> None:
    """Register ``nodes demo`` on the ``nodes`` command group."""
    nodes_app.command("demo")(nodes_demo)
