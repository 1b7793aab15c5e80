"""A real roadpass server (uvicorn, in a thread) on a demo database, and Debian's Chromium driven by Playwright.

Nothing is installed from the internet: Playwright's Python package drives the system's Chromium
(``/usr/bin/chromium``, Debian package ``chromium``); where it is missing the browser tests skip and say so.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("ROADPASS_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@dataclass
class Site:
    """The running server and facts about its demo data."""

    url: str
    shared_vin: str
    unshared_vin: str
    lot: str
    cell_event: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """roadpass with a 40-vehicle demo fleet (development: demo sign-ins exist), served on loopback."""
    import uvicorn
    from sqlalchemy import text

    from roadpass.api.app import create_app
    from roadpass.bootstrap import bootstrap
    from roadpass.demo.fleet import FleetSpec
    from roadpass.demo.load import load_demo
    from roadpass.settings import Settings
    from roadpass.trace.query import parse_event_query

    db = tmp_path_factory.mktemp("site") / "roadpass.sqlite3"
    app = bootstrap(Settings(database_url=f"sqlite:///{db}", environment="development"))
    load_demo(app, FleetSpec(vehicles=40))
    with app.uow.read() as conn:
        shared = conn.execute(text(
            "SELECT u.vin FROM share s JOIN unit u ON u.key = s.target WHERE u.vin IS NOT NULL ORDER BY u.key"
        )).scalar() or ""
        unshared = conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL AND market <> 'DE' ORDER BY key")
                                ).scalar() or ""
        lot = conn.execute(text("SELECT key FROM unit WHERE kind = 2 ORDER BY key")).scalar() or ""
    events = app.trace.events(parse_event_query({"MATCH_anyEPCClass": lot, "EQ_bizStep": "commissioning"}))[0]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(roadpass=app), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield Site(f"http://127.0.0.1:{port}", str(shared), str(unshared), str(lot), str(events[0]["eventID"]))
    server.should_exit = True
    thread.join(10)
    app.close()


@pytest.fixture
def browser_context() -> Iterator[Any]:
    """A fresh Chromium profile per test (no state carried between tests)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in the dev extra
        pytest.skip("browser tests need the playwright Python package (pip install -e '.[dev]')")
    profile = tempfile.mkdtemp(prefix="roadpass-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True, viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)
