"""roadpass served by uvicorn on a free loopback port, for tests that drive it over real sockets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from webhooks import free_port


@contextmanager
def served(roadpass: Roadpass) -> Iterator[int]:
    """Serve ``roadpass`` (with its lifespan: the subscription worker runs) and yield the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(roadpass=roadpass), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "roadpass did not start"
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
