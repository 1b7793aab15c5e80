"""The benchmark's comparison run keeps working: SQLite and PostgreSQL in one run, with concurrent writers.

Figures are not asserted (a test never times anything); only that both engines and the concurrent-writer
and floor figures are printed in one JSON line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from pg import find_pg_bin

BENCH = Path(__file__).resolve().parents[2] / "bench" / "trace_bench.py"


@pytest.mark.slow
@pytest.mark.postgres
def test_trace_bench_compares_engines_with_concurrent_writers(tmp_path: Path) -> None:
    if find_pg_bin() is None:
        pytest.skip("no PostgreSQL server binary on this machine")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "40", "--queries", "3", "--floor-events", "200", "--both",
         "--writers", "2", "--db", f"sqlite:///{tmp_path / 'bench.sqlite3'}"],
        capture_output=True, check=False, timeout=900,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    figures = orjson.loads(lines[0])
    assert figures.keys() == {"sqlite", "postgresql", "postgresql_over_sqlite_capture"}
    for name in ("sqlite", "postgresql"):
        side = figures[name]
        assert side["database"] == name
        assert side["capture_writers"] == 2 and side["capture_writers_events_per_s"] > 0
        assert side["storage_floor_events_per_s"] > 0 and side["capture_share_of_floor"] > 0
    assert figures["sqlite"]["events"] == figures["postgresql"]["events"]
    assert figures["postgresql_over_sqlite_capture"] > 0
