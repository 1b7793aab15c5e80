"""In Chromium, as the demo repairer: find a VIN, see what is due (recalls, warranty, history, battery), record
the work done through the form, and be told nothing about a vehicle that is not shared."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from roadpass.access.demo import DEMO_SIGN_INS
from web.conftest import _free_port, browser_context

pytestmark = pytest.mark.browser
REPAIRER = next(d for d in DEMO_SIGN_INS if d.role == "repairer")
__all__ = ["browser_context"]  # the fixture, shared with the web tests


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """The whole demo on 30 vehicles, served: (url, a German VIN with service history, a VIN sold elsewhere)."""
    import uvicorn
    from sqlalchemy import text

    from roadpass.api.app import create_app
    from roadpass.bootstrap import bootstrap
    from roadpass.demo.fleet import FleetSpec
    from roadpass.demo.load import load_demo
    from roadpass.settings import Settings

    db = tmp_path_factory.mktemp("service-site") / "roadpass.sqlite3"
    app = bootstrap(Settings(database_url=f"sqlite:///{db}", environment="development"))
    load_demo(app, FleetSpec(vehicles=30))
    with app.uow.read() as conn:
        german = conn.execute(text("SELECT s.vin FROM service_record s JOIN unit u ON u.vin = s.vin "
                                   "WHERE u.market = 'DE' ORDER BY s.id")).scalar() or ""
        elsewhere = conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL AND market <> 'DE' ORDER BY vin")
                                 ).scalar() or ""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(roadpass=app), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the test server did not start"
    yield f"http://127.0.0.1:{port}", str(german), str(elsewhere)
    server.should_exit = True
    thread.join(10)
    app.close()


def _sign_in(page: Any, url: str) -> None:
    page.goto(url + "/signin")
    page.get_by_label("Email").fill(REPAIRER.email)
    page.get_by_label("Password").fill(REPAIRER.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(url + "/")


def test_repairer_sees_what_is_due_and_records_work(served: tuple[str, str, str], browser_context: Any) -> None:
    url, vin, elsewhere = served
    assert vin, "the demo recorded no service visit on a German vehicle"
    page = browser_context.new_page()
    _sign_in(page, url)
    page.get_by_role("link", name="Service").click()
    page.get_by_label("VIN").fill(vin)
    page.get_by_role("button", name="Show what is due").click()
    page.wait_for_selector("#history")
    assert vin in page.locator("h1").inner_text()
    assert "Market DE" in page.locator("#vehicle-facts").inner_text()
    assert page.locator("#coverage tbody tr").count() >= 2
    assert "Directive (EU) 2019/771 Art. 10(1)" in page.locator("#coverage").inner_text()
    before = page.locator("#history tbody tr").count()
    assert before >= 1 and "WO-" in page.locator("#history").inner_text()
    assert page.locator("#recalls").count() == 1 and page.locator("#battery").count() == 1

    page.get_by_label("Date").fill("2026-11-20")
    page.get_by_label("Odometer (km)").fill("31000")
    page.get_by_label("Technician").fill("B. Browser")
    page.get_by_label("Operation code").fill("INSP-24")
    page.get_by_label("Operation description").fill("24-month inspection")
    page.get_by_role("button", name="Record work").click()
    page.wait_for_selector("#done")
    assert "recorded" in page.locator("#done").inner_text()
    assert page.locator("#history tbody tr").count() == before + 1
    assert "B. Browser" in page.locator("#history").inner_text()

    page.get_by_label("Odometer (km)").fill("-3")
    page.get_by_label("Date").fill("2026-11-21")
    page.get_by_label("Technician").fill("B. Browser")
    page.get_by_role("button", name="Record work").click()
    page.wait_for_selector("#problems")
    assert "$.odometerKm" in page.locator("#problems").inner_text()

    page.goto(f"{url}/ui/service?vin={elsewhere}")
    assert "no vehicle you may see" in page.locator("#vin-error").inner_text()
