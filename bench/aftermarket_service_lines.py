"""Service-record lines of the aftermarket benchmark: remedy completions through the real recording path, and
the repairer's "what is due for this VIN" under concurrent clients.

``bench/aftermarket_bench.py`` calls :func:`remedy_completions` and :func:`what_is_due` on its own fleet and
campaign. Run alone (``python bench/aftermarket_service_lines.py --vehicles 2000``) it loads a demo fleet into
a temporary SQLite database, records the completions and measures the page, and prints ONE JSON line.

- ``remedy_completions``: work orders that swap each vehicle's remedy part and name the campaign, recorded
  with ``ServiceRecordService.record_many`` (genealogy checks, one EPCIS capture per batch, one insert and one
  ledger entry per batch): completions per second; the peer is the same path one work order at a time.
- ``what_is_due``: ``RepairerDesk.due`` from ``clients`` threads at once over random VINs with the caller's
  visibility applied: p50/p99 latency after a warm pass (answers kept until the database changes), the cold
  (first, computed) latency as the peer.
- ``due_over_http``: ``GET /vehicles/{vin}/due`` with the carmaker's API key from 100 keep-alive connections
  (wrk, one thread) against the application under uvicorn on loopback (one worker: the other core runs the
  load), after a warm pass: 100 clients that each pause a second between an answer and the next question
  (the target's load), then the same connections with no pause (the node's capacity; latency there is the
  queue). The baseline is a bare GET (``/``, the EPCIS top-level resources) on the same server with the same
  key under both loads, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from roadpass.aftermarket.service.model import Operation, PartSwap, WorkOrder
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings
from roadpass.trace.query import Visibility
from roadpass.trace.timeutil import parse_time

__all__ = ["due_over_http", "line_service", "remedy_completions", "remedy_orders", "what_is_due"]


def log(message: str) -> None:
    """Progress to stderr (stdout carries the one JSON line)."""
    print(message, file=sys.stderr, flush=True)


def _remedy_part(app: Roadpass, vin: str, at: int, gtin_prefix: str | None) -> str | None:
    """The direct part of the vehicle the remedy replaces: the first whose key starts with ``gtin_prefix``,
    else the first that is itself an assembly (the traction pack)."""
    for child in app.trace.as_built(vin, at).children:
        if (gtin_prefix and child.key.startswith(gtin_prefix)) or (not gtin_prefix and child.children):
            return child.key
    return None


def remedy_orders(
    app: Roadpass, vins: Sequence[str], *, campaign: str, at: int, gtin_prefix: str | None = None, tag: str = "RB"
) -> list[WorkOrder]:
    """One remedy work order per VIN at ``at`` (UTC µs): the remedy part swapped for a new serial of the same
    trade item, the campaign named (VINs without such a part are left out)."""
    orders: list[WorkOrder] = []
    for n, vin in enumerate(vins):
        old = _remedy_part(app, vin, at, gtin_prefix)
        if old is None or "/21/" not in old:
            continue
        new = old.split("/21/")[0] + f"/21/{tag}{n:07d}"
        orders.append(WorkOrder(f"{campaign}-{tag}-{vin}", vin, at, 20_000 + n % 50_000, "bench technician",
                                (Operation("REMEDY", f"remedy of {campaign}", 2.0),), (PartSwap(old, new),),
                                (campaign,)))
    return orders


def remedy_completions(
    app: Roadpass, vins: Sequence[str], *, campaign: str, at: int, gtin_prefix: str | None = None,
    batch: int = 500, peer: int = 50,
) -> dict[str, Any]:
    """Record a remedy completion for each VIN in batches through the real path; the figures. The first
    ``peer`` VINs (at most a quarter) are recorded one work order at a time (the peer figure), the rest in
    batches."""
    orders = remedy_orders(app, vins, campaign=campaign, at=at, gtin_prefix=gtin_prefix)
    reads = _genealogy_reads(app, orders[:batch])
    peer = min(peer, len(orders) // 4)
    single, batched = orders[:peer], orders[peer:]
    started = time.perf_counter()
    for order in single:
        app.service_records.record(order, actor="bench")
    single_s = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(0, len(batched), batch):
        app.service_records.record_many(batched[i:i + batch], actor="bench")
    batched_s = time.perf_counter() - started
    return {
        "remedy_completions": len(batched),
        "remedy_completions_per_s": round(len(batched) / batched_s, 1) if batched_s else None,
        "remedy_batch": batch,
        "remedy_one_at_a_time_per_s": round(len(single) / single_s, 1) if single_s else None,
    } | reads


def _genealogy_reads(app: Roadpass, orders: Sequence[WorkOrder]) -> dict[str, Any]:
    """The genealogy read of one batch's check, timed: the one-statement read ``record_many`` makes
    (children of many vehicles at given times) against its peer, one as-built read per work order."""
    asked = [(order.vin, order.performed_at) for order in orders]
    removed = {part for order in orders for part in order.removed}
    started = time.perf_counter()
    app.trace.vehicles_children_at(asked, among=removed)
    bulk_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    for vin, at in asked:
        app.trace.as_built(vin, at)
    each_ms = (time.perf_counter() - started) * 1000
    return {"remedy_genealogy_read_orders": len(asked), "remedy_genealogy_read_ms": round(bulk_ms, 1),
            "peer_as_built_per_order_ms": round(each_ms, 1)}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def what_is_due(
    app: Roadpass, vins: Sequence[str], *, clients: int = 100, requests: int = 20,
    visibility: Visibility | None = None, seed: int = 7,
) -> dict[str, Any]:
    """``clients`` threads each ask ``requests`` times for a random VIN's page at once; latencies in ms."""
    cold: list[float] = []
    for vin in vins:  # the warm pass: every answer computed once (the peer figure)
        started = time.perf_counter()
        app.repairer_desk.due(vin, visibility=visibility)
        cold.append((time.perf_counter() - started) * 1000)
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    gate = threading.Barrier(clients)

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        mine: list[float] = []
        gate.wait()
        failed = 0
        for _ in range(requests):
            vin = rng.choice(vins)
            started = time.perf_counter()
            try:
                app.repairer_desk.due(vin, visibility=visibility)
            except SQLAlchemyError:  # e.g. no pooled connection within its timeout: counted, not hidden
                failed += 1
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)
            errors.append(failed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {
        "due_clients": clients,
        "due_requests": len(latencies),
        "due_errors": sum(errors),
        "due_p50_ms": round(statistics.median(latencies), 3),
        "due_p99_ms": round(_percentile(latencies, 0.99), 3),
        "due_per_s": round(len(latencies) / wall, 1),
        "due_cold_p50_ms": round(statistics.median(cold), 3),
        "due_cold_p99_ms": round(_percentile(cold, 0.99), 3),
    }


# wrk's Lua hooks: a random path of the list per request, with the API key; the figures as one JSON line.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local headers = {["Accept"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN")}
math.randomseed(7)
local pause = tonumber(os.getenv("WRK_THINK_MS") or "0")
if pause > 0 then
  -- a client's think time between its answer and its next question (wrk waits this long per connection),
  -- drawn from an exponential distribution of that mean: clients that do not march in step, as people do not.
  -- Cut at 4 s: uvicorn closes a keep-alive connection idle for 5 s, which wrk would count as an error.
  delay = function() return math.min(4000, math.floor(-pause * math.log(1 - math.random()))) end
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "errors": %d, "error_kinds": {"connect": %d, "read": %d, '
    .. '"write": %d, "status": %d, "timeout": %d}, "p50_ms": %.3f, "p99_ms": %.3f, "seconds": %.3f}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def _serve(url: str) -> tuple[subprocess.Popen[bytes], int]:
    """The application under uvicorn on a free loopback port (one worker), once it accepts connections."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = {**os.environ, "ROADPASS_DATABASE_URL": url, "ROADPASS_ENVIRONMENT": "test"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "roadpass.api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log", "--backlog", "4096", "--loop", "auto",
         "--http", "auto"], env=env)  # auto: uvloop and httptools when installed, as roadpass serve runs
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("the server did not start")


def _wrk(
    port: int, paths: Sequence[str], token: str, *, clients: int, seconds: int, think_ms: int = 0
) -> dict[str, Any]:
    """One wrk run (one thread, ``clients`` keep-alive connections, each pausing ``think_ms`` between an
    answer and its next request) over ``paths``: its figures."""
    tmp = Path(tempfile.mkdtemp(prefix="roadpass-due-wrk-"))
    try:
        (tmp / "paths.txt").write_text("\n".join(paths) + "\n")
        (tmp / "due.lua").write_text(WRK_SCRIPT)
        done = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", str(tmp / "due.lua"),
             f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=seconds + 120,
            env={**os.environ, "WRK_PATHS": str(tmp / "paths.txt"), "WRK_TOKEN": token,
                 "WRK_THINK_MS": str(think_ms)})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


#: A busy workshop's client: a question, the answer read, the next question a second later on average
#: (exponentially distributed pauses). 100 of them offer about 100 requests a second; with no pause
#: (saturation) the same 100 connections measure the node's capacity instead, where latency is the queue:
#: 100 connections / throughput (Little's law).
THINK_MS = 1000


def due_over_http(
    app: Roadpass, url: str, vins: Sequence[str], *, clients: int = 100, seconds: int = 10
) -> dict[str, Any]:
    """``GET /vehicles/{vin}/due`` from ``clients`` connections (wrk) against a served node, each client
    pausing :data:`THINK_MS` between an answer and its next question, then with no pause (saturation); a bare
    GET (``/``) on the same server under both loads is the baseline; the carmaker's API key on all. Warm pass
    first (each answer computed once, as a repairer's second look at a VIN finds it)."""
    carmaker = app.access.party("lanxing")
    if carmaker is None or not shutil.which("wrk"):
        return {"due_http": None}
    made, _ = app.admin.create_api_key(actor="bench", party_id=carmaker.id, name="bench-due", days=1)
    paths = [f"/vehicles/{vin}/due" for vin in vins]
    server, port = _serve(url)
    runs: dict[str, dict[str, Any]] = {}
    try:
        # The server is another process with its own answers: each is computed once here, one by one,
        # then a short run warms the connections (neither is measured).
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120,
                          headers={"Authorization": f"Bearer {made.token}"}) as client:
            warmed = sum(client.get(path).status_code == 200 for path in paths)
        _wrk(port, paths, made.token, clients=clients, seconds=max(2, seconds // 3))
        for name, where, think in (("due_http", paths, THINK_MS), ("peer_bare_get", ["/"], THINK_MS),
                                   ("due_http_saturated", paths, 0), ("peer_bare_get_saturated", ["/"], 0)):
            runs[name] = _wrk(port, where, made.token, clients=clients, seconds=seconds, think_ms=think)
    finally:
        server.terminate()
        server.wait(30)
    figures: dict[str, Any] = {"due_http_clients": clients, "due_http_think_ms": THINK_MS,
                               "due_http_vins": len(paths), "due_http_warmed": warmed, "due_http_target_p99_ms": 20}
    for name, run in runs.items():
        figures |= {f"{name}_requests": run["requests"], f"{name}_errors": run["errors"],
                    **({f"{name}_error_kinds": run["error_kinds"]} if run["errors"] else {}),
                    f"{name}_p50_ms": run["p50_ms"], f"{name}_p99_ms": run["p99_ms"],
                    f"{name}_per_s": round(run["requests"] / run["seconds"], 1)}
    return figures


def remedy_time(app: Roadpass) -> int:
    """When the bench records its remedies (UTC µs): an hour after the fleet's last event, so that a
    completion is a new fact, as a repairer's record of work just done is (a record dated before later facts
    of the same part is an out-of-order capture: EPCIS 2.0 §7.4.1.2 replay, not the path measured here)."""
    with app.uow.read() as conn:
        last = conn.execute(text("SELECT MAX(event_time) FROM epcis_event")).scalar()
    return max(parse_time("2026-11-01T08:00:00Z"), int(last or 0) + 3_600_000_000)


def line_service(fleet: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The service-record lines on ``bench/aftermarket_bench.py``'s shared fleet: remedy completions on up
    to 2,000 sold vehicles (at least 1,000 when the fleet has them), then "what is due" from 100 clients
    over up to 200 of them, in process (threads) and over HTTP (wrk on a served node)."""
    vins = sorted({vin for market, found in fleet.vins_by_market.items() if market != "unknown" for vin in found})
    vins = vins[: max(1000, min(2000, args.samples))]
    if not vins:
        return {"remedy_completions": 0}
    figures = remedy_completions(fleet.app, vins, campaign="BENCH-REMEDY", at=remedy_time(fleet.app))
    # 200 VINs: the warm pass must end well inside the minute the desk keeps an answer, even on a busy machine.
    figures |= what_is_due(fleet.app, vins[:200], clients=100, requests=20)
    return figures | due_over_http(fleet.app, fleet.url, vins[:200], clients=100, seconds=args.http_seconds)


def _sold_vins(app: Roadpass, limit: int) -> list[str]:
    with app.uow.read() as conn:
        rows = conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL AND market IS NOT NULL ORDER BY vin "
                                 "LIMIT :n"), {"n": limit}).all()
    return [str(r[0]) for r in rows]


def main(argv: Sequence[str] | None = None) -> int:
    """Load a demo fleet, run both lines, print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--completions", type=int, default=1500, help="remedy completions to record")
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20, help="requests per client")
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--http-seconds", type=int, default=10, help="length of each wrk run")
    args = parser.parse_args(argv)
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    app = bootstrap(Settings(database_url=url, environment="test"))
    try:
        log(f"loading {args.vehicles} vehicles")
        load_fleet(app, FleetSpec(vehicles=args.vehicles, service_share=0.0))
        vins = _sold_vins(app, args.completions)
        log(f"recording {len(vins)} remedy completions")
        figures: dict[str, Any] = {"database": app.engine.dialect.name, "vehicles": args.vehicles}
        figures |= remedy_completions(app, vins, campaign="BENCH-01", at=remedy_time(app))
        log(f"asking what is due with {args.clients} clients")
        figures |= what_is_due(app, vins[: max(1, min(len(vins), 500))], clients=args.clients,
                               requests=args.requests)
        figures |= due_over_http(app, url, vins[:200], clients=args.clients, seconds=args.http_seconds)
    finally:
        app.close()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
