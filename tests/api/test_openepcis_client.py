"""roadpass served on a loopback port and driven by the OpenEPCIS project's own Python client, unchanged.

The client (PyPI ``openepcis-client``, ``hash`` extra) is a dev dependency; the test skips only when it
cannot be imported. It pages by ``recordTime`` the way the client does: its next request carries only
``nextPageToken`` and ``perPage``, read from the body of the previous page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from access_helpers import api_headers
from roadpass.bootstrap import Roadpass
from served import served

_MISSING = "openepcis-client (with its 'hash' extra) is not installed: pip install 'openepcis-client[hash]'"
epcis = pytest.importorskip("openepcis_client.events", reason=_MISSING)
client_module = pytest.importorskip("openepcis_client.core.client", reason=_MISSING)
config_module = pytest.importorskip("openepcis_client.core.config", reason=_MISSING)
pytest.importorskip("epcis_event_hash_generator", reason=_MISSING)

GCP = "9521234"
GTIN = "09521234000013"
EVENTS = 23
PER_PAGE = 4


class _ApiKey:
    """A roadpass API key as the client's ``AuthStrategy`` (its protocol: ``bearer``, ``invalidate``)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def bearer(self) -> str:
        return self.token

    def invalidate(self) -> None:
        """An API key is not re-minted: a 401 stays a 401."""


@pytest.fixture
def repository(sqlite_app: Roadpass) -> Iterator[Any]:
    """A client of roadpass served by uvicorn on a free loopback port, as a manufacturer with GCP 9521234."""
    token = api_headers(sqlite_app, "manufacturer", gcp=GCP)["Authorization"].removeprefix("Bearer ")
    with served(sqlite_app) as port:
        yield client_module.Client(config_module.ClientConfig(f"http://127.0.0.1:{port}"), _ApiKey(token))


def _shipments(start: datetime) -> dict[str, Any]:
    events = [
        epcis.object_event(
            action="OBSERVE", event_time=start + timedelta(minutes=i), biz_step="shipping", disposition="in_transit",
            epcs=[epcis.instance_uri(GTIN, serial=f"S{i}")], read_point="9521234000013",
        )
        for i in range(EVENTS)
    ]
    stamped: dict[str, Any] = epcis.stamp_event_ids(epcis.document(events))
    return stamped


def test_openepcis_client_captures_pages_and_declares(repository: Any) -> None:
    capture, query = epcis.Capture(repository), epcis.Query(repository)
    assert capture.check() == "" and query.check() == ""
    since = datetime.now(UTC) - timedelta(minutes=1)
    document = _shipments(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))

    receipt = capture.submit(document)
    assert receipt.answerable and len(receipt.event_ids) == EVENTS
    outcome = capture.outcome(receipt)
    assert outcome.known and outcome.settled and outcome.success, outcome.errors
    again = capture.outcome(capture.submit(document))  # idempotent resubmission: stored once
    assert again.success

    read = list(query.since(since=since.isoformat(), per_page=PER_PAGE, pages=50))
    assert [e["eventID"] for e in read] == list(receipt.event_ids)  # every page, each event once

    first_epc = document["epcisBody"]["eventList"][0]["epcList"][0]
    assert [e["eventID"] for e in query.for_epc(first_epc)] == [receipt.event_ids[0]]

    wrong = dict(document["epcisBody"]["eventList"][0])
    wrong["errorDeclaration"] = epcis.error_declaration(reason=epcis.cbv.DID_NOT_OCCUR,
                                                        declaration_time=datetime.now(UTC))
    declared = capture.outcome(capture.submit(epcis.document([wrong])))
    assert declared.success, declared.errors
    body = repository.get("/events", params={"EXISTS_errorDeclaration": "", "perPage": 10})
    events = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in events] == [receipt.event_ids[0]]
    assert events[0]["errorDeclaration"]["reason"].endswith("did_not_occur")
