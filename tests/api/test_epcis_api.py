"""The EPCIS 2.0 REST bindings through the HTTP API, in process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import orjson
import pytest
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


@pytest.fixture
def client(app: Roadpass, auth_headers: Callable[..., dict[str, str]]) -> Iterator[TestClient]:
    # A manufacturer whose GS1 company prefix is the examples' (it owns their units and captures them).
    with TestClient(create_app(roadpass=app), headers=auth_headers(gcp="0614141")) as test_client:
        yield test_client


def _example(name: str) -> bytes:
    return (EXAMPLES / name).read_bytes()


def test_options_capture_advertises_limits(client: TestClient) -> None:
    response = client.options("/capture")
    assert response.status_code == 204
    assert int(response.headers["GS1-EPCIS-Capture-Limit"]) > 0
    assert int(response.headers["GS1-EPCIS-Capture-File-Size-Limit"]) > 0
    assert response.headers["GS1-Capture-Error-Behaviour"] in ("rollback", "proceed", "all")
    assert response.headers["GS1-EPCIS-Version"] == "2.0.0"


def test_capture_then_job_then_events(client: TestClient) -> None:
    response = client.post("/capture", content=_example("Example_9.6.1-ObjectEvent.jsonld"),
                           headers={"Content-Type": "application/ld+json"})
    assert response.status_code == 202, response.text
    job = client.get(response.headers["Location"]).json()
    assert job["running"] is False and job["success"] is True and job["captureErrorBehaviour"] == "rollback"
    events = client.get("/events", params={"EQ_bizStep": "shipping"})
    assert events.status_code == 200
    body = events.json()
    assert body["type"] == "EPCISQueryDocument"
    assert body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_keyset_paging_walks_every_event_once(client: TestClient) -> None:
    for name in sorted(p.name for p in EXAMPLES.glob("*.jsonld")):
        assert client.post("/capture", content=_example(name)).status_code == 202
    everything = client.get("/events", params={"perPage": 1000}).json()
    total = len(everything["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
    seen: list[str] = []
    url: str | None = "/events?perPage=2"
    while url:
        page = client.get(url)
        seen.extend(e["eventID"] for e in page.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
        link = page.headers.get("Link")
        url = link[1 : link.index(">")] if link else None
    assert len(seen) == total == len(set(seen))


def test_match_epc_accepts_urn_pattern_and_digital_link(client: TestClient) -> None:
    client.post("/capture", content=_example("Example_9.6.1-ObjectEvent.jsonld"))
    by_urn = client.get("/events", params={"MATCH_epc": "urn:epc:id:sgtin:0614141.107346.2017"}).json()
    by_pattern = client.get("/events", params={"MATCH_epc": "urn:epc:idpat:sgtin:0614141.107346.*"}).json()
    by_dl = client.get("/events", params={"MATCH_epc": "https://id.gs1.org/01/10614141073464/21/2017"}).json()
    ids = [
        [e["eventID"] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
        for doc in (by_urn, by_pattern, by_dl)
    ]
    assert ids[0] and ids[0] == ids[2]
    assert set(ids[0]) <= set(ids[1])


def test_event_by_id_and_404(client: TestClient) -> None:
    client.post("/capture", content=_example("Example_9.6.1-ObjectEvent.jsonld"))
    event_id = orjson.loads(_example("Example_9.6.1-ObjectEvent.jsonld"))["epcisBody"]["eventList"][0]["eventID"]
    found = client.get(f"/events/{quote(event_id, safe='')}")
    assert found.status_code == 200
    assert found.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["eventID"] == event_id
    assert client.get("/events/urn:uuid:00000000-0000-0000-0000-000000000000").status_code == 404


def test_invalid_document_gets_problem_naming_event_and_path(client: TestClient, conformance: Path) -> None:
    body = (conformance / "epcis/invalid-examples/Example-TransactionEvents-2020_07_03y.jsonld").read_bytes()
    response = client.post("/capture", content=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] == "epcisException:ValidationException"
    assert problem["errors"][0]["eventIndex"] == 1
    assert problem["errors"][0]["instance"].startswith("$.epcisBody.eventList[1].")
    assert client.get("/events").json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == []


def test_oversized_body_is_refused_before_parsing(client: TestClient, app: Roadpass) -> None:
    app.settings.capture_max_bytes = 100
    response = client.post("/capture", content=b"{" + b" " * 500 + b"}")
    assert response.status_code == 413


def test_bad_query_parameter_is_named(client: TestClient) -> None:
    response = client.get("/events", params={"GE_eventTime": "yesterday"})
    assert response.status_code == 400
    assert response.json()["parameter"] == "GE_eventTime"


def test_single_event_post(client: TestClient) -> None:
    document = orjson.loads(_example("Example_9.6.2-ObjectEvent.jsonld"))
    event = {"@context": document["@context"], **document["epcisBody"]["eventList"][0]}
    response = client.post("/events", content=orjson.dumps(event))
    assert response.status_code == 201, response.text
    assert client.get(response.headers["Location"]).status_code == 200
