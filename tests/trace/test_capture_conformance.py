"""Every GS1 example captures, comes back equal and valid, and capture is idempotent and all-or-nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from roadpass.bootstrap import Roadpass
from roadpass.trace.capture import CaptureRejected
from roadpass.trace.epcis.event_hash import document_event_hashes
from roadpass.trace.epcis.schema import document_problems
from roadpass.trace.query import parse_event_query

EXAMPLES = sorted((Path(__file__).parents[2].parent / "shared/conformance/epcis/examples").glob("*.jsonld"))
HASH_INPUTS = sorted((Path(__file__).parents[2].parent / "shared/conformance/epcis/event-hash").glob("*.jsonld"))


def _events(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["epcisBody"]["eventList"])


def _normalise(event: dict[str, Any], had_event_id: bool) -> dict[str, Any]:
    # The repository sets recordTime (EPCIS 2.0 §7.4.1) and fills a missing eventID with the hash ID.
    out = {k: v for k, v in event.items() if k != "recordTime"}
    if not had_event_id:
        out.pop("eventID", None)
    return out


def _count(app: Roadpass, table: str) -> int:
    with app.uow.read() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


@pytest.mark.parametrize("path", [*EXAMPLES, *HASH_INPUTS], ids=lambda p: p.name)
def test_example_round_trips(app: Roadpass, path: Path) -> None:
    document = orjson.loads(path.read_bytes())
    outcome = app.trace.capture(document, actor="conformance")
    assert outcome.success, outcome.errors
    hashes = document_event_hashes(document)
    for source, hash_id in zip(_events(document), hashes, strict=True):
        found = app.trace.event(source.get("eventID") or hash_id)
        assert found is not None
        body, context = found
        assert _normalise(body, "eventID" in source) == _normalise(source, "eventID" in source)
        single = {"@context": context, **body}
        assert document_problems(single) == [], document_problems(single)
    rendered, _contexts, _token = app.trace.events(parse_event_query({}))
    query_document = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISQueryDocument", "schemaVersion": "2.0", "creationDate": "2026-01-01T00:00:00Z",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": rendered}}},
    }
    assert document_problems(query_document) == []
    assert len(rendered) == len(_events(document)) - outcome.duplicates


def test_capture_is_idempotent(app: Roadpass) -> None:
    document = orjson.loads(EXAMPLES[0].read_bytes())
    first = app.trace.capture(document, actor="a")
    second = app.trace.capture(document, actor="a")
    assert first.stored == len(_events(document))
    assert second.stored == 0
    assert second.duplicates == len(_events(document))
    assert _count(app, "epcis_event") == first.stored


def test_invalid_document_is_refused_whole_naming_index_and_path(app: Roadpass, conformance: Path) -> None:
    invalid = conformance / "epcis/invalid-examples/Example-TransactionEvents-2020_07_03y.jsonld"
    document = orjson.loads(invalid.read_bytes())
    with pytest.raises(CaptureRejected) as caught:
        app.trace.capture(document, actor="a")
    problems = caught.value.problems
    assert problems[0].event_index == 1
    assert problems[0].path in ("$.epcisBody.eventList[1].sourceList", "$.epcisBody.eventList[1].destinationList")
    assert "array" in problems[0].reason
    assert _count(app, "epcis_event") == 0
    assert _count(app, "unit") == 0


def test_event_level_problem_rolls_back_everything(app: Roadpass) -> None:
    document = orjson.loads(EXAMPLES[0].read_bytes())
    bad = dict(_events(document)[0])
    bad["eventID"] = "urn:uuid:3b5f0e07-0000-4000-8000-000000000001"
    bad["epcList"] = ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.1073X6.2018"]
    good = dict(_events(document)[0])
    good["eventTime"] = "2030-01-01T00:00:00Z"
    good.pop("eventID", None)
    document["epcisBody"]["eventList"] = [good, bad]
    from roadpass.trace.service import CaptureFailed

    with pytest.raises(CaptureFailed) as caught:
        app.trace.capture(document, actor="a")
    assert caught.value.errors[0]["eventIndex"] == 1
    assert "epcList[1]" in caught.value.errors[0]["instance"]
    assert _count(app, "epcis_event") == 0
    job = app.trace.capture_job(caught.value.capture_id)
    assert job is not None and job["success"] is False and job["running"] is False
    outcome = app.trace.capture(document, actor="a", behaviour="proceed")
    assert outcome.stored == 1 and len(outcome.errors) == 1


def test_bare_cbv_words_and_uris_query_alike(app: Roadpass) -> None:
    document = orjson.loads(next(p for p in EXAMPLES if "9.6.1" in p.name).read_bytes())
    app.trace.capture(document, actor="a")
    bare = app.trace.events(parse_event_query({"EQ_bizStep": "shipping"}))[0]
    full = app.trace.events(parse_event_query({"EQ_bizStep": "https://ref.gs1.org/cbv/BizStep-shipping"}))[0]
    legacy = app.trace.events(parse_event_query({"EQ_bizStep": "urn:epcglobal:cbv:bizstep:shipping"}))[0]
    assert bare and bare == full == legacy
