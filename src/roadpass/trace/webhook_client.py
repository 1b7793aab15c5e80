"""The HTTP client subscription deliveries are posted with: the standard library's ``http.client`` with
persistent connections, a few per receiver, so that a busy subscription does not pay a TCP handshake per
delivery (the :class:`~roadpass.trace.subscription_ports.Webhook` port's adapter)."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["HttpWebhook"]

_Origin = tuple[str, str, int]


class HttpWebhook:
    """Posts deliveries over kept-alive connections (at most ``idle_per_origin`` kept per receiver).

    Redirects are not followed: a destination is checked against the node's settings when subscribing,
    and a redirect would bypass that check, so a 3xx answer is a failed attempt like any other."""

    def __init__(self, timeout: float = 10.0, idle_per_origin: int = 8) -> None:
        self.timeout = timeout
        self.idle_per_origin = idle_per_origin
        self._idle: dict[_Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def _connection(self, origin: _Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout), False
        return http.client.HTTPConnection(host, port, timeout=self.timeout), False

    def _keep(self, origin: _Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.idle_per_origin:
                idle.append(conn)
                return
        conn.close()

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` to ``url``; the HTTP status. Raises :class:`OSError` when no answer came."""
        parts = urlsplit(url)
        scheme = parts.scheme
        origin = (scheme, parts.hostname or "", parts.port or (443 if scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        while True:
            conn, reused = self._connection(origin)
            try:
                conn.request("POST", target, body=body, headers=dict(headers))
                answer = conn.getresponse()
                answer.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                if reused:  # the receiver closed a kept connection meanwhile: once more on a fresh one
                    continue
                raise OSError(str(exc) or type(exc).__name__) from exc
            if answer.will_close:
                conn.close()
            else:
                self._keep(origin, conn)
            return int(answer.status)

    def close(self) -> None:
        """Close every kept connection."""
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for conn in connections:
                conn.close()
