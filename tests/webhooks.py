"""A webhook receiver on 127.0.0.1 for subscription tests: checks ``GS1-Signature`` and records each
delivery's eventIDs."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

TOKEN = "13df38d8275b13f05704629e5f1cf3d45d6132d5"


class Receiver:
    """A webhook on 127.0.0.1 that checks GS1-Signature and records each delivery's eventIDs; ``limit``
    answers 413 to a body with more events than that."""

    def __init__(self, port: int, limit: int | None = None) -> None:
        self.port, self.limit = port, limit
        self.batches: list[list[str]] = []
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest()
                if self.headers.get("GS1-Signature") != expected:
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                document = orjson.loads(body)
                assert document["type"] == "EPCISQueryDocument"
                ids = [e["eventID"] for e in document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
                if receiver.limit is not None and len(ids) > receiver.limit:
                    self.send_response(413)
                    self.end_headers()
                    return
                receiver.batches.append(ids)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def received(self) -> set[str]:
        return {i for batch in self.batches for i in batch}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
