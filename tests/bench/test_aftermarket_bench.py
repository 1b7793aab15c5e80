"""The aftermarket benchmark keeps running: a tiny fleet end to end, its one JSON line checked for shape.

Figures are not asserted (speed is measured by the benchmark on a quiet machine, never in a test)."""

from __future__ import annotations

import shutil
import sqlite3
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


HTTP_FIGURES = {
    "due_http_clients", "due_http_requests", "due_http_p50_ms", "due_http_p99_ms", "peer_bare_get_p50_ms",
    "peer_bare_get_p99_ms", "due_http_think_ms", "due_http_saturated_p99_ms", "due_http_saturated_per_s",
    "peer_bare_get_saturated_p99_ms",
}


def _run(db: Path, *extra: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "30", "--samples", "20", "--http-seconds", "1",
         "--db", f"sqlite:///{db}", *extra],
        capture_output=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = done.stdout.decode().strip().splitlines()
    assert len(lines) == 1
    figures: dict[str, object] = orjson.loads(lines[0])
    return figures


@pytest.mark.slow
def test_the_fleet_is_built_once_and_later_runs_reuse_it_untouched(tmp_path: Path) -> None:
    db = tmp_path / "fleet.sqlite3"
    first = _run(db, "--lines", "parts_check")
    assert first["fleet_reused"] is False and first["vehicles"] == 30
    second = _run(db, "--lines", "service")
    assert second["fleet_reused"] is True and second["vehicles"] == 30
    assert second["remedy_completions"] and second["remedy_completions_per_s"]
    assert second["remedy_genealogy_read_orders"] and "peer_as_built_per_order_ms" in second
    if shutil.which("wrk"):
        assert second.keys() >= HTTP_FIGURES and second["due_http_errors"] == 0
    with sqlite3.connect(db) as conn:  # the runs worked on copies: the fleet file holds no check or record
        assert conn.execute("SELECT COUNT(*) FROM aftermarket_part_check").fetchone() == (0,)
        assert conn.execute("SELECT COUNT(*) FROM service_record").fetchone() == (0,)
