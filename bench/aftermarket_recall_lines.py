"""Recall line of the aftermarket benchmark: open a campaign for a lot in >= 3,000 VINs (target < 1 s end to
end: parse, where-used ever and now, vehicles by market, units, notices to every market's dealers and
repairers, one ledger entry, one transaction), with its baseline measured in the same run: the where-used
answer for the same lot alone, the floor the campaign is built on. The completion read that follows (status
by market, curve, overdue markets) is timed too.

``bench/aftermarket_bench.py`` calls :func:`line_recall_create` on its shared fleet. Run alone
(``python bench/aftermarket_recall_lines.py --vehicles 2000``) it loads a demo fleet into a temporary SQLite
database and prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from typing import Any

import orjson

from roadpass.aftermarket.recalls.model import Viewer
from roadpass.aftermarket.recalls.scope import gtin_of
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings

__all__ = ["line_recall_create", "recall_create"]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def recall_create(app: Roadpass) -> dict[str, Any]:
    """Open a campaign on the lot that reached the most vehicles; its figures and the where-used baseline."""
    found = app.recalls.largest_lot()
    if found is None:
        return {"recall_create_vins": 0}
    lot, _reached = found
    started = time.perf_counter()
    _unit, hits = app.trace.where_used(lot)
    vins = hits.vins
    baseline_ms = (time.perf_counter() - started) * 1000
    packs = [h.via[0] for h in hits if h.vin and h.via]
    key = f"BENCH-{time.time_ns() // 1000}"
    body = {"campaignKey": key, "title": "benchmark campaign", "manufacturer": "benchmark",
            "defect": {"description": "benchmark defect", "risk": "benchmark risk"},
            "remedy": {"description": "replace the pack", "parts": [gtin_of(packs[0])] if packs else [],
                       "operations": ["HV-PACK-REPLACE"]},
            "scope": {"lots": [lot]}, "dates": {"remedyDueOn": "2027-06-30"}}
    started = time.perf_counter()
    created = app.recalls.create(body, actor="bench", owner="lanxing")
    create_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    status = app.recalls.status(key, Viewer())
    status_ms = (time.perf_counter() - started) * 1000
    # The hot read other features make (parts check, resolver, repairer's VIN page): open recalls of a VIN.
    lookups: list[float] = []
    for vin in vins[:500]:
        started = time.perf_counter()
        app.recalls.open_recalls_for(vin)
        lookups.append((time.perf_counter() - started) * 1000)
    lookups.sort()
    return {
        "recall_campaign": key,
        "recall_create_vins": created.vehicles,
        "recall_create_markets": len(created.by_market),
        "recall_create_notices": created.notices,
        "recall_create_ms": round(create_ms, 1),
        "recall_create_target_ms": 1000,
        "recall_status_ms": round(status_ms, 1),
        "recall_status_markets": len(status.completion),
        "open_recalls_for_vin_p50_ms": round(lookups[len(lookups) // 2], 3) if lookups else None,
        "open_recalls_for_vin_p99_ms": round(lookups[min(len(lookups) - 1, int(0.99 * len(lookups)))], 3)
        if lookups else None,
        "peer_where_used_lot_ms": round(baseline_ms, 1),
        "peer_where_used_lot_vins": len(vins),
    }


def line_recall_create(fleet: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The line as ``bench/aftermarket_bench.py`` runs it (``fleet.app`` is the application)."""
    return recall_create(fleet.app)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=200_000)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file); a fleet there is reused")
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp(prefix='roadpass-recall-bench-')}/bench.sqlite3"
    app = bootstrap(Settings(database_url=url, environment="test"))
    started = time.perf_counter()
    if not app.trace.has_events():
        _log(f"building a fleet of {args.vehicles:,} vehicles …")
        load_fleet(app, FleetSpec(vehicles=args.vehicles))
    figures: dict[str, Any] = {"database": app.engine.dialect.name, "vehicles": args.vehicles,
                               "fleet_build_s": round(time.perf_counter() - started, 1)}
    figures.update(recall_create(app))
    app.close()
    print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
