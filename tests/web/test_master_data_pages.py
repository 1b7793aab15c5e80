"""Names beside identifiers: the trace page names the tree's products and the timeline's sites from master
data, read once per page."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from access_helpers import api_headers
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from statements import count_statements


@pytest.fixture
def fleet(sqlite_app: Roadpass) -> tuple[Roadpass, str]:
    load_fleet(sqlite_app, FleetSpec(vehicles=3))
    with sqlite_app.uow.read() as conn:
        vin = str(conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL ORDER BY vin LIMIT 1")).scalar())
    return sqlite_app, vin


@pytest.fixture
def client(fleet: tuple[Roadpass, str]) -> Iterator[TestClient]:
    app, _vin = fleet
    headers = api_headers(app, "manufacturer", key="lanxing", gcp="6975001")  # the demo's carmaker
    with TestClient(create_app(roadpass=app), headers=headers) as test_client:
        yield test_client


def test_the_tree_and_timeline_show_product_and_site_names(client: TestClient, fleet: tuple[Roadpass, str]) -> None:
    _app, vin = fleet
    page = client.get("/ui/trace", params={"q": vin})
    assert page.status_code == 200
    tree = page.text.split('id="as-built"', 1)[1].split("</ul>\n</section>", 1)[0]
    assert '<span class="name">Traction battery pack</span>' in tree
    assert '<span class="name">LFP prismatic cell 173 Ah</span>' in tree  # a cell lot, named by its GTIN
    timeline = page.text.split('id="timeline"', 1)[1]
    assert "Lanxing" in timeline and "read at" in timeline


def test_where_used_names_the_unit_asked_about(client: TestClient, fleet: tuple[Roadpass, str]) -> None:
    app, vin = fleet
    pack = next(node.key for node in app.trace.as_built(vin).children if "/01/" in node.key
                and app.master_data.names([node.key]).get(node.key) == "Traction battery pack")
    page = client.get("/ui/where-used", params={"q": pack})
    assert '<p id="target"><span class="name">Traction battery pack</span>' in page.text


def test_a_whole_tree_is_named_in_one_statement(fleet: tuple[Roadpass, str]) -> None:
    app, vin = fleet
    tree = app.trace.as_built(vin)
    assert tree.count() > 40
    units = tree.keys()
    with count_statements(app) as statements:
        names = app.master_data.names(units)
    assert len(statements) == 1, statements
    assert len({names[key] for key in units if key in names}) > 10
    assert app.master_data.names([quote("not an identifier")]) == {}
