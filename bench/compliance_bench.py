"""Compliance engine benchmark: a products x all-markets matrix through the real store and service.

Builds N technical files (variants of the demo fleet: EVs, batteries, cockpit units with SBOMs, chargers,
each targeting every market with a pack), stores them and the demo evidence (each item stored once and linked
to every variant of its product) in a throw-away database, then times the full matrix (load from the
database + assess every product in every market, keeping every requirement's reason), single assessments and
the test-reuse planner. Prints one JSON line last:
``{"products", "markets", "requirements", "assessments_per_s", "matrix_s", "plan_ms_p50", ...}``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from roadpass.bootstrap import bootstrap
from roadpass.compliance.demo import DEMO_COSTS, HERE, SBOMS, demo_evidence, demo_products, stand_in
from roadpass.compliance.product import parse_technical_file, read_cyclonedx
from roadpass.settings import Settings

ON = dt.date(2026, 11, 24)


def _variants(count: int, markets: list[str], rng: random.Random) -> tuple[list[Any], dict[str, list[str]]]:
    """``count`` technical files cycling through the demo products; returns files and demo key -> variant keys."""
    docs = demo_products()
    sboms = {key: read_cyclonedx((HERE / name).read_bytes()) for key, name in SBOMS.items()}
    files, clones = [], {d["key"]: [] for d in docs}  # type: ignore[var-annotated]
    for i in range(count):
        doc = json.loads(json.dumps(docs[i % len(docs)], default=str))
        base = doc["key"]
        doc["key"] = f"{base}-{i:05d}"
        doc["name"] = f"{doc['name']} #{i}"
        doc["markets"] = [{"market": m, "planned": (ON + dt.timedelta(days=rng.randint(-400, 400))).isoformat()}
                          for m in markets]
        if "model_year" in doc.get("attributes", {}):
            doc["attributes"]["model_year"] = rng.choice([2026, 2027, 2028, 2030])
        for comp in doc.get("components", []):
            if comp.get("technical_file"):
                comp["technical_file"] = f"{comp['technical_file']}-{(i // len(docs)) * len(docs):05d}"
        tf = parse_technical_file(doc)
        if base in sboms:
            tf = tf.model_copy(update={"sbom": sboms[base]})
        files.append(tf)
        clones[base].append(tf.key)
    return files, clones


def main() -> None:
    """Run the benchmark and print the JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=1000)
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--db", help="Database URL (default: a temporary SQLite file).")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        app = bootstrap(Settings(database_url=url, environment="test"))
        service = app.compliance
        library = service.library
        markets = list(library.markets())
        files, clones = _variants(args.products, markets, rng)
        started = time.perf_counter()
        for tf in files:
            service.import_product(tf.model_dump(mode="json"), actor="bench")
        for meta in demo_evidence():
            products = [k for p in meta.get("products", []) for k in clones.get(p, [])]
            service.add_evidence({**meta, "products": products}, stand_in(meta["key"]), actor="bench")
        load_s = time.perf_counter() - started

        started = time.perf_counter()
        matrix = service.matrix(ON)
        matrix_s = time.perf_counter() - started
        cells = len(matrix.cells)
        results = sum(len(a.results) for a in matrix.cells.values())
        assert all(r.reason for a in matrix.cells.values() for r in a.results)

        sample = rng.sample(sorted(matrix.cells), min(args.plans, cells))
        timings = []
        for key, market in sample:
            t0 = time.perf_counter()
            service.plan(key, market, ON, costs=DEMO_COSTS)
            timings.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        for key, market in sample[:50]:
            service.assess(key, market, ON, record=False)
        single_ms = (time.perf_counter() - t0) * 1000 / max(1, len(sample[:50]))
        app.close()
    statuses: dict[str, int] = {}
    for a in matrix.cells.values():
        statuses[a.status] = statuses.get(a.status, 0) + 1
    print(f"stored {len(files)} products in {load_s:.1f}s; matrix {cells} cells ({results} requirement results) "
          f"in {matrix_s:.2f}s; statuses {statuses}", file=sys.stderr)
    print(json.dumps({
        "products": len(files), "markets": len(markets),
        "requirements": sum(len(library.get(m).requirements) for m in markets),
        "assessments_per_s": round(cells / matrix_s, 1), "matrix_s": round(matrix_s, 3),
        "plan_ms_p50": round(statistics.median(timings), 2), "plan_ms_p95": round(
            statistics.quantiles(timings, n=20)[18], 2) if len(timings) >= 20 else None,
        "assess_one_ms": round(single_ms, 2), "requirement_results": results,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
    }))


if __name__ == "__main__":
    main()
