"""``ledger verify`` beside detached months of the event table (PostgreSQL): the capture entries of a
detached month's events are archived — their chain is checked, their content is not, and the report names
the partition, also once the detached table is dropped — a tampered entry still fails, and a re-attached
month is checked in full again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from access_helpers import api_headers
from cli_helpers import run_cli
from epcis_docs import document, fitted
from pg import PgCluster, template_database
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.ledger.chain import LedgerDraft, canonical_rows_hash
from roadpass.ledger.views import report_json
from roadpass.settings import Settings
from roadpass.store.ledger import append
from roadpass.store.partitions import SCHEMA, EventPartitions, month_bounds

FEBRUARY = f"{SCHEMA}.epcis_event_y2024m02"






def _sql(engine: Engine, statement: str, **params: Any) -> Any:
    with engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return result.scalar() if result.returns_rows else None


def _rows(engine: Engine, statement: str) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(statement)).all())


def _attach_february(engine: Engine) -> None:
    low, high = month_bounds(date(2024, 2, 1))
    _sql(engine, f"ALTER TABLE epcis_event ATTACH PARTITION {FEBRUARY} FOR VALUES FROM ({low}) TO ({high})")


@pytest.fixture
def pg_app(pg_cluster: PgCluster) -> Iterator[Roadpass]:
    """The application on a fresh, migrated PostgreSQL database with February and March 2024 partitions:
    three captures in February, one spanning February and March, two in March (the newest id in March)."""
    app = bootstrap(Settings(database_url=template_database(pg_cluster), environment="test"))
    EventPartitions(app.engine).create([date(2024, 2, 1), date(2024, 3, 1)])
    for n in range(3):
        app.trace.capture(document(fitted(f"urn:epc:id:sgtin:0614141.200001.F{n}", f"2024-02-1{n}T08:00:00Z")),
                          actor="plant")
    app.trace.capture(document(fitted("urn:epc:id:sgtin:0614141.200001.S", "2024-02-28T08:00:00Z"),
                           fitted("urn:epc:id:sgtin:0614141.200001.T", "2024-03-01T08:00:00Z")), actor="plant")
    for n in range(2):
        app.trace.capture(document(fitted(f"urn:epc:id:sgtin:0614141.200001.M{n}", f"2024-03-1{n}T08:00:00Z")),
                          actor="plant")
    yield app
    app.close()


def _capture_seq_of(app: Roadpass, pack_serial: str) -> int:
    """The ledger entry of the capture that stored the event naming ``pack_serial``."""
    job = _sql(app.engine, f"SELECT job_id FROM (SELECT id, job_id FROM epcis_event UNION ALL "
               f"SELECT id, job_id FROM {FEBRUARY}) e WHERE e.id IN (SELECT event_pk FROM event_epc c "
               "JOIN unit u ON u.id = c.unit_id WHERE u.key LIKE :k)", k=f"%{pack_serial}")
    entry = next(e for e in app.ledger.recent(limit=100) if e.action == "epcis.capture"
                 and any(s.table == "epcis_event" and s.value == job for s in e.subjects))
    return entry.seq


@pytest.mark.postgres
def test_a_detached_month_verifies_as_archived_naming_its_partition(pg_app: Roadpass) -> None:
    assert pg_app.ledger.verify().ok and pg_app.ledger.verify().archived == {}
    EventPartitions(pg_app.engine).detach(date(2024, 2, 1), actor="dba@example.com")
    report = pg_app.ledger.verify()
    assert report.ok, report.first_mismatch
    # Three February captures and the one spanning February and March; March's own two are checked in full.
    assert report.archived == {FEBRUARY: 4}
    assert report_json(report)["archived"] == [{"partition": FEBRUARY, "month": "2024-02", "entries": 4}]


@pytest.mark.postgres
def test_the_live_months_are_still_checked_in_full(pg_app: Roadpass) -> None:
    EventPartitions(pg_app.engine).detach(date(2024, 2, 1), actor="dba@example.com")
    seq = _capture_seq_of(pg_app, "M1")
    _sql(pg_app.engine, "UPDATE epcis_event SET doc = REPLACE(doc, 'assembling', 'repairing') WHERE event_time >= "
                        ":t", t=month_bounds(date(2024, 3, 1))[0] + 10 * 86_400_000_000)
    report = pg_app.ledger.verify()
    assert not report.ok and report.first_mismatch is not None
    assert report.first_mismatch.seq == seq and "content changed" in report.first_mismatch.reason


@pytest.mark.postgres
def test_a_tampered_entry_of_the_detached_month_still_fails_the_chain(pg_app: Roadpass) -> None:
    EventPartitions(pg_app.engine).detach(date(2024, 2, 1), actor="dba@example.com")
    seq = _capture_seq_of(pg_app, "F1")
    _sql(pg_app.engine, "UPDATE ledger_entry SET actor = 'mallory' WHERE seq = :s", s=seq)
    report = pg_app.ledger.verify()
    assert not report.ok and report.first_mismatch is not None
    assert report.first_mismatch.seq == seq and "entry itself was edited" in report.first_mismatch.reason
    _sql(pg_app.engine, "UPDATE ledger_entry SET actor = 'plant' WHERE seq = :s", s=seq)
    _sql(pg_app.engine, "DELETE FROM ledger_entry WHERE seq = :s", s=seq)  # removing it breaks the links
    report = pg_app.ledger.verify()
    assert not report.ok and report.first_mismatch is not None and report.first_mismatch.seq == seq + 1


@pytest.mark.postgres
def test_re_attaching_the_month_restores_the_full_check(pg_app: Roadpass) -> None:
    EventPartitions(pg_app.engine).detach(date(2024, 2, 1), actor="dba@example.com")
    # While detached, the month's rows are out of reach: an edit there is not seen ...
    _sql(pg_app.engine, f"UPDATE {FEBRUARY} SET doc = REPLACE(doc, 'assembling', 'repairing') "
                        "WHERE doc LIKE '%200001.F2%'")
    assert pg_app.ledger.verify().ok
    # ... and once it is back in the live table, every entry is checked against its rows again.
    _attach_february(pg_app.engine)
    report = pg_app.ledger.verify()
    assert report.archived == {} and not report.ok and report.first_mismatch is not None
    assert report.first_mismatch.seq == _capture_seq_of(pg_app, "F2")
    _sql(pg_app.engine, f"UPDATE {FEBRUARY} SET doc = REPLACE(doc, 'repairing', 'assembling') "
                        "WHERE doc LIKE '%200001.F2%'")
    report = pg_app.ledger.verify()
    assert report.ok and report.archived == {} and report.entries == 7  # six captures and the detach


@pytest.mark.postgres
def test_a_month_detached_behind_the_ledgers_back_is_not_archived(pg_app: Roadpass) -> None:
    _sql(pg_app.engine, f"ALTER TABLE epcis_event DETACH PARTITION {FEBRUARY}")
    report = pg_app.ledger.verify()
    assert not report.ok and report.archived == {}
    assert report.first_mismatch is not None and "content changed" in report.first_mismatch.reason


@pytest.mark.postgres
def test_the_detach_entry_names_the_captures_so_a_dropped_month_stays_archived(pg_app: Roadpass) -> None:
    EventPartitions(pg_app.engine).detach(date(2024, 2, 1), actor="dba@example.com")
    detach = pg_app.ledger.recent(limit=1)[0]
    jobs = {int(j) for (j,) in _rows(pg_app.engine, f"SELECT DISTINCT job_id FROM {FEBRUARY}")}
    assert detach.action == "events.partition.detach" and len(jobs) == 4
    assert {(s.table, s.column, s.value) for s in detach.subjects} == {("capture_job", "id", j) for j in jobs}
    _sql(pg_app.engine, f"DROP TABLE {FEBRUARY}")  # archived (pg_dump) and dropped, as the operator is told
    report = pg_app.ledger.verify()
    assert report.ok and report.archived == {FEBRUARY: 4}
    # The captures the detach names are fixed by it: editing one of their job rows is still found.
    _sql(pg_app.engine, "UPDATE capture_job SET actor = 'mallory' WHERE id = :j", j=min(jobs))
    report = pg_app.ledger.verify(stop_at_first=False)
    assert not report.ok and detach.seq in {m.seq for m in report.problems}


@pytest.mark.postgres
def test_a_detach_entry_naming_no_captures_is_completed_from_the_detached_table(pg_app: Roadpass) -> None:
    """A detach recorded before the captures were named: the detached table tells them while it exists."""
    with pg_app.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE epcis_event DETACH PARTITION {FEBRUARY}"))
        append(conn, LedgerDraft(
            actor="operator", action="events.partition.detach",
            rule=f"{FEBRUARY}: ALTER TABLE epcis_event DETACH PARTITION (PostgreSQL manual 5.11.2.2)",
            subjects=(), content_hash=canonical_rows_hash(iter(()))))
    report = pg_app.ledger.verify()
    assert report.ok and report.archived == {FEBRUARY: 4}
    _sql(pg_app.engine, f"DROP TABLE {FEBRUARY}")
    report = pg_app.ledger.verify()
    assert not report.ok and report.archived == {}


@pytest.mark.postgres
@pytest.mark.usefixtures("fresh_cli_state")
def test_cli_verify_reports_the_archived_entries(pg_cluster: PgCluster) -> None:
    url = template_database(pg_cluster)
    app = bootstrap(Settings(database_url=url, environment="test"))
    try:
        EventPartitions(app.engine).create([date(2024, 2, 1), date(2024, 3, 1)])
        app.trace.capture(document(fitted("urn:epc:id:sgtin:0614141.200002.A", "2024-02-10T08:00:00Z")), actor="plant")
        app.trace.capture(document(fitted("urn:epc:id:sgtin:0614141.200002.B", "2024-03-10T08:00:00Z")), actor="plant")
    finally:
        app.close()
    code, out = run_cli(url, "partitions", "detach", "2024-02", "--yes", "--actor", "dba@example.com")
    assert code == 0, out
    code, report = run_cli(url, "ledger", "verify", "--json")
    assert code == 0 and report["ok"] is True
    assert report["archived"] == [{"partition": FEBRUARY, "month": "2024-02", "entries": 1}]
    code, out = run_cli(url, "ledger", "verify")
    assert code == 0 and "ledger intact" in out and "1 archived" in out and "2024-02" in out


@pytest.mark.postgres
def test_api_verify_reports_the_archived_entries(pg_app: Roadpass) -> None:
    EventPartitions(pg_app.engine).detach(date(2024, 2, 1), actor="dba@example.com")
    with TestClient(create_app(roadpass=pg_app), headers=api_headers(pg_app, "manufacturer")) as client:
        answer = client.get("/ledger/verify")
    assert answer.status_code == 200 and answer.json()["ok"] is True
    assert answer.json()["archived"] == [{"partition": FEBRUARY, "month": "2024-02", "entries": 4}]
