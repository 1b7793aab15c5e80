"""The telematics edge as one thing to start and stop: the Mosquitto broker and roadpass's subscriber.

``roadpass serve`` starts it beside the server (``before_serve`` in :mod:`roadpass.features.telematics`)
and stops it at exit; the tests and the benchmark start it on a free port. At start the broker's account
files are rewritten from the stored credentials, so revocations made while it was down hold.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from roadpass.broker.accounts import ROADPASS_USER, MosquittoAccounts
from roadpass.broker.runner import MosquittoBroker
from roadpass.broker.subscriber import CLIENT_ID, MqttIngester
from roadpass.telematics.ingest import BatchOutcome, IngestService
from roadpass.telematics.service import TelematicsService

__all__ = ["PRUNE_SECONDS", "TelematicsEdge"]

#: How often raw samples past their retention are deleted while serving.
PRUNE_SECONDS = 3600.0


def _stop_stale(accounts: MosquittoAccounts) -> None:
    """A broker left running by a roadpass that was killed holds the port: stop it (only the process the pid
    file in this broker's folder names, and only if it is a mosquitto)."""
    try:
        pid = int(accounts.pid_file.read_text(encoding="utf-8").strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return
    if b"mosquitto" in cmdline and str(accounts.directory).encode() in cmdline:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not Path(f"/proc/{pid}").exists():
                    break
                time.sleep(0.05)
    accounts.pid_file.unlink(missing_ok=True)


class TelematicsEdge:
    """Mosquitto plus the subscriber that feeds ``ingest``."""

    def __init__(
        self, service: TelematicsService, ingest: IngestService, directory: Path, *, host: str, port: int,
        client_id: str = CLIENT_ID, on_batch: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        self.service = service
        self.broker = MosquittoBroker(directory, host=host, port=port)
        self.ingester = MqttIngester(
            ingest, host=host, port=port, username=ROADPASS_USER,
            password=self.broker.accounts.roadpass_password(), client_id=client_id, on_batch=on_batch)
        self._pruner: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        """Write the accounts, start the broker, connect the subscriber, prune hourly."""
        _stop_stale(self.broker.accounts)
        self.service.republish()
        self.broker.start()
        self.ingester.start()
        self._stopping.clear()
        self._pruner = threading.Thread(target=self._prune, name="telematics-prune", daemon=True)
        self._pruner.start()

    def _prune(self) -> None:
        while not self._stopping.wait(PRUNE_SECONDS):
            with contextlib.suppress(Exception):  # a busy database: try again next time
                self.service.prune()

    def stop(self) -> None:
        """Store and acknowledge what was received, disconnect, stop the broker (it saves its queue)."""
        self._stopping.set()
        self.ingester.stop()
        self.broker.stop()
