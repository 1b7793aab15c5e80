"""The aftermarket benchmark keeps running: a tiny fleet end to end, its one JSON line checked for shape.

Figures are not asserted (speed is measured by the benchmark on a quiet machine, never in a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "aftermarket_bench.py"

FIGURES = {
    "database", "vehicles", "fleet_build_s", "vehicles_sampled", "parts_check_samples", "parts_check_p50_ms",
    "parts_check_p99_ms", "parts_check_verdicts", "peer_where_used_serial_p50_ms", "peer_where_used_serial_p99_ms",
}


@pytest.mark.slow
def test_aftermarket_bench_prints_every_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "30", "--samples", "20",
         "--db", f"sqlite:///{tmp_path / 'bench.sqlite3'}"],
        capture_output=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = done.stdout.decode().strip().splitlines()
    assert len(lines) == 1
    figures = orjson.loads(lines[0])
    assert figures.keys() >= FIGURES
    assert figures["vehicles"] == 30 and figures["parts_check_samples"] == 20
    assert set(figures["parts_check_verdicts"]) >= {"genuine", "unknown"}
