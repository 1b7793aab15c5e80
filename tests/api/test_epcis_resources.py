"""The EPCIS 2.0 REST top-level resources (/, /eventTypes, /epcs, /bizSteps, /bizLocations, /readPoints,
/dispositions), in process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"
EPC = "urn:epc:id:sgtin:0614141.107346.2017"
EPC_DL = "https://id.gs1.org/01/10614141073464/21/2017"
SITE = "urn:epc:id:sgln:0012345.11111.0"
READ_POINT = "urn:epc:id:sgln:0614141.07346.1234"


@pytest.fixture
def client(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=app), headers=auth_headers(gcp="0614141")) as test_client:
        response = test_client.post("/capture", content=(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())
        assert response.status_code == 202, response.text
        yield test_client


@pytest.fixture
def stranger(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    # Another manufacturer: owns none of the examples' units, captured none of their events.
    with TestClient(create_app(roadpass=app), headers=auth_headers(gcp="4099999")) as test_client:
        yield test_client


def _ids(body: dict[str, Any]) -> list[str]:
    return [e["eventID"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def _members(client: TestClient, path: str) -> list[str]:
    response = client.get(path, params={"perPage": 1000})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "Collection" and "@context" in body
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0" and "GS1-CBV-Version" in response.headers
    members: list[str] = body["member"]
    return members


def test_top_level_collection_and_the_home_page_stay_apart(client: TestClient) -> None:
    api = client.get("/", headers={"Accept": "application/json"})
    assert api.status_code == 200
    assert set(api.json()["member"]) >= {"events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints",
                                         "dispositions", "capture", "queries"}
    page = client.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert client.options("/").status_code == 204


def test_collections_list_values_of_visible_events(client: TestClient) -> None:
    assert "ObjectEvent" in _members(client, "/eventTypes")
    assert {"shipping", "receiving", "commissioning"} <= set(_members(client, "/bizSteps"))
    assert {"in_transit", "in_progress"} <= set(_members(client, "/dispositions"))
    assert EPC_DL in _members(client, "/epcs")
    assert "https://id.gs1.org/414/0012345111112" in _members(client, "/bizLocations")
    assert len(_members(client, "/readPoints")) == 2


def test_a_stranger_lists_no_data_values(stranger: TestClient, client: TestClient) -> None:
    assert _members(stranger, "/epcs") == []
    assert _members(stranger, "/bizLocations") == [] and _members(stranger, "/readPoints") == []
    assert "shipping" in _members(stranger, "/bizSteps")  # the CBV's words are vocabulary, not data
    hidden = stranger.get(f"/epcs/{EPC}")
    assert hidden.status_code == 404 and hidden.json()["type"] == "epcisException:NoSuchResourceException"
    assert _ids(stranger.get(f"/epcs/{EPC}/events").json()) == []


def test_collection_paging_walks_every_member_once(client: TestClient) -> None:
    everything = _members(client, "/epcs")
    seen: list[str] = []
    response = client.get("/epcs", params={"perPage": 1})
    while True:
        seen.extend(response.json()["member"])
        if "Link" not in response.headers:
            break
        assert "GS1-Next-Page-Token-Expires" in response.headers
        link = response.headers["Link"]
        response = client.get(link[1 : link.index(">")])
    assert seen == everything and len(everything) >= 2
    token = client.get("/bizSteps", params={"perPage": 1}).headers["Link"].split("nextPageToken=")[1].split(">")[0]
    wrong = client.get("/dispositions", params={"nextPageToken": token})
    assert wrong.status_code == 400 and wrong.json()["parameter"] == "nextPageToken"
    assert client.get("/epcs", params={"colour": "red"}).json()["parameter"] == "colour"


@pytest.mark.parametrize(
    ("path", "present", "absent"),
    [
        ("/eventTypes/ObjectEvent", True, "/eventTypes/BogusEvent"),
        ("/bizSteps/shipping", True, "/bizSteps/urn:example:not-a-step"),
        ("/dispositions/in_transit", True, "/dispositions/urn:example:not-a-disposition"),
        (f"/epcs/{EPC}", True, "/epcs/urn:epc:id:sgtin:0614141.107346.9999"),
        (f"/epcs/{quote(EPC_DL, safe='')}", True, "/epcs/urn:epc:id:sgtin:0614141.107346.9998"),
        (f"/bizLocations/{SITE}", True, "/bizLocations/urn:epc:id:sgln:0012345.11111.99"),
        ("/readPoints/urn:epc:id:sgln:0614141.07346.1234", True, "/readPoints/urn:epc:id:sgln:0012345.11111.98"),
    ],
)
def test_items_offer_their_events(client: TestClient, path: str, present: bool, absent: str) -> None:
    found = client.get(path)
    assert found.status_code == 200, found.text
    assert found.json()["member"] == ["events"] and found.json()["type"] == "Collection"
    missing = client.get(absent)
    assert missing.status_code == 404
    assert missing.json()["type"] == "epcisException:NoSuchResourceException"
    assert client.options(path).status_code == 204


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (f"/epcs/{EPC}/events", {"MATCH_anyEPC": EPC}),
        (f"/epcs/{quote(EPC_DL, safe='')}/events", {"MATCH_anyEPC": EPC}),
        ("/bizSteps/shipping/events", {"EQ_bizStep": "shipping"}),
        ("/dispositions/in_progress/events", {"EQ_disposition": "in_progress"}),
        (f"/bizLocations/{SITE}/events", {"EQ_bizLocation": SITE}),
        (f"/readPoints/{READ_POINT}/events", {"EQ_readPoint": READ_POINT}),
        ("/eventTypes/ObjectEvent/events", {"eventType": "ObjectEvent"}),
    ],
)
def test_resource_events_are_the_matching_query(client: TestClient, path: str, params: dict[str, str]) -> None:
    by_path = client.get(path)
    assert by_path.status_code == 200, by_path.text
    assert by_path.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert _ids(by_path.json()) == _ids(client.get("/events", params=params).json()) != []
    narrowed = client.get(path, params={"EQ_action": "ADD"})
    assert narrowed.status_code == 200 and _ids(narrowed.json()) == []
    name = next(iter(params))
    again = client.get(path, params=params)
    assert again.status_code == 400 and again.json()["parameter"] == name


def test_resource_events_page_with_the_token_alone(client: TestClient) -> None:
    client.post("/capture", content=(EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_bytes())
    path = "/epcs/urn:epc:id:sgtin:0614141.107346.2018/events"
    everything = _ids(client.get(path).json())
    assert len(everything) >= 2
    seen: list[str] = []
    response = client.get(path, params={"perPage": 1})
    while True:
        body = response.json()
        seen.extend(_ids(body))
        if "nextPageToken" not in body:
            break
        response = client.get(path, params={"perPage": 1, "nextPageToken": body["nextPageToken"]})
        assert response.status_code == 200, response.text
    assert seen == everything
    token = client.get(path, params={"perPage": 1}).json()["nextPageToken"]
    elsewhere = client.get(f"/epcs/{EPC}/events", params={"nextPageToken": token})
    assert elsewhere.status_code == 400 and elsewhere.json()["parameter"] == "nextPageToken"
