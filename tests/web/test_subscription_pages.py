"""The subscriptions page: a party's query subscriptions and where their deliveries stand."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


def test_the_page_shows_own_subscriptions_and_their_delivery_state(
    app: Roadpass, auth_headers: Callable[..., dict[str, str]]
) -> None:
    maker, rival = auth_headers(gcp="0614141"), auth_headers(gcp="4012345")
    with TestClient(create_app(roadpass=app)) as client:
        assert client.post("/queries", json={"name": "mine", "query": {}}, headers=maker).status_code == 201
        made = client.post("/queries/mine/subscriptions", headers=maker, json={
            "dest": "http://127.0.0.1:9/nobody-listens", "stream": True})
        assert made.status_code == 201
        sid = made.json()["subscriptionID"]
        app.trace.capture(orjson.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes()),
                          actor="test")
        # The serving worker tries port 9, which refuses: the page shows the failure.
        deadline = time.monotonic() + 10
        page = client.get("/ui/subscriptions", headers=maker)
        while "failing: " not in page.text and time.monotonic() < deadline:
            time.sleep(0.05)
            page = client.get("/ui/subscriptions", headers=maker)
        assert page.status_code == 200
        assert sid in page.text and re.search(r"failing: \d+ attempts?,", page.text) and "no answer" in page.text
        other = client.get("/ui/subscriptions", headers=rival)
        assert other.status_code == 200 and sid not in other.text and "No subscriptions." in other.text
