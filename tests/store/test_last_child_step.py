"""The latest standing aggregation fact per child (``last_child_step``), which containment planning reads for
the children a capture names that were stored before it: aggregation facts only (an AssociationEvent's
children are not contained), and none declared in error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, text

from epcis_docs import aggregation, document
from roadpass.bootstrap import Roadpass
from roadpass.store import trace_write
from roadpass.trace.epcis.model import Role
from roadpass.trace.identifiers import canonical_id

PALLET = "urn:epc:id:sscc:0614141.0000000001"


def _pack(i: int) -> str:
    return f"urn:epc:id:sgtin:0614141.100001.P{i}"


def _at(day: int) -> str:
    return f"2025-03-{day:02d}T08:00:00Z"


def _micros(day: int) -> int:
    return int(datetime(2025, 3, day, 8, tzinfo=UTC).timestamp()) * 1_000_000


def _event(kind: str, day: int, child: str, action: str = "ADD") -> dict[str, Any]:
    """An event of ``kind`` naming ``child``: in ``childEPCs`` (with the pallet as parent) or, for an
    ObjectEvent, in ``epcList``."""
    event = {**aggregation(action, _at(day), PALLET, child), "type": kind}
    if kind == "ObjectEvent":
        del event["parentID"], event["childEPCs"]
        event.update(epcList=[child], action="OBSERVE")
    return event


def _unit_ids(conn: Connection) -> dict[str, int]:
    return {str(key): int(pk) for key, pk in conn.execute(text("SELECT key, id FROM unit"))}


def test_the_latest_standing_aggregation_fact_of_each_child_on_both_engines(app: Roadpass) -> None:
    wrong = _event("AggregationEvent", 3, _pack(2))
    app.trace.capture(document(
        _event("AggregationEvent", 2, _pack(1)), _event("AggregationEvent", 5, _pack(1), "DELETE"),
        _event("AggregationEvent", 1, _pack(2)), wrong,
        _event("ObjectEvent", 4, _pack(3)),  # named, but not as a child
        _event("AssociationEvent", 6, _pack(4)),  # a child, but of an association
    ), actor="plant")
    # The second pack's fact of 3 March is declared in error (EPCIS 2.0 §7.4.1.4): the one before it stands.
    app.trace.capture(document({**wrong, "errorDeclaration": {"declarationTime": "2025-03-04T00:00:00Z"}}),
                      actor="plant")
    with app.engine.connect() as conn:
        ids = _unit_ids(conn)
        packs = [ids[canonical_id(_pack(i))] for i in range(1, 5)]
        latest = trace_write.last_child_step(conn, [*packs, 10**12])
        # The association's child is stored in the child role: only the event type leaves it out.
        roles = conn.execute(text("SELECT role FROM event_epc WHERE unit_id = :u"), {"u": packs[3]}).scalars()
        assert list(roles) == [int(Role.CHILD)]
        assert trace_write.last_child_step(conn, []) == {}
    assert latest == {packs[0]: _micros(5), packs[1]: _micros(1)}
