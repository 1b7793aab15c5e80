"""Replaying a child's containment (``child_steps``) finds each event's parent through the partial index
``ix_event_epc_parent`` (``event_epc (event_pk) WHERE role = 2``, migration 0030), not by scanning
``event_epc``. Before it, SQLite's plan for the statement began with ``SCAN p`` (``p`` is ``event_epc``): one
full pass over the table per replayed child."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, event

from epcis_docs import VEHICLE, aggregation, document
from pg import PgCluster, template_database
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings
from roadpass.store import trace_write
from roadpass.trace.epcis.model import Role
from roadpass.trace.identifiers import canonical_id

PACK = "urn:epc:id:sgtin:0614141.100001.P1"






def _child_steps_statement(app: Roadpass, conn: Connection, child: int) -> tuple[str, Any]:
    """The SQL and parameters ``child_steps`` sends, as the driver receives them."""
    seen: list[tuple[str, Any]] = []

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(app.engine, "before_cursor_execute", keep)
    try:
        trace_write.child_steps(conn, child)
    finally:
        event.remove(app.engine, "before_cursor_execute", keep)
    return seen[-1]


def test_child_steps_plan_uses_the_event_index_on_sqlite(sqlite_app: Roadpass) -> None:
    # Out of order: the removal arrives first, the fitting after it, so the pack's containment is replayed.
    sqlite_app.trace.capture(document(aggregation("DELETE", "2025-03-01T08:00:00Z", VEHICLE, PACK)), actor="plant")
    sqlite_app.trace.capture(document(aggregation("ADD", "2025-02-01T08:00:00Z", VEHICLE, PACK)), actor="plant")
    with sqlite_app.engine.connect() as conn:
        pack = conn.exec_driver_sql("SELECT id FROM unit WHERE key = ?", (canonical_id(PACK),)).scalar_one()
        steps = trace_write.child_steps(conn, int(pack))
        assert sorted(s.action for s in steps) == ["ADD", "DELETE"]
        vehicle = conn.exec_driver_sql("SELECT id FROM unit WHERE key = ?", (canonical_id(VEHICLE),)).scalar_one()
        assert {s.parent for s in steps} == {int(vehicle)}
        statement, parameters = _child_steps_statement(sqlite_app, conn, int(pack))
        plan = [str(row[3]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
    assert not [step for step in plan if step.startswith("SCAN")], plan  # no table is scanned, event_epc least
    assert any("ix_event_epc_parent" in step for step in plan), plan


def test_child_steps_reads_parents_through_the_index_on_both_engines(app: Roadpass) -> None:
    """The same answer on both engines: every standing fact about the child, with its parent."""
    other = "urn:epc:id:giai:0614141.LSJA24U69RS000018"
    app.trace.capture(document(aggregation("ADD", "2025-04-01T08:00:00Z", other, PACK)), actor="plant")
    app.trace.capture(document(aggregation("ADD", "2025-02-01T08:00:00Z", VEHICLE, PACK),
                           aggregation("DELETE", "2025-03-01T08:00:00Z", VEHICLE, PACK)), actor="plant")
    with app.engine.connect() as conn:
        ids = dict(conn.exec_driver_sql("SELECT key, id FROM unit").all())
        steps = sorted(trace_write.child_steps(conn, int(ids[canonical_id(PACK)])), key=lambda s: s.time)
        roles = {int(r) for (r,) in conn.exec_driver_sql("SELECT DISTINCT role FROM event_epc").all()}
        inside = trace_write.open_containment(conn, [int(ids[canonical_id(PACK)])])
    assert [(s.action, s.parent) for s in steps] == [
        ("ADD", ids[canonical_id(VEHICLE)]), ("DELETE", ids[canonical_id(VEHICLE)]), ("ADD", ids[canonical_id(other)])]
    assert {int(Role.PARENT), int(Role.CHILD)} <= roles
    # The replay left the pack where the latest fact puts it: inside the other vehicle since April.
    assert [parent for _link, parent, _start in inside.values()] == [ids[canonical_id(other)]]


@pytest.mark.postgres
def test_child_steps_can_use_the_partial_index_on_postgresql(pg_cluster: PgCluster) -> None:
    """The parent's role is in the statement as a value, so PostgreSQL may use the partial index too (on a
    table this small it would rather scan: sequential scans are switched off to see that it can)."""
    app = bootstrap(Settings(database_url=template_database(pg_cluster), environment="test"))
    try:
        _explain_on_postgresql(app)
    finally:
        app.close()


def _explain_on_postgresql(app: Roadpass) -> None:
    app.trace.capture(document(aggregation("ADD", "2025-02-01T08:00:00Z", VEHICLE, PACK)), actor="plant")
    with app.engine.begin() as conn:
        pack = conn.exec_driver_sql("SELECT id FROM unit WHERE key = %s", (canonical_id(PACK),)).scalar_one()
        statement, parameters = _child_steps_statement(app, conn, int(pack))
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = "\n".join(str(row[0]) for row in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
    assert "ix_event_epc_parent" in plan, plan
