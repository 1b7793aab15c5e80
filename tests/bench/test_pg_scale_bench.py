"""The PostgreSQL scale benchmark keeps running: a tiny fleet end to end, its JSON line checked for shape.

Figures are not asserted (speed is measured by the benchmark itself, never in a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from pg import find_pg_bin

BENCH = Path(__file__).resolve().parents[2] / "bench" / "pg_scale_bench.py"

FIGURES = {
    "database", "vehicles", "events", "build_events_per_s", "where_used_lot_p50_ms", "where_used_lot_vins",
    "genealogy_index_build_s", "as_built_p50_ms", "event_partitions", "month_query_partitions_read",
    "events_month_query_p50_ms", "events_unbounded_query_p50_ms", "where_used_target_met", "peak_rss_mb",
    "peak_rss_target_met",
}


@pytest.mark.slow
@pytest.mark.postgres
def test_pg_scale_bench_prints_every_figure() -> None:
    if find_pg_bin() is None:
        pytest.skip("no PostgreSQL server binaries")
    done = subprocess.run([sys.executable, str(BENCH), "--vehicles", "30", "--queries", "5"],
                          capture_output=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = orjson.loads(done.stdout.splitlines()[-1])
    assert figures.keys() >= FIGURES
    assert figures["database"] == "postgresql" and figures["vehicles"] == 30
    assert figures["event_partitions"] > 5  # the fleet's months split out of the default partition
    assert figures["month_query_partitions_read"] == 1  # pruned to the month's partition
    assert figures["where_used_lot_vins"] >= 1
