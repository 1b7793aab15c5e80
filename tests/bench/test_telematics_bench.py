"""The telematics benchmark keeps running: three vehicles through a real Mosquitto at one low rate, its JSON
line checked for shape and for nothing lost.

Speed is not asserted (the benchmark measures it); completeness is: every signal published is stored or, for
the deliberately bad data, refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from roadpass.broker.runner import find_mosquitto

BENCH = Path(__file__).resolve().parents[2] / "bench" / "telematics_bench.py"

FIGURES = {
    "database", "vehicles", "signals_per_message", "stored_signals_per_s", "bare_signals_per_s", "ratio_to_bare",
    "lag_p50_ms", "lag_p99_ms", "refused", "lost", "phases", "peak_rss_mb", "broker_peak_rss_mb",
    "target_rate_met", "target_ratio_met", "target_p99_met", "flood_lag_p99_ms", "target_flood_p99_met",
}


@pytest.mark.slow
@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed (make broker)")
def test_telematics_bench_prints_every_figure_and_loses_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "3", "--seconds", "1", "--rates", "1000", "--bad-every", "10",
         "--flood-rate", "500", "--bare-runs", "1"],
        capture_output=True, check=False, timeout=300,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = orjson.loads(done.stdout.splitlines()[-1])
    assert figures.keys() >= FIGURES
    assert figures["lost"] == 0 and figures["refused"] > 0
    assert figures["stored_signals_per_s"] > 0 and figures["bare_signals_per_s"] > 0
