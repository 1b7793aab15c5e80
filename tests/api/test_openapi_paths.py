"""Every path and method of the EPCIS 2.0 REST bindings' OpenAPI document answers as the document says.

Resources first; then named queries, their subscriptions and ``/nextPageToken``, in the order a client uses
them (create, read, delete). The WebSocket form of ``GET /queries/{queryName}/events`` (101) is walked in
``test_websocket_subscriptions.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
import yaml
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"
OBJECT_EVENTS = "Example_9.6.1-ObjectEvent.jsonld"
METHODS = ("get", "post", "put", "patch", "delete", "options")
# Values the walk puts in path templates: each names something the captured example holds.
SAMPLES = {
    "eventID": "ni:///sha-256;df7bb3c352fef055578554f09f5e2aa41782150ced7bd0b8af24dd3ccb30ba69?ver=CBV2.0",
    "eventType": "ObjectEvent",
    "epc": "urn:epc:id:sgtin:0614141.107346.2017",
    "bizStep": "shipping",
    "bizLocation": "urn:epc:id:sgln:0012345.11111.0",
    "readPoint": "urn:epc:id:sgln:0614141.07346.1234",
    "disposition": "in_transit",
}


_STATEFUL = ("/queries", "/nextPageToken")


def _operations(conformance: Path, *, stateful: bool = False) -> list[tuple[str, str, set[str]]]:
    document = yaml.safe_load((conformance / "epcis/rest/openapi.yaml").read_text())
    return [
        (path, method, {str(code) for code in operation["responses"]})
        for path, item in document["paths"].items()
        if path.startswith(_STATEFUL) is stateful
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture
def client(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(roadpass=app), headers=auth_headers(gcp="0614141")) as test_client:
        yield test_client


def _body(path: str) -> bytes | None:
    document = orjson.loads((EXAMPLES / OBJECT_EVENTS).read_bytes())
    if path == "/capture":
        return orjson.dumps(document)
    if path == "/events":
        event = dict(document["epcisBody"]["eventList"][0])
        event.pop("eventID")
        event["eventTime"] = "2021-06-01T00:00:00.000+00:00"  # a new event, not a duplicate of the capture
        return orjson.dumps({"@context": document["@context"], **event})
    return None


def test_every_documented_path_and_method_answers(client: TestClient, conformance: Path) -> None:
    captured = client.post("/capture", content=(EXAMPLES / OBJECT_EVENTS).read_bytes())
    assert captured.status_code == 202
    samples = {**SAMPLES, "captureID": captured.headers["Location"].rsplit("/", 1)[-1]}
    operations = _operations(conformance)
    assert len(operations) > 40
    wrong: list[tuple[str, str, int, str]] = []
    for template, method, documented in operations:
        url = template
        for name, value in samples.items():
            url = url.replace("{" + name + "}", quote(value, safe=":"))
        response: Any = client.request(method.upper(), url, content=_body(template) if method == "post" else None,
                                       headers={"Accept": "application/json, application/ld+json"})
        if str(response.status_code) not in documented or response.status_code in (404, 405):
            wrong.append((method.upper(), template, response.status_code, response.text[:200]))
    assert wrong == []


def _order(operation: tuple[str, str, set[str]]) -> tuple[int, int]:
    """Creations first (shallow before deep), reads next, deletions last (deep before shallow)."""
    template, method, _ = operation
    depth = template.count("/")
    return {"post": 0, "get": 1, "options": 1}.get(method, 2), depth if method != "delete" else -depth


def test_every_query_subscription_and_token_path_answers(client: TestClient, conformance: Path) -> None:
    assert client.post("/capture", content=(EXAMPLES / OBJECT_EVENTS).read_bytes()).status_code == 202
    page = client.get("/events", params={"perPage": "1"})
    samples = {"queryName": "walked", "token": page.json()["nextPageToken"], "subscriptionID": ""}
    bodies = {
        "/queries": {"name": "walked", "query": {"EQ_bizStep": ["shipping"]}},
        "/queries/{queryName}/subscriptions": {"dest": "http://127.0.0.1:9/hook", "stream": True},
    }
    operations = sorted(_operations(conformance, stateful=True), key=_order)
    assert len(operations) == 15
    wrong: list[tuple[str, str, int, str]] = []
    for template, method, documented in operations:
        url = template
        for name, value in samples.items():
            url = url.replace("{" + name + "}", quote(value, safe=":"))
        body = bodies.get(template) if method == "post" else None
        response: Any = client.request(method.upper(), url, json=body,
                                       headers={"Accept": "application/json, application/ld+json"})
        if template == "/queries/{queryName}/subscriptions" and method == "post" and response.status_code == 201:
            samples["subscriptionID"] = response.json()["subscriptionID"]
        if str(response.status_code) not in documented or response.status_code in (404, 405):
            wrong.append((method.upper(), template, response.status_code, response.text[:200]))
    assert wrong == []
    # Everything the walk made is gone again: the token, the subscription, the query.
    assert client.get("/events", params={"nextPageToken": samples["token"]}).status_code == 400
    assert client.get("/queries/walked").status_code == 404
