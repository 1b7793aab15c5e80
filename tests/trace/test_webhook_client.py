"""The delivery HTTP client: kept-alive connections, a fresh one when the receiver closed a kept one, no
redirects followed, and OSError when nothing answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from roadpass.trace.webhook_client import HttpWebhook
from webhooks import free_port


class _Counting(ThreadingHTTPServer):
    connections = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        type(self).connections += 1
        super().process_request(request, client_address)


@pytest.fixture
def receiver() -> Iterator[tuple[_Counting, list[str]]]:
    paths: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections open

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            paths.append(self.path)
            status = 302 if self.path == "/moved" else 204
            self.send_response(status)
            if status == 302:
                self.send_header("Location", "http://example.org/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    _Counting.connections = 0
    server = _Counting(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, paths
    server.shutdown()
    server.server_close()


def test_deliveries_reuse_one_connection(receiver: tuple[_Counting, list[str]]) -> None:
    server, paths = receiver
    client = HttpWebhook()
    url = f"http://127.0.0.1:{server.server_port}/hook?x=1"
    assert [client.post(url, b"{}", {"Content-Type": "application/json"}) for _ in range(5)] == [204] * 5
    assert server.connections == 1 and paths == ["/hook?x=1"] * 5
    assert client.post(f"http://127.0.0.1:{server.server_port}/moved", b"{}", {}) == 302  # not followed
    client.close()
    assert client.post(url, b"{}", {}) == 204 and server.connections == 2  # closed: a fresh connection


def test_no_answer_is_an_os_error() -> None:
    with pytest.raises(OSError, match=r"[Cc]onnection refused"):
        HttpWebhook(timeout=2).post(f"http://127.0.0.1:{free_port()}/hook", b"{}", {})
