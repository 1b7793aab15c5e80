"""The service-record benchmark lines keep running: a tiny fleet end to end, the JSON line checked for shape.

Figures are not asserted (speed is measured by the benchmark on a quiet machine, never in a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "aftermarket_service_lines.py"

FIGURES = {
    "database", "vehicles", "remedy_completions", "remedy_completions_per_s", "remedy_one_at_a_time_per_s",
    "due_clients", "due_requests", "due_p50_ms", "due_p99_ms", "due_cold_p50_ms", "due_cold_p99_ms",
}


@pytest.mark.slow
def test_service_lines_print_every_figure(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "40", "--completions", "30", "--clients", "4", "--requests", "3",
         "--db", f"sqlite:///{tmp_path / 'bench.sqlite3'}"],
        capture_output=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = orjson.loads(done.stdout.splitlines()[-1])
    assert figures.keys() >= FIGURES
    assert figures["database"] == "sqlite" and figures["vehicles"] == 40
    assert figures["remedy_completions"] >= 1 and figures["due_requests"] == 12
