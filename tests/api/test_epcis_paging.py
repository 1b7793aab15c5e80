"""Scrolling through EPCIS query results with nextPageToken (EPCIS 2.0 REST bindings), in process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.trace.epcis.schema import epcis_validator
from roadpass.trace.query import PAGE_TOKEN_LIFETIME, parse_event_query, sign_page_token

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


@pytest.fixture
def client(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=app), headers=auth_headers(gcp="0614141")) as test_client:
        for path in sorted(EXAMPLES.glob("*.jsonld")):
            assert test_client.post("/capture", content=path.read_bytes()).status_code == 202
        yield test_client


def _ids(body: dict[str, Any]) -> list[str]:
    return [e["eventID"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]


def _first_token(client: TestClient, **params: str) -> str:
    body = client.get("/events", params={"perPage": "2", **params}).json()
    token: str = body["nextPageToken"]
    return token


def _refused(response: Any) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["type"] == "epcisException:QueryParameterException"
    assert response.json()["parameter"] == "nextPageToken"


def test_the_token_alone_continues_its_query(client: TestClient) -> None:
    query = {"orderBy": "recordTime", "GE_recordTime": "2000-01-01T00:00:00Z", "EQ_bizStep": "shipping|receiving"}
    everything = _ids(client.get("/events", params={**query, "perPage": "1000"}).json())
    assert len(everything) >= 4
    seen: list[str] = []
    response = client.get("/events", params={**query, "perPage": "1"})
    pages = 0
    while True:
        body = response.json()
        assert response.status_code == 200, response.text
        seen.extend(_ids(body))
        pages += 1
        if "nextPageToken" not in body:
            assert "Link" not in response.headers
            break
        assert body["nextPageToken"] in response.headers["Link"] and "GS1-Next-Page-Token-Expires" in response.headers
        response = client.get("/events", params={"nextPageToken": body["nextPageToken"], "perPage": "1"})
    assert seen == everything and pages == len(everything)


def test_a_page_with_a_token_is_a_valid_query_document(client: TestClient) -> None:
    body = client.get("/events", params={"perPage": "1"}).json()
    assert "nextPageToken" in body
    assert epcis_validator().is_valid(body)


def test_link_header_is_followed_too(client: TestClient) -> None:
    everything = _ids(client.get("/events", params={"perPage": "1000", "eventType": "ObjectEvent"}).json())
    seen: list[str] = []
    response = client.get("/events", params={"perPage": "3", "eventType": "ObjectEvent"})
    while True:
        seen.extend(_ids(response.json()))
        link = response.headers.get("Link")
        if not link:
            break
        response = client.get(link[1 : link.index(">")])
    assert seen == everything


def test_repeating_the_same_parameters_beside_the_token_is_fine(client: TestClient) -> None:
    token = _first_token(client, eventType="ObjectEvent")
    response = client.get("/events", params={"perPage": "2", "eventType": "ObjectEvent", "nextPageToken": token})
    assert response.status_code == 200


def test_contradicting_forged_expired_and_deleted_tokens_are_refused(client: TestClient, app: Roadpass) -> None:
    token = _first_token(client, eventType="ObjectEvent")
    _refused(client.get("/events", params={"nextPageToken": token, "eventType": "AggregationEvent"}))
    _refused(client.get("/events", params={"nextPageToken": token, "EQ_bizStep": "shipping"}))
    payload, _, mac = token.partition(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + mac
    _refused(client.get("/events", params={"nextPageToken": forged}))
    _refused(client.get("/events", params={"nextPageToken": "garbage"}))
    query = parse_event_query({"perPage": "2"})
    _events, _contexts, position = app.trace.events(query)
    assert position is not None
    old, _expires = sign_page_token(position, query, app.settings.secret_key.encode(),
                                    now=time.time() - PAGE_TOKEN_LIFETIME - 1)
    _refused(client.get("/events", params={"nextPageToken": old}))
    other_key, _expires = sign_page_token(position, query, b"another node's secret")
    _refused(client.get("/events", params={"nextPageToken": other_key}))
    assert client.get("/events", params={"nextPageToken": token}).status_code == 200
    assert client.delete(f"/nextPageToken/{token}").status_code == 204
    _refused(client.get("/events", params={"nextPageToken": token}))
    assert client.delete(f"/nextPageToken/{token}").status_code == 204  # idempotent
    assert client.delete("/nextPageToken/not-a-token").status_code == 204


@pytest.mark.parametrize(
    ("name", "value"),
    [("colour", "red"), ("EQ_quantity", "3"), ("EQ_INNER_ext:field", "x"), ("WD_readPoint", "urn:x"),
     ("EQ_ext1:temperature", "20")],
)
def test_unknown_or_unsupported_parameters_are_named(client: TestClient, name: str, value: str) -> None:
    response = client.get("/events", params={name: value})
    assert response.status_code == 400
    assert response.json()["type"] == "epcisException:QueryParameterException"
    assert response.json()["parameter"] == name
