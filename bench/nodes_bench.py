"""Regional nodes benchmark: transfer throughput and lag between two nodes under capture load, and the cost of
the transfer policy's projection per event against the unprojected delivery, measured in the same run.

Two nodes run in this process, each with its own SQLite database and served by uvicorn on a loopback port:
Frankfurt (``eu-central``) and the maker's home node (``cn-east``), wired as in docs/regions.md (a webhook key
on the home node, a stream subscription on Frankfurt delivering to the home node's ``/capture``, signed).
Frankfurt captures ``--events`` events of vehicles in use (``repairing``, each with an owner's name in a user
extension) in documents of ``--batch`` while its delivery worker runs, as when serving; a poller on the home
node timestamps each eventID when it is first stored there. Figures:

* ``capture_events_per_s``: Frankfurt's capture under the delivery load (first document to last commit);
* ``transfer_events_per_s``: events stored on the home node per second, from the first capture to the last
  arrival; ``transfer_lag_p50_ms`` / ``_p99_ms``: arrival on the home node minus the commit on Frankfurt;
* ``projection_us_per_event``: :func:`roadpass.regions.transfer.project_page` per event at the
  eu-central → cn-east border; ``delivery_build_unprojected_us_per_event`` (the baseline: the delivery document
  built and serialised as is) and ``delivery_build_projected_us_per_event`` (projected, then built);
* ``federated_where_used``: ``{"p50_ms", "p99_ms", "queries", "partial"}`` of ``GET /federation/where-used``'s
  service on the home node across the nodes of ``roadpass nodes demo`` (the demo fleet of
  ``--fleet-vehicles`` split by market, every node served on loopback, peers asked over HTTP with their API
  keys), for a unit of the build record (a child of the last assembly); ``"not measured: …"`` with the
  reason when it could not run.

Wall-clock figures move with whatever else the machine runs. Prints progress to stderr and one JSON line.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from sqlalchemy import text

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec, fleet_locations, fleet_parties, generate_fleet
from roadpass.regions.nodes_demo import DEMO_NODES, HOME, split_documents
from roadpass.regions.policy import load_classification, load_policy, load_regions
from roadpass.regions.projection import Border
from roadpass.regions.pseudonymise import Pseudonymiser
from roadpass.regions.transfer import project_page
from roadpass.settings import Settings
from roadpass.trace.capture_plan import now_us
from roadpass.trace.views import query_document

CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"example": "https://example.org/owner/"}]
KEY = bytes.fromhex("5a" * 32)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def repair(i: int) -> dict[str, Any]:
    """An event of a vehicle in use, with its owner's name in a user extension (personal: stays home)."""
    return {"type": "AggregationEvent", "action": "ADD", "bizStep": "repairing",
            "eventTime": f"2026-11-{1 + i // 86400 % 28:02d}T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "eventTimeZoneOffset": "+01:00", "parentID": f"https://id.gs1.org/8004/4012345WDB96340{i:09d}",
            "childEPCs": [f"https://id.gs1.org/01/09521234543213/21/PACK-{i:07d}"],
            "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"},
            "example:owner": {"example:name": f"owner {i}"}}


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-02T10:00:00Z", "epcisBody": {"eventList": events}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """One node served by uvicorn in a thread (its delivery worker runs as when serving)."""

    def __init__(self, rp: Roadpass, port: int) -> None:
        self.server = uvicorn.Server(uvicorn.Config(create_app(roadpass=rp), host="127.0.0.1", port=port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def two_nodes(root: Path) -> tuple[Roadpass, Roadpass, int]:
    """Frankfurt and the home node, wired: the home node's webhook key, Frankfurt's stream subscription."""
    ports = {"frankfurt": free_port(), "home": free_port()}
    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    eu = bootstrap(Settings(database_url=f"sqlite:///{root / 'frankfurt.sqlite3'}", environment="test",
                            region="eu-central", node_id="frankfurt", pseudonym_key=KEY.hex(),
                            peers=[{"node": "home", "region": "cn-east", "url": url["home"]}]))
    home = bootstrap(Settings(database_url=f"sqlite:///{root / 'home.sqlite3'}", environment="test",
                              region="cn-east", node_id="home", pseudonym_key=("6b" * 32),
                              peers=[{"node": "frankfurt", "region": "eu-central", "url": url["frankfurt"],
                                      "party": "node-frankfurt"}]))
    party = home.admin.create_party(actor="bench", key="node-frankfurt", name="node frankfurt", role="manufacturer",
                                    country="DE")
    key, _ = home.admin.create_api_key(actor="bench", party_id=party.id, name="frankfurt", webhook=True)
    maker = eu.admin.create_party(actor="bench", key="maker", name="Maker Europe", role="manufacturer", country="DE",
                                  gcp="4012345")
    eu.queries.create({"name": "everything", "query": {}}, actor="bench", party_id=maker.id)
    eu.subscriptions.create("everything", {"dest": f"{url['home']}/capture", "signatureToken": key.token,
                                           "stream": True}, actor="bench", party_id=maker.id)
    return eu, home, ports["home"]


def transfer(args: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Capture on Frankfurt under delivery; timestamp each event's arrival on the home node."""
    eu, home, home_port = two_nodes(root)
    servers = [Served(home, home_port), Served(eu, free_port())]
    arrived: dict[str, int] = {}
    done = threading.Event()

    def poll() -> None:
        last = 0
        while not done.is_set():
            with home.uow.read() as conn:
                rows = conn.execute(text("SELECT id, event_id FROM epcis_event WHERE id > :last ORDER BY id"),
                                    {"last": last}).all()
            at = now_us()
            for row in rows:
                arrived.setdefault(row.event_id, at)
                last = row.id
            time.sleep(0.01)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    committed: dict[str, int] = {}
    documents = [document([repair(i) for i in range(start, min(start + args.batch, args.events))])
                 for start in range(0, args.events, args.batch)]
    started = now_us()
    for body in documents:
        outcome = eu.trace.capture(body, actor="bench")
        at = now_us()
        committed.update((event_id, at) for event_id in outcome.event_ids)
    captured = now_us()
    deadline = time.monotonic() + args.drain_timeout
    while len(arrived) < len(committed) and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    poller.join()
    for server in servers:
        server.stop()
    eu.close()
    home.close()
    lags = sorted((arrived[e] - committed[e]) / 1000 for e in committed if e in arrived)
    last = max(arrived.values(), default=started)
    return {
        "events": len(committed), "arrived": len(arrived), "lost": len(committed) - len(arrived),
        "capture_events_per_s": round(len(committed) / max(1e-6, (captured - started) / 1e6), 1),
        "transfer_events_per_s": round(len(arrived) / max(1e-6, (last - started) / 1e6), 1),
        "transfer_lag_p50_ms": round(statistics.median(lags), 1) if lags else None,
        "transfer_lag_p99_ms": round(lags[min(len(lags) - 1, int(len(lags) * 0.99))], 1) if lags else None,
    }


def projection(args: argparse.Namespace) -> dict[str, Any]:
    """Project ``--projection-events`` events at the eu-central → cn-east border, against the baseline."""
    regions = load_regions()
    border = Border("eu-central", "cn-east", load_policy(regions=regions), load_classification(regions=regions),
                    Pseudonymiser("eu-central", KEY))
    events = [repair(i) for i in range(args.projection_events)]
    n = len(events)
    best: dict[str, float] = {"plain": float("inf"), "projected": float("inf"), "project": float("inf")}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        orjson.dumps(query_document(events, [CONTEXT], "everything", now_us()))
        t1 = time.perf_counter()
        sent, _summary = project_page(events, border)
        t2 = time.perf_counter()
        orjson.dumps(query_document(sent, [CONTEXT], "everything", now_us()))
        t3 = time.perf_counter()
        best["plain"] = min(best["plain"], t1 - t0)
        best["project"] = min(best["project"], t2 - t1)
        best["projected"] = min(best["projected"], t3 - t1)
    return {
        "projection_events": n,
        "projection_us_per_event": round(best["project"] / n * 1e6, 2),
        "delivery_build_unprojected_us_per_event": round(best["plain"] / n * 1e6, 2),
        "delivery_build_projected_us_per_event": round(best["projected"] / n * 1e6, 2),
    }


def demo_nodes(root: Path, vehicles: int) -> tuple[dict[str, Roadpass], dict[str, int]]:
    """The nodes of the demo, the fleet split by market; the home node holds an API key of party
    ``node-home`` on each regional node (the peer it asks as)."""
    ports = {node.name: free_port() for node in DEMO_NODES}
    keys: dict[str, str] = {}
    apps: dict[str, Roadpass] = {}
    sites = {loc.sgln.rsplit(".", 1)[0]: (loc.role, loc.country) for loc in fleet_locations()}
    split = split_documents(generate_fleet(FleetSpec(vehicles=vehicles, seed=7)), sites)
    for node in [n for n in DEMO_NODES if n.name != HOME] + [n for n in DEMO_NODES if n.name == HOME]:
        if node.name == HOME:
            peers = [{"node": n.name, "region": n.region, "url": f"http://127.0.0.1:{ports[n.name]}",
                      "apiKey": keys[n.name]} for n in DEMO_NODES if n.name != HOME]
        else:
            peers = [{"node": HOME, "region": "cn-east", "url": f"http://127.0.0.1:{ports[HOME]}",
                      "party": "node-home"}]
        rp = bootstrap(Settings(database_url=f"sqlite:///{root / (node.name + '.sqlite3')}", environment="test",
                                region=node.region, node_id=node.name, pseudonym_key=os.urandom(32).hex(),
                                peers=peers))
        for party in fleet_parties():
            rp.admin.create_party(actor="bench", key=party.key, name=party.name, role=party.role,
                                  country=party.country, gcp=party.company_prefix)
        for body in split.documents.get(node.name, []):
            rp.trace.capture(body, actor="bench")
        if node.name != HOME:
            party = rp.admin.create_party(actor="bench", key="node-home", name="node home", role="manufacturer",
                                          country="CN")
            keys[node.name] = rp.admin.create_api_key(actor="bench", party_id=party.id, name="home")[0].token
        apps[node.name] = rp
    return apps, ports


def federated_where_used(args: argparse.Namespace, root: Path) -> dict[str, Any] | str:
    """p50/p99 of the home node's federated where-used of a unit of the build record across the demo's nodes."""
    apps, ports = demo_nodes(root, args.fleet_vehicles)
    servers = [Served(rp, ports[name]) for name, rp in apps.items()]
    try:
        home = apps[HOME]
        with home.uow.read() as conn:
            doc = conn.execute(text("SELECT doc FROM epcis_event WHERE biz_step LIKE '%assembling' "
                                    "ORDER BY id DESC LIMIT 1")).scalar_one()
        child = orjson.loads(doc)["childEPCs"][0]
        times, partial = [], 0
        for _ in range(args.where_used_queries):
            t0 = time.perf_counter()
            answer = home.federation.where_used(child, visibility=None)
            times.append((time.perf_counter() - t0) * 1000)
            partial += answer.partial
        times.sort()
        return {"identifier": child, "queries": len(times), "partial": partial,
                "p50_ms": round(statistics.median(times), 1),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1)}
    finally:
        for server in servers:
            server.stop()
        for rp in apps.values():
            rp.close()


def main() -> None:
    """Run both parts and print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events Frankfurt captures under delivery")
    parser.add_argument("--batch", type=int, default=50, help="events per captured document")
    parser.add_argument("--projection-events", type=int, default=2000, help="events projected per repeat")
    parser.add_argument("--repeat", type=int, default=5, help="projection repeats (the best is kept)")
    parser.add_argument("--fleet-vehicles", type=int, default=60, help="demo fleet split across the demo's nodes")
    parser.add_argument("--where-used-queries", type=int, default=50, help="federated where-used queries timed")
    parser.add_argument("--drain-timeout", type=float, default=120, help="seconds to wait for every arrival")
    args = parser.parse_args()
    figures: dict[str, Any] = {"bench": "nodes", "database": "sqlite", "loadavg_1m": round(os.getloadavg()[0], 2)}
    log("projection per event …")
    figures.update(projection(args))
    with tempfile.TemporaryDirectory(prefix="roadpass-nodes-bench-") as folder:
        log(f"transfer of {args.events} events Frankfurt → home under capture load …")
        figures.update(transfer(args, Path(folder)))
    with tempfile.TemporaryDirectory(prefix="roadpass-nodes-bench-") as folder:
        log(f"federated where-used across {len(DEMO_NODES)} nodes ({args.where_used_queries} queries) …")
        try:
            figures["federated_where_used"] = federated_where_used(args, Path(folder))
        except Exception as exc:  # the federated where-used is built alongside: say why it was not measured
            figures["federated_where_used"] = f"not measured: {type(exc).__name__}: {exc}"[:300]
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
