"""PostgreSQL reads at scale: where-used of the biggest lot and as-built per VIN on the partitioned event table.

Builds a generated fleet once into a throw-away PostgreSQL cluster (as tests/pg.py starts one), through the
real capture path, then times the reads issue 18 sets targets for: where-used of the lot feeding the most
vehicles (target p50 < 10 ms at 200,000 vehicles) and as-built per VIN, with the process's peak RSS (target
< 2 GB). Peers measured in the same run: an EPCIS event query bounded to one month (partition pruning: one
month's partition read) beside the same query unbounded (every partition). Prints ONE JSON line on stdout;
progress goes to stderr.
"""

from __future__ import annotations

import argparse
import random
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pg import start_cluster
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
from roadpass.settings import Settings
from roadpass.store.engine import make_engine
from roadpass.store.parties import upsert_party
from roadpass.store.partitions import month_bounds, month_of
from roadpass.trace.capture_plan import CaptureOutcome
from roadpass.trace.query import parse_event_query
from roadpass.trace.timeutil import iso_utc

TARGET_WHERE_USED_P50_MS = 10.0
TARGET_PEAK_RSS_MB = 2048


def log(message: str) -> None:
    """Progress on stderr (stdout carries only the JSON line)."""
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    """This process's peak resident set (the server's own processes are not counted)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p50(samples: list[float]) -> float:
    """Median, rounded to µs."""
    return round(statistics.median(samples), 3) if samples else float("nan")


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """(milliseconds, result) of one call."""
    started = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - started) * 1000, result


def build_fleet(app: Roadpass, spec: FleetSpec, workdir: Path) -> tuple[int, float]:
    """Generate the fleet's documents to a file, then capture them through the bulk capture path."""
    path = workdir / "fleet.jsonl"
    with path.open("wb") as out:
        for document in generate_fleet(spec):
            out.write(orjson.dumps(document) + b"\n")
    with app.uow.write() as conn:
        for party in fleet_parties(spec):
            upsert_party(conn, actor="bench", key=party.key, name=party.name, role=party.role,
                         country=party.country, gcp=party.company_prefix)
    events = 0
    started = time.perf_counter()
    next_report = started + 30
    with path.open("rb") as bodies:
        for outcome in app.trace.capture_many(bodies, actor="bench"):
            if not isinstance(outcome, CaptureOutcome):
                raise SystemExit(f"capture failed: {outcome}")
            events += outcome.stored
            if time.perf_counter() > next_report:
                log(f"  captured {events:,} events ({events / (time.perf_counter() - started):,.0f}/s)")
                next_report = time.perf_counter() + 30
    path.unlink()
    return events, time.perf_counter() - started


def _month_query(app: Roadpass) -> tuple[dict[str, str], int]:
    """An event query bounded to the month of the median event, and how many partitions PostgreSQL reads."""
    with app.uow.read() as conn:
        median = conn.execute(text(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY event_time) FROM epcis_event")).scalar_one()
        low, high = month_bounds(month_of(int(median)))
        plan = conn.execute(text(
            f"EXPLAIN SELECT id FROM epcis_event WHERE event_time >= {low} AND event_time < {high}")).scalars().all()
    scanned = sum(1 for line in plan if " on epcis_event_" in line)
    return {"GE_eventTime": iso_utc(low), "LT_eventTime": iso_utc(high)}, scanned


def measure(app: Roadpass, queries: int, seed: int) -> dict[str, Any]:
    """The timed reads on the built fleet."""
    with app.uow.read() as conn:
        vins = [r[0] for r in conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL"))]
        lot_key = conn.execute(text(
            "SELECT u.key FROM unit u JOIN link m ON m.child_id = u.id AND m.kind = 2 "
            "WHERE u.kind = 2 GROUP BY u.key ORDER BY COUNT(*) DESC LIMIT 1")).scalar_one()
        partitions = int(conn.execute(text(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = to_regclass('epcis_event')")).scalar_one())
    rng = random.Random(seed)
    for vin in rng.sample(vins, min(20, len(vins))):  # warm, as a running server would be
        app.trace.as_built(vin)
    as_built = [timed(app.trace.as_built, vin)[0] for vin in rng.choices(vins, k=queries)]
    index_build_ms, _ = timed(app.trace.where_used, lot_key)
    lot: list[float] = []
    lot_vins = 0
    for _ in range(max(5, queries // 5)):
        elapsed, (_unit, answer) = timed(app.trace.where_used, lot_key)
        lot.append(elapsed)
        lot_vins = answer.vehicles
    bounds, scanned = _month_query(app)
    month_ms = [timed(app.trace.events, parse_event_query(bounds))[0] for _ in range(max(5, queries // 10))]
    all_ms = [timed(app.trace.events, parse_event_query({}))[0] for _ in range(max(5, queries // 10))]
    where_used = p50(lot)
    return {
        "where_used_lot_p50_ms": where_used, "where_used_lot_vins": lot_vins,
        "genealogy_index_build_s": round(index_build_ms / 1000, 1), "as_built_p50_ms": p50(as_built),
        "event_partitions": partitions, "month_query_partitions_read": scanned,
        "events_month_query_p50_ms": p50(month_ms), "events_unbounded_query_p50_ms": p50(all_ms),
        "where_used_target_met": where_used < TARGET_WHERE_USED_P50_MS,
    }


def main() -> None:
    """Start a cluster, build the fleet, time the reads, print one JSON line, stop the cluster."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=200, help="samples per latency figure")
    args = parser.parse_args()
    # A stopped run still stops its cluster (the finally below): SIGTERM becomes SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = start_cluster()
    try:
        admin = make_engine(cluster.url("postgres"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        app = bootstrap(Settings(database_url=cluster.url("bench"), environment="test"))
        log(f"roadpass PostgreSQL scale benchmark: {args.vehicles:,} vehicles")
        events, spent = build_fleet(app, FleetSpec(vehicles=args.vehicles, seed=args.seed),
                                    Path(tempfile.mkdtemp(prefix="roadpass-pg-bench-")))
        log(f"built: {events:,} events in {spent:.0f}s")
        built_peak = round(peak_rss_mb())  # what the build alone reached, before the reads build their indexes
        # The fleet's past months arrived into the default partition (a backfill): split them out, as an
        # operator would with `roadpass partitions create --from-default`.
        split_s, made = timed(app.partitions.split_default)
        log(f"split the default partition into {len(made)} month(s) in {split_s / 1000:.1f}s")
        with app.uow.write() as conn:
            conn.execute(text("ANALYZE"))
        result = {"database": "postgresql", "vehicles": args.vehicles, "events": events,
                  "build_events_per_s": round(events / spent), **measure(app, args.queries, args.seed)}
        result["peak_rss_mb"] = round(peak_rss_mb())
        result["peak_rss_after_build_mb"] = built_peak
        result["peak_rss_target_met"] = result["peak_rss_mb"] < TARGET_PEAK_RSS_MB
        app.close()
        print(orjson.dumps(result).decode(), flush=True)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
