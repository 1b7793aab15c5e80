"""The regional relay worker: a background thread that runs the node-to-node rounds — the recall relay's
outbox and completion reports, the aggregates' batches and outbox — so that nothing waits for a status read.

Each round is a callable registered under a name (:meth:`RelayWorker.register`): it is handed the peers that
are backing off and returns, per peer it tried, whether that peer answered. A peer that fails is skipped by
that round for a while, doubling from ``base`` up to ``cap`` seconds (exponential, as the subscription
outbox retries, trace/subscriptions.py; kept in memory: after a restart every peer is tried at once), and
tried again after it; a round that raises is logged and the worker goes on. Another feature adds its round with one
line in bootstrap (a ``rounds`` entry, or ``worker.register("name", service.round)``).

A thread, not a process: the rounds are a few HTTP calls per peer every ``interval`` seconds, beside a
server that is already a process of its own; the thread is a daemon (it dies with the server) and
:meth:`RelayWorker.stop` ends it cleanly at shutdown (``roadpass serve`` registers it at exit).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

__all__ = ["Backoff", "PeerRound", "RelayWorker"]

_log = logging.getLogger(__name__)

#: A round: given the peers backing off (to skip), per peer tried whether it answered (True) or failed.
PeerRound = Callable[[Collection[str]], Mapping[str, bool]]


@dataclass(slots=True)
class Backoff:
    """When each peer may be tried again by one round: after ``n`` failures in a row, ``base * 2**(n-1)``
    seconds, at most ``cap``; a success clears it."""

    base: float = 5.0
    cap: float = 300.0
    failures: dict[str, int] = field(default_factory=dict)
    not_before: dict[str, float] = field(default_factory=dict)

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` failures in a row."""
        return 0.0 if failures <= 0 else min(self.cap, self.base * 2 ** min(failures - 1, 30))

    def waiting(self, now: float) -> set[str]:
        """The peers still backing off at ``now``."""
        return {peer for peer, at in self.not_before.items() if at > now}

    def record(self, outcomes: Mapping[str, bool], now: float) -> None:
        """A round's outcomes: failures push the peer's next try back, a success clears it."""
        for peer, ok in outcomes.items():
            if ok:
                self.failures.pop(peer, None)
                self.not_before.pop(peer, None)
            else:
                self.failures[peer] = self.failures.get(peer, 0) + 1
                self.not_before[peer] = now + self.delay(self.failures[peer])


class RelayWorker:
    """Runs every registered round every ``interval`` seconds in a thread of its own, with back-off per
    (round, peer)."""

    def __init__(self, *, rounds: Mapping[str, PeerRound] | None = None, interval: float = 10.0,
                 backoff_base: float = 5.0, backoff_cap: float = 300.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self._base, self._cap = backoff_base, backoff_cap
        self._clock = clock
        self._rounds: dict[str, PeerRound] = {}
        self.backoff: dict[str, Backoff] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds_run = 0
        for name, round_ in (rounds or {}).items():
            self.register(name, round_)

    def register(self, name: str, round_: PeerRound) -> None:
        """Add a round (run in registration order); a name registered again replaces its round."""
        self._rounds[name] = round_
        self.backoff.setdefault(name, Backoff(self._base, self._cap))

    @property
    def names(self) -> list[str]:
        """The registered rounds' names."""
        return list(self._rounds)

    def run_once(self) -> dict[str, Mapping[str, bool]]:
        """Run every round once (peers backing off skipped); each round's outcomes per peer."""
        outcomes: dict[str, Mapping[str, bool]] = {}
        for name, round_ in list(self._rounds.items()):
            backoff = self.backoff[name]
            try:
                found = round_(backoff.waiting(self._clock()))
            except Exception:  # one broken round (a policy edit that does not parse) must not stop the others
                _log.exception("relay round %s failed", name)
                continue
            backoff.record(found, self._clock())
            outcomes[name] = found
        self.rounds_run += 1
        return outcomes

    def _run(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)

    def start(self) -> bool:
        """Start the thread (once); False when it runs already or there is no round."""
        if not self._rounds or (self._thread is not None and self._thread.is_alive()):
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="roadpass-relay", daemon=True)
        self._thread.start()
        return True

    @property
    def running(self) -> bool:
        """Whether the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the round in progress (each peer call has its own time limit) and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
