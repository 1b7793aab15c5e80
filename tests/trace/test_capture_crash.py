"""Crash hygiene of the capture pipeline: ``kill -9`` of a process mid-capture leaves no parsing worker
behind and nothing half-written (each document is one transaction)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from sqlalchemy import text

from roadpass.store.engine import make_engine

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the capture pipeline forks its parser on Linux")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_killing_a_demo_mid_capture_leaves_no_worker_and_no_half_document(sqlite_url: str) -> None:
    env = {**os.environ, "ROADPASS_DATABASE_URL": sqlite_url}
    demo = subprocess.Popen([sys.executable, "-m", "roadpass", "demo", "--vehicles", "3000", "--json"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    engine = make_engine(sqlite_url)
    try:
        workers: list[psutil.Process] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and demo.poll() is None:
            workers = psutil.Process(demo.pid).children(recursive=True)
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT count(*) FROM epcis_event")).scalar_one()
            if workers and stored > 1000:  # capturing, with its parser at work
                break
            time.sleep(0.1)
        assert demo.poll() is None and workers, "the demo finished before it could be interrupted"
        demo.send_signal(signal.SIGKILL)
        demo.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(_gone(w.pid) for w in workers):
            time.sleep(0.1)
        assert all(_gone(w.pid) for w in workers), "a parsing worker outlived the process that started it"
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"
            half = conn.execute(text(
                "SELECT j.capture_id FROM capture_job j LEFT JOIN epcis_event e ON e.job_id = j.id "
                "WHERE j.success = 1 GROUP BY j.id HAVING count(e.id) <> j.stored_count")).all()
            assert half == []
    finally:
        if demo.poll() is None:
            demo.kill()
        engine.dispose()
