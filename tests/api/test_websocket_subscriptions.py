"""WebSocket query subscriptions (EPCIS 2.0 REST bindings ``GET /queries/{queryName}/events`` with
``Upgrade: websocket``), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from access_helpers import api_headers
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from served import served

Headers = Callable[..., dict[str, str]]
EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


@pytest.fixture
def web(app: Roadpass) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=app)) as client:
        yield client


@pytest.fixture
def owner(web: TestClient, auth_headers: Headers) -> dict[str, str]:
    headers = auth_headers(gcp="0614141")
    assert web.post("/queries", json={"name": "all", "query": {}}, headers=headers).status_code == 201
    return headers


def _capture(app: Roadpass, name: str) -> set[str]:
    document = orjson.loads((EXAMPLES / name).read_bytes())
    app.trace.capture(document, actor="test")
    return {e["eventID"] for e in document["epcisBody"]["eventList"]}


def _event_ids(message: str) -> set[str]:
    document: dict[str, Any] = orjson.loads(message)
    assert document["type"] == "EPCISQueryDocument"
    results = document["epcisBody"]["queryResults"]
    assert results["queryName"] == "all"
    return {e["eventID"] for e in results["resultsBody"]["eventList"]}


def test_a_stream_pushes_each_capture(app: Roadpass, web: TestClient, owner: dict[str, str]) -> None:
    _capture(app, "Example_9.6.1-ObjectEvent.jsonld")  # before subscribing: not sent
    with web.websocket_connect("/queries/all/events?stream=true", headers=dict(owner)) as socket:
        ids = _capture(app, "Example_9.6.2-ObjectEvent.jsonld")
        assert _event_ids(socket.receive_text()) == ids


def test_initial_record_time_sends_older_events_first(app: Roadpass, web: TestClient,
                                                      owner: dict[str, str]) -> None:
    older = _capture(app, "Example_9.6.1-ObjectEvent.jsonld")
    path = "/queries/all/events?stream=true&initialRecordTime=2000-01-01T00:00:00Z"
    with web.websocket_connect(path, headers=dict(owner)) as socket:
        assert _event_ids(socket.receive_text()) == older


def test_the_handshake_says_from_when(web: TestClient, owner: dict[str, str]) -> None:
    path = "/queries/all/events?stream=true&initialRecordTime=2024-03-01T10:00:00Z"
    with web.websocket_connect(path, headers=dict(owner)) as socket:
        accepted = dict(socket.extra_headers or [])
        assert accepted[b"gs1-query-min-record-time"] == b"2024-03-01T10:00:00.000Z"


@pytest.mark.parametrize(("path", "who"), [
    ("/queries/all/events", "owner"),                       # neither stream nor schedule
    ("/queries/all/events?stream=maybe", "owner"),
    ("/queries/all/events?stream=true&hour=25", "owner"),
    ("/queries/all/events?stream=true&colour=red", "owner"),
    ("/queries/none/events?stream=true", "owner"),          # no such query
    ("/queries/all/events?stream=true", "rival"),           # another party's query
    ("/queries/all/events?stream=true", "nobody"),          # no credentials
])
def test_refused_handshakes(web: TestClient, owner: dict[str, str], auth_headers: Headers, path: str,
                            who: str) -> None:
    headers = {"owner": owner, "rival": auth_headers(gcp="4012345"), "nobody": {}}[who]
    with pytest.raises(WebSocketDisconnect) as refused, web.websocket_connect(path, headers=dict(headers)) as socket:
        socket.receive_text()
    assert refused.value.code == 1008


def test_deleting_the_query_closes_its_websockets(app: Roadpass, web: TestClient, owner: dict[str, str]) -> None:
    with web.websocket_connect("/queries/all/events?stream=true", headers=dict(owner)) as socket:
        assert web.delete("/queries/all", headers=owner).status_code == 204
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_text()
    assert closed.value.code == 1000


def test_a_party_receives_only_what_it_may_see(app: Roadpass, web: TestClient, auth_headers: Headers) -> None:
    stranger = auth_headers(gcp="4012345")
    assert web.post("/queries", json={"name": "all", "query": {}}, headers=stranger).status_code == 201
    with web.websocket_connect("/queries/all/events?stream=true&reportIfEmpty=true", headers=dict(stranger)) as socket:
        _capture(app, "Example_9.6.1-ObjectEvent.jsonld")  # none of it is the stranger's
        assert web.delete("/queries/all", headers=stranger).status_code == 204
        with pytest.raises(WebSocketDisconnect):
            socket.receive_text()  # closed without a single message: nothing was visible to it


def test_a_schedule_reports_even_when_empty_if_asked(web: TestClient, owner: dict[str, str]) -> None:
    path = "/queries/all/events?second=[0-59]&reportIfEmpty=true"  # every second
    with web.websocket_connect(path, headers=dict(owner)) as socket:
        assert _event_ids(socket.receive_text()) == set()


def test_a_real_websocket_client_over_a_loopback_port(sqlite_app: Roadpass) -> None:
    """uvicorn serving roadpass, the ``websockets`` library (uvicorn's own WebSocket implementation) as the
    client: the handshake's headers and a pushed capture, over a real socket."""
    from websockets.sync.client import connect

    with served(sqlite_app) as port:
        headers = api_headers(sqlite_app, "manufacturer", gcp="0614141")
        sqlite_app.queries.create({"name": "all", "query": {}}, actor="test",
                                  party_id=sqlite_app.access.principal_for_key(
                                      headers["Authorization"].removeprefix("Bearer ")).party.id)
        with connect(f"ws://127.0.0.1:{port}/queries/all/events?stream=true",
                     additional_headers=headers) as socket:
            assert socket.response is not None
            assert "GS1-Query-Min-Record-Time" in socket.response.headers
            ids = _capture(sqlite_app, "Example_9.6.1-ObjectEvent.jsonld")
            assert _event_ids(str(socket.recv(timeout=10))) == ids
