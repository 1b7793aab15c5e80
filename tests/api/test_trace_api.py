"""Genealogy over REST: as-built and where-used answers, ``at=``, and paging through a where-used answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet

#: The demo fleet's cell maker: its lots are the where-used targets here (their owner sees every hit).
CELL_MAKER = ("minjiang_cell", "69388215")


@pytest.fixture
def fleet(app: Roadpass) -> tuple[Roadpass, str]:
    """A 40-vehicle demo fleet and the key of the cell lot that reaches the most vehicles."""
    load_fleet(app, FleetSpec(vehicles=40))
    with app.uow.read() as conn:
        lots = [r[0] for r in conn.execute(text("SELECT key FROM unit WHERE kind = 2"))]
    lot = max(lots, key=lambda key: (app.trace.where_used(key)[1].vehicles, key))
    return app, lot


@pytest.fixture
def client(fleet: tuple[Roadpass, str], auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    app, _lot = fleet
    headers = auth_headers("supplier", key=CELL_MAKER[0], gcp=CELL_MAKER[1])
    with TestClient(create_app(roadpass=app), headers=headers) as test_client:
        yield test_client


def _path(kind: str, identifier: str) -> str:
    return f"/trace/{kind}/{quote(identifier, safe='')}"


def test_where_used_answers_like_the_service(client: TestClient, fleet: tuple[Roadpass, str]) -> None:
    app, lot = fleet
    _unit, expected = app.trace.where_used(lot)
    body = client.get(_path("where-used", lot)).json()
    assert body["vehicles"] == expected.vehicles > 1
    assert body["hitCount"] == len(expected) == len(body["hits"])
    assert [h["id"] for h in body["hits"]] == [h.key for h in expected]
    assert body["byMarket"] == expected.by_market and body["bySupplier"] == expected.by_supplier
    assert "nextPageToken" not in body


def test_paging_walks_every_hit_once_in_order(client: TestClient, fleet: tuple[Roadpass, str]) -> None:
    _app, lot = fleet
    whole = client.get(_path("where-used", lot)).json()
    seen: list[str] = []
    response = client.get(_path("where-used", lot), params={"perPage": 3})
    pages = 0
    while True:
        body = response.json()
        pages += 1
        assert len(body["hits"]) <= 3
        # Counts and roll-ups describe the whole answer on every page.
        assert (body["vehicles"], body["hitCount"], body["byMarket"]) == (
            whole["vehicles"], whole["hitCount"], whole["byMarket"]
        )
        seen.extend(h["id"] for h in body["hits"])
        if "nextPageToken" not in body:
            assert "Link" not in response.headers
            break
        link = response.headers["Link"]
        assert link.endswith('>; rel="next"') and "perPage=3" in link
        response = client.get(link[1 : link.index(">")])
    assert seen == [h["id"] for h in whole["hits"]]
    assert pages == -(-whole["hitCount"] // 3)


def test_a_token_is_good_only_for_its_own_question(client: TestClient, fleet: tuple[Roadpass, str]) -> None:
    _app, lot = fleet
    token = client.get(_path("where-used", lot), params={"perPage": 1}).json()["nextPageToken"]
    other = client.get(_path("where-used", lot), params={"perPage": 1, "at": "2030-01-01T00:00:00Z",
                                                          "nextPageToken": token})
    assert other.status_code == 400 and other.json()["parameter"] == "nextPageToken"
    garbage = client.get(_path("where-used", lot), params={"nextPageToken": "not-a-token"})
    assert garbage.status_code == 400 and "nextPageToken" in garbage.json()["title"]


@pytest.mark.parametrize("value", ["0", "-1", "ten", ""])
def test_bad_per_page_is_named(client: TestClient, fleet: tuple[Roadpass, str], value: str) -> None:
    _app, lot = fleet
    response = client.get(_path("where-used", lot), params={"perPage": value})
    assert response.status_code == 400
    assert response.json()["parameter"] == "perPage"


def test_per_page_above_the_limit_is_capped(client: TestClient, fleet: tuple[Roadpass, str]) -> None:
    # As for GET /events: a server may return fewer per page than asked.
    app, lot = fleet
    body = client.get(_path("where-used", lot), params={"perPage": "100000"}).json()
    assert len(body["hits"]) == min(body["hitCount"], app.settings.page_size_max)


def test_at_before_the_fleet_existed_finds_nothing(client: TestClient, fleet: tuple[Roadpass, str]) -> None:
    _app, lot = fleet
    body = client.get(_path("where-used", lot), params={"at": "2000-01-01T00:00:00Z"}).json()
    assert (body["vehicles"], body["hits"]) == (0, [])
    bad = client.get(_path("where-used", lot), params={"at": "yesterday"})
    assert bad.status_code == 400 and bad.json()["parameter"] == "at"


def test_as_built_of_a_vehicle_reaches_the_lot(
    fleet: tuple[Roadpass, str], auth_headers: Callable[..., dict[str, str]]
) -> None:
    app, lot = fleet
    vin = app.trace.where_used(lot)[1].vins[0]
    with TestClient(create_app(roadpass=app), headers=auth_headers("manufacturer")) as stranger:
        assert stranger.get(_path("as-built", vin)).status_code == 404  # not this party's vehicle
    vehicle = app.trace.resolve(vin).key
    with app.uow.read() as conn:
        makers = conn.execute(text("SELECT key, gcp FROM party WHERE gcp IS NOT NULL")).all()
    # The vehicle's maker: the party whose company prefix its identifier (a GIAI) is issued under.
    maker = next(m for m in makers if vehicle.startswith(f"https://id.gs1.org/8004/{m[1]}"))
    headers = auth_headers("manufacturer", key=maker[0], gcp=maker[1])
    with TestClient(create_app(roadpass=app), headers=headers) as client:
        body = client.get(_path("as-built", vin)).json()
    keys: list[str] = []

    def walk(node: dict[str, object]) -> None:
        keys.append(str(node["id"]))
        for child in node.get("children", []):  # type: ignore[attr-defined]
            walk(child)

    walk(body["tree"])
    assert body["nodes"] == len(keys) and lot in keys
    assert client.get(_path("as-built", "urn:epc:id:sgtin:0000000.000000.1")).status_code == 404
