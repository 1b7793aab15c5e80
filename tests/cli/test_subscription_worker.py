"""``roadpass subscriptions worker``: webhook delivery from a process of its own, as ``roadpass serve`` runs it.

The worker sees captures committed by other processes (it watches the largest committed event id), stops on
SIGTERM, and never outlives the process that started it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.cli.subscriptions import start_delivery_worker, stop_delivery_worker
from roadpass.settings import Settings
from webhooks import TOKEN, Receiver, free_port

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


@pytest.fixture
def node(sqlite_url: str) -> Iterator[tuple[Roadpass, Receiver]]:
    """A node whose named query ``all`` has a stream subscription to a receiver on loopback."""
    rp = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    receiver = Receiver(free_port())
    rp.queries.create({"name": "all", "query": {}}, actor="test", party_id=None)
    rp.subscriptions.create("all", {"dest": f"http://127.0.0.1:{receiver.port}/hook", "signatureToken": TOKEN,
                                    "stream": True}, actor="test", party_id=None)
    yield rp, receiver
    receiver.stop()
    rp.close()


def _worker(database_url: str, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ROADPASS_DATABASE_URL": database_url}
    return subprocess.Popen([sys.executable, "-m", "roadpass", "subscriptions", "worker", *args], env=env)


def _wait_for(condition: object, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_a_worker_process_delivers_what_another_process_captured(
        node: tuple[Roadpass, Receiver], sqlite_url: str) -> None:
    rp, receiver = node
    worker = _worker(sqlite_url)
    try:
        outcome = rp.trace.capture((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes(), actor="test")
        assert _wait_for(lambda: receiver.received >= set(outcome.event_ids))
        assert receiver.bad_signatures == 0
    finally:
        worker.terminate()
        assert worker.wait(30) == 0  # SIGTERM: it records what it attempted and exits cleanly
    # Acknowledged and recorded: nothing is left to send.
    assert _wait_for(lambda: rp.subscriptions.overview(party_scope=None)[0].pending_first is None, 10)


def test_a_worker_stops_when_the_process_that_started_it_is_gone(sqlite_url: str) -> None:
    """``--parent`` names the server that started the worker; once the worker's parent is another process
    (the server died and the worker was re-parented), it stops by itself."""
    worker = _worker(sqlite_url, "--parent", "1")  # its parent is this test, not process 1: as if re-parented
    assert worker.wait(30) == 0


def test_serve_starts_a_worker_process_only_when_asked(sqlite_url: str) -> None:
    assert start_delivery_worker(Settings(database_url=sqlite_url, delivery_worker="thread")) is None
    worker = start_delivery_worker(Settings(database_url=sqlite_url, delivery_worker="process"))
    assert worker is not None and worker.poll() is None
    stop_delivery_worker(worker)
    # Stopped (still starting up, it may not handle SIGTERM yet: then it had attempted nothing to record).
    assert worker.returncode in (0, -signal.SIGTERM)
