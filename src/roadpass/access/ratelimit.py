"""Token buckets: at most ``per_minute`` requests per key per minute, with bursts up to ``burst_share`` of that."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """One bucket per key (a party, a client address); refilled continuously.

    Used from the event loop only, so it needs no lock. Buckets idle for ten minutes are dropped so that
    a stream of distinct keys cannot grow it without bound.
    """

    def __init__(
        self, per_minute: Callable[[], int], *, burst_share: float = 1 / 6,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_minute = per_minute
        self._burst_share = burst_share
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._swept = clock()

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when allowed, else the seconds to wait before retrying."""
        rate = max(1, self._per_minute())
        burst = max(1.0, rate * self._burst_share)
        now = self._clock()
        if now - self._swept > 600:
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 600}
            self._swept = now
        tokens, last = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate / 60)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) * 60 / rate
        self._buckets[key] = (tokens - 1, now)
        return 0.0
