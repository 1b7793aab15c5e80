"""The nodes benchmark keeps running: two nodes, a few hundred events, its JSON line checked for shape.

Figures are not asserted (speed is the benchmark's to measure, never a test's); only that every figure is
printed, that every captured event arrived on the home node, and that the federated where-used across the four
nodes of the demo was measured."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "nodes_bench.py"

FIGURES = {
    "database", "events", "arrived", "lost", "capture_events_per_s", "transfer_events_per_s", "transfer_lag_p50_ms",
    "transfer_lag_p99_ms", "projection_us_per_event", "delivery_build_unprojected_us_per_event",
    "delivery_build_projected_us_per_event", "federated_where_used",
}


@pytest.mark.slow
def test_nodes_bench_prints_every_figure() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--events", "200", "--batch", "20", "--projection-events", "100",
         "--repeat", "1", "--fleet-vehicles", "20", "--where-used-queries", "5"],
        capture_output=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = orjson.loads(done.stdout.splitlines()[-1])
    assert figures.keys() >= FIGURES
    assert figures["events"] == 200 and figures["arrived"] == 200 and figures["lost"] == 0
    assert figures["projection_us_per_event"] > 0
    where_used = figures["federated_where_used"]
    assert where_used["queries"] == 5 and where_used["p99_ms"] >= where_used["p50_ms"] > 0, where_used
