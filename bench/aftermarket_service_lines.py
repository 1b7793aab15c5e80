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
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import text

from roadpass.aftermarket.service.model import Operation, PartSwap, WorkOrder
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings
from roadpass.trace.query import Visibility
from roadpass.trace.timeutil import parse_time

__all__ = ["line_service", "remedy_completions", "remedy_orders", "what_is_due"]


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
    }


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
    lock = threading.Lock()
    gate = threading.Barrier(clients)

    def client(n: int) -> None:
        rng = random.Random(seed + n)
        mine: list[float] = []
        gate.wait()
        for _ in range(requests):
            vin = rng.choice(vins)
            started = time.perf_counter()
            app.repairer_desk.due(vin, visibility=visibility)
            mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

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
        "due_p50_ms": round(statistics.median(latencies), 3),
        "due_p99_ms": round(_percentile(latencies, 0.99), 3),
        "due_per_s": round(len(latencies) / wall, 1),
        "due_cold_p50_ms": round(statistics.median(cold), 3),
        "due_cold_p99_ms": round(_percentile(cold, 0.99), 3),
    }


def line_service(fleet: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The two service-record lines on ``bench/aftermarket_bench.py``'s shared fleet: remedy completions on
    up to 2,000 sold vehicles (at least 1,000 when the fleet has them), then "what is due" from 100 clients
    over up to 500 of them."""
    vins = sorted({vin for market, found in fleet.vins_by_market.items() if market != "unknown" for vin in found})
    vins = vins[: max(1000, min(2000, args.samples))]
    if not vins:
        return {"remedy_completions": 0}
    figures = remedy_completions(fleet.app, vins, campaign="BENCH-REMEDY", at=parse_time("2026-11-01T08:00:00Z"))
    return figures | what_is_due(fleet.app, vins[:500], clients=100, requests=20)


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
    args = parser.parse_args(argv)
    url = args.db or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    app = bootstrap(Settings(database_url=url, environment="test"))
    try:
        log(f"loading {args.vehicles} vehicles")
        load_fleet(app, FleetSpec(vehicles=args.vehicles, service_share=0.0))
        vins = _sold_vins(app, args.completions)
        log(f"recording {len(vins)} remedy completions")
        figures: dict[str, Any] = {"database": app.engine.dialect.name, "vehicles": args.vehicles}
        figures |= remedy_completions(app, vins, campaign="BENCH-01", at=parse_time("2026-11-01T08:00:00Z"))
        log(f"asking what is due with {args.clients} clients")
        figures |= what_is_due(app, vins[: max(1, min(len(vins), 500))], clients=args.clients,
                               requests=args.requests)
    finally:
        app.close()
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
