"""The recall line of the aftermarket benchmark keeps running: a tiny fleet, its one JSON line checked for
shape (figures are measured by the benchmark, never asserted in a test)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "aftermarket_recall_lines.py"


@pytest.mark.slow
def test_recall_line_prints_its_figures(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "60", "--db", f"sqlite:///{tmp_path / 'bench.sqlite3'}"],
        capture_output=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = done.stdout.decode().strip().splitlines()
    assert len(lines) == 1
    figures = orjson.loads(lines[0])
    assert figures.keys() >= {"recall_create_vins", "recall_create_ms", "recall_status_ms", "peer_where_used_lot_ms"}
    assert figures["recall_create_vins"] == figures["peer_where_used_lot_vins"] >= 1
