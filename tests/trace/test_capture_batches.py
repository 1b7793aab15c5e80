"""A bulk load commits several documents together: a refused document still stores nothing (it is refused
before its first write, so no savepoint is needed), an error undoes its whole batch and nothing else, and the
result equals capturing one by one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
from roadpass.settings import Settings
from roadpass.store.parties import upsert_party
from roadpass.trace.capture_plan import CaptureOutcome
from roadpass.trace.service import CaptureFailed, TraceService
from statements import count_statements

SPEC = FleetSpec(vehicles=40, seed=7)
BAD_EPC = "urn:epc:id:sgtin:0614141.1073X6.2018"  # a letter in the item reference: an event-level problem


def _documents() -> list[dict[str, Any]]:
    """The fleet's story cut into documents of 40 events, in time order (later ones name earlier units)."""
    [whole] = list(generate_fleet(SPEC))
    events = whole["epcisBody"]["eventList"]
    return [{**whole, "epcisBody": {"eventList": events[i : i + 40]}} for i in range(0, len(events), 40)]


def _refused(document: dict[str, Any]) -> dict[str, Any]:
    bad = dict(document["epcisBody"]["eventList"][0])
    bad.pop("eventID", None)
    bad["eventTime"] = "2031-01-01T00:00:00Z"
    bad["epcList"] = [BAD_EPC]
    return {**document, "epcisBody": {"eventList": [*document["epcisBody"]["eventList"], bad]}}


def _with_parties(app: Roadpass) -> Roadpass:
    with app.uow.write() as conn:
        for party in fleet_parties(SPEC):
            upsert_party(conn, actor="test", key=party.key, name=party.name, role=party.role,
                         country=party.country, gcp=party.company_prefix)
    return app


def _state(app: Roadpass) -> dict[str, Any]:
    with app.engine.connect() as conn:
        counts = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
                  for t in ("epcis_event", "event_epc", "unit", "link")}
        links = conn.execute(text(
            "SELECT p.key, c.key, l.valid_from, l.valid_to FROM link l JOIN unit p ON p.id = l.parent_id "
            "JOIN unit c ON c.id = l.child_id ORDER BY 1, 2, 3")).all()
    return {"counts": counts, "links": [tuple(r) for r in links]}


@pytest.fixture
def one_by_one(tmp_path: Path) -> Iterator[Roadpass]:
    """The same documents captured one at a time, each its own transaction: the reference."""
    reference = _with_parties(bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'ref.sqlite3'}",
                                                 environment="test")))
    yield reference
    reference.close()


def test_a_bulk_load_keeps_each_refusal_alone_and_equals_one_by_one(app: Roadpass, one_by_one: Roadpass) -> None:
    documents = _documents()
    documents[5] = _refused(documents[5])  # inside the batch of documents 4-7
    with count_statements(app) as statements:
        outcomes = list(_with_parties(app).trace.capture_many((orjson.dumps(d) for d in documents), actor="test",
                                                              parallel=False))
    assert not [s for s in statements if "SAVEPOINT" in s.upper()]
    assert [type(o).__name__ for o in outcomes] == ["CaptureOutcome"] * 5 + ["CaptureFailed"] + \
        ["CaptureOutcome"] * (len(documents) - 6)
    failed = outcomes[5]
    assert isinstance(failed, CaptureFailed) and BAD_EPC in str(failed.problems)
    assert app.trace.capture_job(failed.capture_id) is not None  # its refusal is on record, as one capture's is

    for document in documents:
        with suppress(CaptureFailed):
            one_by_one.trace.capture(orjson.dumps(document), actor="test")
    assert _state(app) == _state(one_by_one)
    assert sum(o.stored for o in outcomes if isinstance(o, CaptureOutcome)) == _state(app)["counts"]["epcis_event"]
    assert app.ledger.verify().ok


def test_an_error_undoes_its_batch_only_and_the_load_can_resume(
    app: Roadpass, one_by_one: Roadpass, monkeypatch: pytest.MonkeyPatch
) -> None:
    documents = _documents()
    apply = TraceService._apply
    seen: list[int] = []

    def failing(records: Any, parsed: Any, actor: str, behaviour: str) -> CaptureOutcome:
        seen.append(1)
        if len(seen) == 4:  # the second document of the batch of documents 2-3
            raise RuntimeError("the disk is full")
        return apply(records, parsed, actor, behaviour)

    monkeypatch.setattr(TraceService, "_apply", staticmethod(failing))
    _with_parties(app)
    committed: list[Any] = []
    load = app.trace.capture_many((orjson.dumps(d) for d in documents), actor="test", parallel=False)
    with pytest.raises(RuntimeError, match="disk is full"):
        committed.extend(load)
    assert len(committed) == 2  # documents 0 and 1; nothing of 2-3 is stored or reported
    for document in documents[:2]:
        one_by_one.trace.capture(orjson.dumps(document), actor="test")
    assert _state(app) == _state(one_by_one)

    # Units document 3 found among document 2's rolled-back rows are not remembered: resuming stores them.
    monkeypatch.setattr(TraceService, "_apply", staticmethod(apply))
    rest = list(app.trace.capture_many((orjson.dumps(d) for d in documents[2:]), actor="test", parallel=False))
    assert all(isinstance(o, CaptureOutcome) for o in rest)
    for document in documents[2:]:
        one_by_one.trace.capture(orjson.dumps(document), actor="test")
    assert _state(app) == _state(one_by_one)
    assert app.ledger.verify().ok
