"""The subscription benchmark keeps running: a tiny fleet with a few subscriptions and a receiver that goes
down, its JSON line checked for shape and completeness.

Speed is not asserted (the benchmark measures it on a quiet machine); delivery is: nothing lost, nothing
delivered to a subscription whose query matches no event, every receipt correctly signed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "subscription_bench.py"

FIGURES = {
    "database", "vehicles", "events", "subscriptions", "receivers", "capture_events_per_s_0",
    "capture_events_per_s_4", "capture_ratio_4_to_0", "delivery_latency_p50_ms", "delivery_latency_p99_ms",
    "deliveries_per_s", "delivered_events_per_s", "down_receiver_down_s", "down_receiver_refused_attempts",
    "down_receiver_caught_up_s", "lost",
    "duplicates", "unexpected", "bad_receipts", "drained", "target_ratio_met", "target_p99_met",
}


@pytest.mark.slow
def test_subscription_bench_loses_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--vehicles", "30", "--subscriptions", "0,4", "--receivers", "3",
         "--down-seconds", "1", "--drain-timeout", "60"],
        capture_output=True, check=False, timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    figures = orjson.loads(done.stdout.splitlines()[-1])
    assert figures.keys() >= FIGURES
    assert figures["vehicles"] == 30 and figures["events"] > 30
    assert figures["drained"] is True
    assert figures["lost"] == 0 and figures["unexpected"] == 0 and figures["bad_receipts"] == 0
    assert figures["deliveries_per_s"] > 0
    assert figures["down_receiver_refused_attempts"] >= 3  # the receiver really was down for the worker
    assert figures["delivery_latency_p99_ms"] is not None
