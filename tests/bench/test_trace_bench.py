"""The traceability benchmark keeps running: a tiny fleet end to end, its JSON line checked for shape.

Figures are not asserted here (speed is measured by the benchmark itself on a quiet machine, never in a
test); only that every figure the README quotes is printed and that the counts agree with the fleet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "trace_bench.py"

FIGURES = {
    "database", "vehicles", "events", "links", "capture_events_per_s", "reference_hash_events_per_s",
    "baseline_insert_rows_per_s", "storage_floor_events_per_s", "as_built_p50_ms", "where_used_lot_p50_ms",
    "where_used_lot_vins", "where_used_lot_first_page_p50_ms", "where_used_lot_listed_p50_ms",
    "where_used_serial_p50_ms", "genealogy_index_build_s", "peak_rss_mb",
}


@pytest.mark.slow
def test_trace_bench_prints_every_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "60", "--queries", "5", "--floor-events", "200",
         "--db", f"sqlite:///{tmp_path / 'bench.sqlite3'}"],
        capture_output=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = orjson.loads(done.stdout.splitlines()[-1])
    assert figures.keys() >= FIGURES
    assert figures["database"] == "sqlite"
    assert figures["vehicles"] == 60
    assert figures["events"] > 60 * 5 and figures["links"] > 60 * 40
    assert figures["storage_floor_events_per_s"] > 0
    assert figures["where_used_lot_vins"] >= 1
