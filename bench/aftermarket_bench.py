"""Aftermarket benchmark: one generated fleet, then one timed line per aftermarket feature; one JSON line.

The fleet is built once (through the real capture path, the demo's parties registered) and shared by every
line. ``--db`` names where the fleet is kept: built there when empty, reused when it holds one (sampled, not
rebuilt; 200,000 vehicles take a long while to build). The lines write (campaigns, work orders, check logs),
so on a SQLite file they run on a copy made for the run and the fleet file stays as built for the next run
(``--in-place`` runs on the file itself; a PostgreSQL database is always used in place). Each line is a
function ``line_<name>(fleet, args) -> dict`` listed in :data:`LINES`: it measures its target and, in the
same run, the peer or baseline that target is read against, and returns its figures, which are merged into
the one JSON line printed to stdout (progress goes to stderr).

    python bench/aftermarket_bench.py --vehicles 200000 --db sqlite:///fleet-200k.sqlite3
    python bench/aftermarket_bench.py --vehicles 2000 --samples 500
    python bench/aftermarket_bench.py --db sqlite:///fleet-200k.sqlite3 --lines parts_check
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from sqlalchemy import text

from aftermarket_recall_lines import line_recall_create
from aftermarket_service_lines import line_service
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings
from roadpass.trace.query import parse_event_query


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(samples: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``samples`` in ms, rounded to µs; NaN when empty."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[index], 3)


def timed_ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


# --- the shared fleet ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Fleet:
    """The fleet every line runs on: the application, and samples read from the captured events."""

    app: Roadpass
    url: str
    vehicles: int
    build_s: float
    reused: bool
    vins_by_market: dict[str, list[str]] = field(default_factory=dict)
    fitted: list[tuple[str, str]] = field(default_factory=list)  # (VIN, a part's EPC fitted in it)


def sample_fleet(app: Roadpass, fleet: Fleet, wanted: int) -> None:
    """Fill ``fleet``'s samples from the assembly events, paging until ``wanted`` vehicles are seen."""
    query = parse_event_query({"eventType": "AggregationEvent", "EQ_action": "ADD", "perPage": "1000"})
    seen: set[str] = set()
    while len(seen) < wanted:
        events, _contexts, token = app.trace.events(query)
        for event in events:
            parent, children = event.get("parentID"), event.get("childEPCs") or []
            if not parent or not children:
                continue
            unit = app.trace.resolve(parent)
            if not unit.vin or unit.vin in seen:
                continue
            seen.add(unit.vin)
            market = app.trace.unit_market(unit.id) or "unknown"
            fleet.vins_by_market.setdefault(market, []).append(unit.vin)
            fleet.fitted.append((unit.vin, children[0]))
        if token is None:
            break
        query.after = token


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) and url != prefix + ":memory:" else None


def _run_copy(url: str) -> str:
    """A copy of the fleet's SQLite file for this run (the fleet file stays as built); its URL."""
    source = _sqlite_file(url)
    if source is None:
        return url
    target = Path(tempfile.mkdtemp(prefix="roadpass-aftermarket-run-")) / "run.sqlite3"
    started = time.perf_counter()
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():  # committed pages not yet checkpointed into the file
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))
    log(f"fleet copied for this run in {time.perf_counter() - started:.1f}s")
    return f"sqlite:///{target}"


def build_fleet(args: argparse.Namespace) -> Fleet:
    """The application on a run copy of ``--db`` (or a fresh SQLite file), its fleet of ``--vehicles`` built
    there first when empty."""
    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='roadpass-aftermarket-bench-')}/bench.sqlite3"
    app = bootstrap(Settings(database_url=url, environment="test"))
    started = time.perf_counter()
    reused = app.trace.has_events()
    if not reused:
        log(f"building a fleet of {args.vehicles:,} vehicles on {app.engine.dialect.name} …")
        load_fleet(app, FleetSpec(vehicles=args.vehicles, seed=args.seed),
                   progress=lambda done, _total: None)
    build_s = round(time.perf_counter() - started, 1)
    if args.db and not args.in_place and _sqlite_file(url) is not None:
        app.close()
        url = _run_copy(url)
        app = bootstrap(Settings(database_url=url, environment="test"))
    with app.uow.read() as conn:
        vehicles = int(conn.execute(text("SELECT COUNT(*) FROM unit WHERE vin IS NOT NULL")).scalar() or 0)
    fleet = Fleet(app, url, vehicles, build_s, reused)
    sample_fleet(app, fleet, min(args.samples, vehicles))
    log(f"fleet of {vehicles:,} vehicles ready in {fleet.build_s}s; {len(fleet.fitted)} vehicles sampled")
    return fleet


# --- lines ---------------------------------------------------------------------------------------------------


def line_parts_check(fleet: Fleet, args: argparse.Namespace) -> dict[str, Any]:
    """``parts check`` latency (target p99 < 5 ms) on fitted serials, the same serials scanned in another
    vehicle, and unknown serials; each check writes its log row. Peer: the trace where-used look-up of the
    same serial alone, the floor the check is built on."""
    app = fleet.app
    pairs = fleet.fitted[: args.samples]
    if not pairs:
        return {"parts_check_samples": 0}
    for vin, part in pairs[:20]:  # warm the caches (company prefixes, identifier memo)
        app.parts.check(part, checker="bench", vin=vin)
    checks: list[float] = []
    peers: list[float] = []
    verdicts: dict[str, int] = {}
    for n, (vin, part) in enumerate(pairs):
        other = pairs[(n + 1) % len(pairs)][0]
        identifier = part if n % 10 else app.parts.canonical(part).rsplit("/21/", 1)[0] + f"/21/NOSUCH{n}"
        scanned = vin if n % 7 else other
        started = time.perf_counter()
        found = app.parts.check(identifier, checker="bench", vin=scanned)
        checks.append((time.perf_counter() - started) * 1000)
        verdicts[found.verdict.value] = verdicts.get(found.verdict.value, 0) + 1
        peers.append(timed_ms(lambda part=part: app.trace.where_used(part)))  # type: ignore[misc]
    return {
        "parts_check_samples": len(checks), "parts_check_p50_ms": percentile(checks, 50),
        "parts_check_p99_ms": percentile(checks, 99), "parts_check_target_p99_ms": 5,
        "parts_check_verdicts": verdicts,
        "peer_where_used_serial_p50_ms": percentile(peers, 50),
        "peer_where_used_serial_p99_ms": percentile(peers, 99),
    }


#: Every line, in the order they run; another feature adds its ``line_…`` function here.
LINES: list[Callable[[Fleet, argparse.Namespace], dict[str, Any]]] = [
    line_parts_check, line_recall_create, line_service,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=200_000, help="fleet size when the fleet is built")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file); a fleet there is reused")
    parser.add_argument("--samples", type=int, default=2000, help="samples per latency figure")
    parser.add_argument("--lines", nargs="*", help="run only these lines (names without 'line_')")
    parser.add_argument("--in-place", action="store_true", help="run on the --db SQLite file itself, not a copy")
    parser.add_argument("--http-seconds", type=int, default=10, help="length of each wrk run (what is due)")
    args = parser.parse_args()
    fleet = build_fleet(args)
    figures: dict[str, Any] = {"database": fleet.app.engine.dialect.name, "vehicles": fleet.vehicles,
                               "fleet_build_s": fleet.build_s, "fleet_reused": fleet.reused,
                               "vehicles_sampled": len(fleet.fitted)}
    for line in LINES:
        name = line.__name__.removeprefix("line_")
        if args.lines and name not in args.lines:
            continue
        log(f"line {name} …")
        figures.update(line(fleet, args))
    fleet.app.close()
    if args.db and fleet.url != args.db:
        shutil.rmtree(Path(fleet.url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
