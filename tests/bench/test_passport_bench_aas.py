"""The passport benchmark's AAS line keeps running: a tiny fleet end to end, the AAS figures checked for shape.

Figures are not asserted (speed is measured by the benchmark itself, never in a test); only that the AAS
submodel GET figures and the ratio to the BaSyx peer are printed and that every GET was answered."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "passport_bench.py"

AAS_FIGURES = {"aas_submodel_get_p50_ms", "aas_submodel_get_p99_ms", "aas_submodel_requests_per_s",
               "aas_submodel_requests", "aas_submodel_errors", "aas_throughput_ratio", "peer_requests_per_s"}


@pytest.mark.slow
def test_passport_bench_prints_the_aas_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "10", "--seconds", "1", "--warm-seconds", "1",
         "--requests", "300", "--concurrency", "4", "--workers", "1", "--client", "python"],
        capture_output=True, check=False, timeout=900,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = orjson.loads(done.stdout.splitlines()[-1])
    assert figures.keys() >= AAS_FIGURES
    assert figures["aas_submodel_requests"] > 0 and figures["aas_submodel_errors"] == 0
    assert figures["aas_throughput_ratio"] is not None
