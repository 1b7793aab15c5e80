"""Query subscriptions through the EPCIS 2.0 REST bindings (``/queries/{queryName}/subscriptions``), in
process, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

Headers = Callable[..., dict[str, str]]
EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"
STREAM = {"dest": "http://127.0.0.1:9/hook", "signatureToken": "s3cret", "stream": True}


@pytest.fixture
def web(app: Roadpass) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=app)) as client:
        yield client


@pytest.fixture
def owner(web: TestClient, auth_headers: Headers) -> dict[str, str]:
    headers = auth_headers(gcp="0614141")
    assert web.post("/queries", json={"name": "shipped", "query": {"EQ_bizStep": ["shipping"]}},
                    headers=headers).status_code == 201
    return headers


def test_subscribe_list_read_and_unsubscribe(web: TestClient, owner: dict[str, str]) -> None:
    made = web.post("/queries/shipped/subscriptions", json=STREAM, headers=owner)
    assert made.status_code == 201, made.text
    body = made.json()
    sid = body["subscriptionID"]
    assert made.headers["Location"] == f"/queries/shipped/subscriptions/{sid}"
    assert body["stream"] is True and body["dest"] == STREAM["dest"] and "createdAt" in body
    assert "signatureToken" not in made.text and "s3cret" not in made.text  # the secret is never returned

    listed = web.get("/queries/shipped/subscriptions", headers=owner)
    assert listed.status_code == 200 and [s["subscriptionID"] for s in listed.json()] == [sid]
    assert listed.json()[0]["failures"] == 0
    one = web.get(f"/queries/shipped/subscriptions/{sid}", headers=owner)
    assert one.status_code == 200 and one.json()["queryName"] == "shipped"

    assert web.delete(f"/queries/shipped/subscriptions/{sid}", headers=owner).status_code == 204
    assert web.get(f"/queries/shipped/subscriptions/{sid}", headers=owner).status_code == 404
    assert web.get("/queries/shipped/subscriptions", headers=owner).json() == []
    assert web.delete(f"/queries/shipped/subscriptions/{sid}", headers=owner).status_code == 404


def test_a_schedule_subscription_is_accepted(web: TestClient, owner: dict[str, str]) -> None:
    body = {"dest": "http://localhost:9/x", "reportIfEmpty": True, "schedule": {"hour": "1", "minute": "5"}}
    made = web.post("/queries/shipped/subscriptions", json=body, headers=owner)
    assert made.status_code == 201, made.text
    assert made.json()["schedule"] == {"hour": "1", "minute": "5"} and "stream" not in made.json()


def test_refusals_name_the_field(web: TestClient, owner: dict[str, str]) -> None:
    neither = web.post("/queries/shipped/subscriptions", json={"dest": STREAM["dest"]}, headers=owner)
    assert neither.status_code == 400
    assert neither.json()["type"] == "epcisException:SubscriptionControlsException"
    assert [e["instance"] for e in neither.json()["errors"]] == ["$.stream"]
    far = web.post("/queries/shipped/subscriptions", json={**STREAM, "dest": "https://example.com/in"}, headers=owner)
    assert far.status_code == 400 and [e["instance"] for e in far.json()["errors"]] == ["$.dest"]
    assert "ROADPASS_SUBSCRIPTION_ALLOWED_HOSTS" in far.json()["errors"][0]["title"]
    not_json = web.post("/queries/shipped/subscriptions", content=b"x", headers={**owner, "Content-Type": "text/plain"})
    assert not_json.status_code == 415
    assert web.post("/queries/nope/subscriptions", json=STREAM, headers=owner).status_code == 404


def test_another_partys_subscriptions_do_not_exist_for_it(web: TestClient, owner: dict[str, str],
                                                          auth_headers: Headers) -> None:
    sid = web.post("/queries/shipped/subscriptions", json=STREAM, headers=owner).json()["subscriptionID"]
    other = auth_headers("supplier")
    assert web.get("/queries/shipped/subscriptions", headers=other).status_code == 404
    assert web.post("/queries/shipped/subscriptions", json=STREAM, headers=other).status_code == 404
    assert web.get(f"/queries/shipped/subscriptions/{sid}", headers=other).status_code == 404
    assert web.delete(f"/queries/shipped/subscriptions/{sid}", headers=other).status_code == 404
    assert web.get(f"/queries/shipped/subscriptions/{sid}", headers=owner).status_code == 200


def test_discovery(web: TestClient) -> None:
    assert web.options("/queries/q/subscriptions").headers["Allow"] == "OPTIONS, GET, POST"
    assert web.options("/queries/q/subscriptions/x").headers["Allow"] == "OPTIONS, DELETE, GET"


def test_the_serving_worker_delivers_a_capture(app: Roadpass, auth_headers: Headers) -> None:
    """While serving, a capture wakes the worker, which posts the new events to the webhook."""
    received: list[bytes] = []
    signatures: list[str | None] = []
    arrived = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            signatures.append(self.headers.get("GS1-Signature"))
            self.send_response(204)
            self.end_headers()
            arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        headers = auth_headers(gcp="0614141")
        with TestClient(create_app(roadpass=app), headers=headers) as client:
            assert client.post("/queries", json={"name": "all", "query": {}}).status_code == 201
            dest = f"http://127.0.0.1:{server.server_port}/hook"
            assert client.post("/queries/all/subscriptions", json={"dest": dest, "stream": True}).status_code == 201
            assert client.post("/capture", content=(EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes(),
                               headers={"Content-Type": "application/ld+json"}).status_code == 202
            assert arrived.wait(10)
            # The worker records the delivery once the receiver has answered: a moment after it arrived.
            deadline = time.monotonic() + 10
            state = client.get("/queries/all/subscriptions").json()[0]
            while "lastNotifiedAt" not in state and time.monotonic() < deadline:
                time.sleep(0.05)
                state = client.get("/queries/all/subscriptions").json()[0]
        assert "lastNotifiedAt" in state
        assert signatures == [None]  # no signatureToken (optional): the delivery is not signed
        events = orjson.loads(received[0])["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        assert len(events) == 2
    finally:
        server.shutdown()
        server.server_close()
