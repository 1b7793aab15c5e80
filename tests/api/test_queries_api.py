"""Named queries through the EPCIS 2.0 REST bindings (``/queries``), in process, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"
SHIPPING = {"name": "shipped", "query": {"EQ_bizStep": ["shipping"]}}

Headers = Callable[..., dict[str, str]]


@pytest.fixture
def web(app: Roadpass) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=app)) as client:
        yield client


@pytest.fixture
def owner(app: Roadpass, auth_headers: Headers) -> dict[str, str]:
    """A manufacturer owning the examples' units (GS1 company prefix 0614141), with their events captured."""
    headers = auth_headers(gcp="0614141")
    with TestClient(create_app(roadpass=app), headers=headers) as client:
        for name in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.2-ObjectEvent.jsonld"):
            assert client.post("/capture", content=(EXAMPLES / name).read_bytes()).status_code == 202
    return headers


def _events(response: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return events


def test_create_read_list_and_run_a_named_query(web: TestClient, owner: dict[str, str]) -> None:
    created = web.post("/queries", json=SHIPPING, headers=owner)
    assert created.status_code == 201, created.text
    assert created.headers["Location"] == "/queries/shipped"
    assert created.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert web.get("/queries/shipped", headers=owner).json() == SHIPPING
    assert web.get("/queries", headers=owner).json() == [SHIPPING]

    named = web.get("/queries/shipped/events", headers=owner)
    direct = web.get("/events", params={"EQ_bizStep": "shipping"}, headers=owner)
    assert named.status_code == 200, named.text
    assert named.headers["GS1-EPCIS-Version"] == "2.0.0"
    assert _events(named) and _events(named) == _events(direct)


def test_a_taken_name_is_a_conflict(web: TestClient, owner: dict[str, str], auth_headers: Headers) -> None:
    assert web.post("/queries", json=SHIPPING, headers=owner).status_code == 201
    again = web.post("/queries", json={**SHIPPING, "query": {}}, headers=auth_headers("supplier"))
    assert again.status_code == 409
    assert again.json()["type"] == "epcisException:ResourceAlreadyExistsException"


def test_a_bad_definition_is_refused_whole_naming_each_json_path(web: TestClient, owner: dict[str, str]) -> None:
    body = {"name": "no spaces please", "query": {"EQ_bizStep": "shipping", "EQ_colour": ["red"]}}
    refused = web.post("/queries", json=body, headers=owner)
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["type"] == "epcisException:QueryValidationException"
    paths = {e["instance"] for e in problem["errors"]}
    assert {"$.name", "$.query.EQ_bizStep", "$.query.EQ_colour"} <= paths
    assert web.get("/queries", headers=owner).json() == []
    # What the schema allows but this repository cannot answer is refused at creation, not when run.
    late = web.post("/queries", json={"name": "q", "query": {"GE_eventTime": "yesterday"}}, headers=owner)
    assert late.status_code == 400 and late.json()["errors"] == [
        {"instance": "$.query.GE_eventTime", "title": "expected an ISO 8601 date-time with offset"}]
    assert web.post("/queries", content=b"{", headers={**owner, "Content-Type": "application/json"}).status_code == 400
    not_json = web.post("/queries", content=b"name=q", headers={**owner, "Content-Type": "text/plain"})
    assert not_json.status_code == 415


def test_named_query_events_page_like_events(web: TestClient, owner: dict[str, str]) -> None:
    assert web.post("/queries", json={"name": "all", "query": {}}, headers=owner).status_code == 201
    everything = [e["eventID"] if "eventID" in e else orjson.dumps(e) for e in
                  _events(web.get("/events", params={"perPage": 1000}, headers=owner))]
    seen: list[Any] = []
    url: str | None = "/queries/all/events?perPage=1"
    while url:
        page = web.get(url, headers=owner)
        assert page.status_code == 200, page.text
        seen += [e["eventID"] if "eventID" in e else orjson.dumps(e) for e in _events(page)]
        link = page.headers.get("Link")
        url = link[1:link.index(">")] if link else None
        assert url is None or url.startswith("/queries/all/events?")
    assert len(everything) >= 2 and seen == everything


def test_named_query_events_take_only_paging_parameters(web: TestClient, owner: dict[str, str]) -> None:
    assert web.post("/queries", json=SHIPPING, headers=owner).status_code == 201
    extra = web.get("/queries/shipped/events", params={"EQ_action": "ADD"}, headers=owner)
    assert extra.status_code == 400
    assert extra.json()["type"] == "epcisException:QueryParameterException"
    assert extra.json()["parameter"] == "EQ_action"
    assert web.get("/queries/unknown/events", headers=owner).status_code == 404


def test_events_follow_the_callers_visibility(web: TestClient, owner: dict[str, str], auth_headers: Headers) -> None:
    stranger = auth_headers("supplier", gcp="0999999")
    assert web.post("/queries", json={"name": "mine", "query": {}}, headers=stranger).status_code == 201
    answer = web.get("/queries/mine/events", headers=stranger)
    assert answer.status_code == 200 and _events(answer) == []


def test_another_partys_query_does_not_exist_for_the_caller(
    app: Roadpass, web: TestClient, owner: dict[str, str], auth_headers: Headers
) -> None:
    assert web.post("/queries", json=SHIPPING, headers=owner).status_code == 201
    other = auth_headers("dealer")
    assert web.get("/queries", headers=other).json() == []
    for method, url in (("GET", "/queries/shipped"), ("DELETE", "/queries/shipped"),
                        ("GET", "/queries/shipped/events")):
        refused = web.request(method, url, headers=other)
        assert refused.status_code == 404, (method, url)
        assert refused.json()["type"] == "epcisException:NoSuchNameException"
    denials = [e for e in app.ledger.recent(limit=20) if e.action == "access.denied"]
    assert len(denials) == 3
    assert web.get("/queries/shipped", headers=owner).status_code == 200
    assert web.get("/queries").status_code == 401


def test_the_operator_lists_every_partys_queries_but_deletes_none(
    web: TestClient, owner: dict[str, str], auth_headers: Headers
) -> None:
    assert web.post("/queries", json=SHIPPING, headers=owner).status_code == 201
    operator = auth_headers("operator")
    assert web.get("/queries", headers=operator).json() == [SHIPPING]
    assert web.get("/queries/shipped", headers=operator).json() == SHIPPING
    assert web.delete("/queries/shipped", headers=operator).status_code == 404
    assert web.get("/queries/shipped", headers=owner).status_code == 200


def test_delete_is_ledgered_and_frees_the_name(app: Roadpass, web: TestClient, owner: dict[str, str]) -> None:
    assert web.post("/queries", json=SHIPPING, headers=owner).status_code == 201
    deleted = web.delete("/queries/shipped", headers=owner)
    assert deleted.status_code == 204
    assert web.get("/queries/shipped", headers=owner).status_code == 404
    assert web.get("/queries", headers=owner).json() == []
    assert web.post("/queries", json=SHIPPING, headers=owner).status_code == 201
    entries = [e for e in app.ledger.recent(limit=20) if e.action.startswith("named_query.")]  # newest first
    assert [e.action for e in entries] == ["named_query.create", "named_query.delete", "named_query.create"]
    assert all(e.actor.startswith("party:") and "§8.2.5" in e.rule for e in entries)
    assert app.ledger.verify().ok


def test_listing_pages_by_name(web: TestClient, owner: dict[str, str]) -> None:
    for name in ("c", "a", "b"):
        assert web.post("/queries", json={"name": name, "query": {}}, headers=owner).status_code == 201
    names: list[str] = []
    url: str | None = "/queries?perPage=2"
    while url:
        page = web.get(url, headers=owner)
        assert page.status_code == 200, page.text
        names += [q["name"] for q in page.json()]
        link = page.headers.get("Link")
        url = link[1:link.index(">")] if link else None
    assert names == ["a", "b", "c"]
    forged = web.get("/queries", params={"nextPageToken": "bm90IGEgdG9rZW4"}, headers=owner)
    assert forged.status_code == 400 and forged.json()["parameter"] == "nextPageToken"


def test_options_discover_the_resources(web: TestClient) -> None:
    for url, allow in (("/queries", "POST"), ("/queries/x", "DELETE"), ("/queries/x/events", "GET")):
        answer = web.options(url)
        assert answer.status_code == 204 and allow in answer.headers["Allow"]
