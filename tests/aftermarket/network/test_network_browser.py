"""In Chromium, as the demo repairer: the repair network page, and the parts check opened from a scanned
label's Digital Link."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from roadpass.access.demo import DEMO_SIGN_INS, ensure_demo_access
from roadpass.aftermarket.network.demo import load_network_demo
from roadpass.trace.query import parse_event_query
from web.conftest import _free_port, browser_context

pytestmark = pytest.mark.browser
REPAIRER = next(d for d in DEMO_SIGN_INS if d.role == "repairer")
__all__ = ["browser_context"]  # the fixture, shared with the web tests


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """A served node with a small fleet, the demo sign-ins and the repair network demo: (url, VIN, part)."""
    import uvicorn

    from roadpass.api.app import create_app
    from roadpass.bootstrap import bootstrap
    from roadpass.demo.fleet import FleetSpec
    from roadpass.demo.load import load_fleet
    from roadpass.settings import Settings

    db = tmp_path_factory.mktemp("network-site") / "roadpass.sqlite3"
    app = bootstrap(Settings(database_url=f"sqlite:///{db}", environment="development"))
    load_fleet(app, FleetSpec(vehicles=20))
    ensure_demo_access(app.admin, environment="development")
    load_network_demo(app.repair_network, app.parts, app.trace)
    events = app.trace.events(parse_event_query({"eventType": "AggregationEvent", "perPage": "1000"}))[0]
    vin, part = next((u.vin, e["childEPCs"][0]) for e in events if e.get("parentID") and e.get("childEPCs")
                     for u in [app.trace.resolve(e["parentID"])] if u.vin and app.trace.unit_market(u.id) == "DE")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(roadpass=app), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", str(vin), app.parts.canonical(part)
    server.should_exit = True
    thread.join(10)
    app.close()


def test_a_repairer_sees_the_network_and_checks_a_scanned_part(
    served: tuple[str, str, str], browser_context: Any
) -> None:
    url, vin, link = served
    page = browser_context.new_page()
    page.goto(url + "/signin")
    page.get_by_label("Email").fill(REPAIRER.email)
    page.get_by_label("Password").fill(REPAIRER.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")
    page.get_by_role("link", name="Repairers").first.click()
    page.wait_for_selector("#network")
    assert "independent" in page.locator("#network").inner_text()
    assert page.locator("#accesses").count() == 1  # the repairer's own accesses
    page.goto(f"{url}/ui/parts/check?id={quote(link, safe='')}&vin={vin}")
    assert page.locator("#verdict").inner_text() == "genuine"
    assert vin in page.locator("#fitted").inner_text()
    page.get_by_label("Vehicle it is in (VIN, optional)").fill("LNXES2AB0SA999999")
    page.get_by_role("button", name="Check").click()
    page.wait_for_selector("#verdict")
    assert page.locator("#verdict").inner_text() == "suspect"
