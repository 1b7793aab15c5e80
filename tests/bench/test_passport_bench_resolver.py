"""The passport benchmark's resolver line keeps running: its loader against a node on a loopback port.

Figures are not asserted (speed is measured by the benchmark itself, never in a test); only that both loads
(anonymous scans answered 307, machines answered the linkset) run without errors and print every figure."""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import pytest

from roadpass.bootstrap import bootstrap
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.settings import Settings
from served import served

BENCH = Path(__file__).resolve().parents[2] / "bench" / "passport_bench.py"


@pytest.mark.slow
def test_the_resolver_load_runs_and_prints_its_figures(sqlite_url: str, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("passport_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    node = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    try:
        load_fleet(node, FleetSpec(vehicles=3))
        issued = node.passports.issue_from_trace(actor="test").issued or [
            p["passportId"] for p in node.passports.list_passports(limit=10)]
        args = argparse.Namespace(client="python", concurrency=4, requests=200, seconds=2.0, workers=1,
                                  warm_seconds=1.0)
        with served(node) as port:
            result = bench.load_resolver(port, [f"/passports/{pid}" for pid in issued], args, tmp_path)
    finally:
        node.close()
    figures = bench.resolver_figures(result)
    assert figures["resolver_307_errors"] == 0 and figures["resolver_linkset_errors"] == 0
    assert result["scan"]["requests"] > 0 and result["linkset"]["requests"] > 0
    assert all(value is not None for value in figures.values())
