"""The event table partitioned by month on PostgreSQL (migration 0021, roadpass.store.partitions)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from cli_helpers import run_cli
from epcis_docs import document, fitted
from pg import PgCluster, template_database
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.features.partitions import before_serve
from roadpass.settings import Settings
from roadpass.store.engine import make_engine
from roadpass.store.migrate import alembic_config, pending_changes, upgrade
from roadpass.store.partitions import (
    KEY_TABLE,
    SCHEMA,
    EventPartitions,
    NotPartitioned,
    month_bounds,
    month_of,
    months_ahead,
    partition_name,
)
from roadpass.trace.query import parse_event_query


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


# --- pure month arithmetic -------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=4_102_444_800_000_000))  # 1970 .. 2100
def test_every_instant_falls_in_its_months_bounds(micros: int) -> None:
    low, high = month_bounds(month_of(micros))
    assert low <= micros < high
    assert month_of(high) != month_of(low) and month_bounds(month_of(high))[0] == high


def test_months_ahead_cross_the_year_and_names_sort_by_month() -> None:
    now = month_bounds(date(2026, 11, 1))[0]
    assert months_ahead(now, 3) == [date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    names = [partition_name(m) for m in months_ahead(now, 3)]
    assert names == sorted(names) and names[0] == "epcis_event_y2026m11"


# --- SQLite keeps the plain table -------------------------------------------------------------------------


def test_sqlite_is_not_partitioned(sqlite_app: Roadpass) -> None:
    partitions = EventPartitions(sqlite_app.engine)
    assert not partitions.available()
    with pytest.raises(NotPartitioned):
        partitions.attached()


# --- PostgreSQL ---------------------------------------------------------------------------------------------


@pytest.fixture
def pg_app(pg_cluster: PgCluster) -> Iterator[Roadpass]:
    """The application on a fresh, migrated PostgreSQL database."""
    app = bootstrap(Settings(database_url=template_database(pg_cluster), environment="test"))
    yield app
    app.close()


@pytest.mark.postgres
def test_events_land_in_their_month_and_far_ones_in_the_default(pg_app: Roadpass) -> None:
    partitions = EventPartitions(pg_app.engine)
    names = [p.name for p in partitions.attached()]
    assert names[-1] == "epcis_event_default" and len(names) >= 5  # this month + 3 ahead + default
    pg_app.trace.capture(document(fitted("urn:epc:id:sgtin:0614141.100001.A", "2030-05-03T08:00:00Z")), actor="plant")
    assert _rows(pg_app.engine, f"{SCHEMA}.epcis_event_default") == 1

    made = partitions.create([date(2030, 5, 1)])
    assert made == [f"{SCHEMA}.epcis_event_y2030m05"]
    assert _rows(pg_app.engine, f"{SCHEMA}.epcis_event_default") == 0
    assert _rows(pg_app.engine, f"{SCHEMA}.epcis_event_y2030m05") == 1
    assert partitions.create([date(2030, 5, 1)]) == []  # idempotent
    found, _ctx, _token = pg_app.trace.events(parse_event_query({}))
    assert len(found) == 1
    _unit, hits = pg_app.trace.where_used("urn:epc:id:sgtin:0614141.100001.A")
    assert [h.vin for h in hits] == ["LSJA24U69RS000017"]
    assert pending_changes(pg_app.engine) == []


@pytest.mark.postgres
def test_a_backfill_in_the_default_partition_is_split_into_months(pg_app: Roadpass) -> None:
    events = [fitted(f"urn:epc:id:sgtin:0614141.100004.{n}", when) for n, when in enumerate(
        ["2019-01-31T23:59:59Z", "2019-02-01T00:00:00Z", "2019-02-20T10:00:00Z"])]
    pg_app.trace.capture(document(*events), actor="plant")
    partitions = EventPartitions(pg_app.engine)
    assert sorted(partitions.split_default()) == [f"{SCHEMA}.epcis_event_y2019m01", f"{SCHEMA}.epcis_event_y2019m02"]
    assert _rows(pg_app.engine, f"{SCHEMA}.epcis_event_y2019m02") == 2
    assert _rows(pg_app.engine, f"{SCHEMA}.epcis_event_default") == 0
    assert partitions.split_default() == []


@pytest.mark.postgres
def test_event_ids_stay_unique_over_all_months(pg_app: Roadpass) -> None:
    first = fitted("urn:epc:id:sgtin:0614141.100001.B", "2024-01-10T08:00:00Z")
    pg_app.trace.capture(document(first), actor="plant")
    with pg_app.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM epcis_event")).mappings().one()
    again = dict(row) | {"id": row["id"] + 1000, "event_time": row["event_time"] + 400 * 86_400_000_000,
                         "hash_id": "ni:///sha-256;other"}
    with pytest.raises(IntegrityError), pg_app.engine.begin() as conn:  # same eventID, another month
        conn.execute(text(f"INSERT INTO epcis_event ({', '.join(again)}) VALUES "
                          f"({', '.join(':' + k for k in again)})"), again)
    assert _rows(pg_app.engine, KEY_TABLE) == 1


@pytest.mark.postgres
def test_detached_month_leaves_the_live_table_and_stays_known(pg_app: Roadpass) -> None:
    old = fitted("urn:epc:id:sgtin:0614141.100001.C", "2024-02-10T08:00:00Z")
    new = fitted("urn:epc:id:sgtin:0614141.100001.D", "2024-03-10T08:00:00Z")
    partitions = EventPartitions(pg_app.engine)
    partitions.create([date(2024, 2, 1), date(2024, 3, 1)])
    pg_app.trace.capture(document(new), actor="plant")
    pg_app.trace.capture(document(old), actor="plant")
    with pytest.raises(KeyError, match="newest stored event"):  # its id would be handed out again
        partitions.detach(date(2024, 2, 1), actor="operator")
    pg_app.trace.capture(document(fitted("urn:epc:id:sgtin:0614141.100001.F", "2024-03-11T08:00:00Z")), actor="plant")
    assert partitions.detach(date(2024, 2, 1), actor="operator") == f"{SCHEMA}.epcis_event_y2024m02"
    found, _ctx, _token = pg_app.trace.events(parse_event_query({}))
    assert old["eventID"] not in [e["eventID"] for e in found] and new["eventID"] in [e["eventID"] for e in found]
    assert _rows(pg_app.engine, f"{SCHEMA}.epcis_event_y2024m02") == 1  # kept, to archive
    assert _rows(pg_app.engine, KEY_TABLE) == 3
    with pytest.raises(KeyError):
        partitions.detach(date(2024, 2, 1), actor="operator")
    # Found by eventID only while its month is attached; captured again, still a duplicate (the key table).
    assert pg_app.trace.event(old["eventID"]) is None and pg_app.trace.event(new["eventID"]) is not None
    again = pg_app.trace.capture(document(old), actor="plant")
    assert (again.stored, again.duplicates) == (0, 1)
    # The capture entry of the detached month's event is archived: its chain is checked, its content is not
    # (tests/store/test_verify_detached.py); once re-attached it is checked in full again.
    archived = pg_app.ledger.verify()
    assert archived.ok and archived.archived == {f"{SCHEMA}.epcis_event_y2024m02": 1}
    low, high = month_bounds(date(2024, 2, 1))
    with pg_app.engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE epcis_event ATTACH PARTITION {SCHEMA}.epcis_event_y2024m02 "
                          f"FOR VALUES FROM ({low}) TO ({high})"))
    assert pg_app.ledger.verify().ok and pg_app.ledger.verify().archived == {}


@pytest.mark.postgres
def test_months_are_light_to_write(pg_app: Roadpass) -> None:
    """Migration 0031: no month indexes eventID or hash ID (the key table answers), no per-row foreign key
    to the capture job, and a new month compresses documents as the table does."""
    EventPartitions(pg_app.engine).create([date(2023, 7, 1)])
    event = fitted("urn:epc:id:sgtin:0614141.100009.A", "2023-07-04T08:00:00Z")
    pg_app.trace.capture(document(event), actor="plant")
    with pg_app.engine.connect() as conn:
        indexed = conn.execute(text(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = :s AND tablename = 'epcis_event_y2023m07'"),
            {"s": SCHEMA}).scalars().all()
        keys = conn.execute(text("SELECT conname FROM pg_constraint WHERE conrelid = 'epcis_event'::regclass "
                                 "AND contype = 'f'")).scalars().all()
        methods = set(conn.execute(text(
            "SELECT a.attcompression FROM pg_attribute a WHERE a.attname = 'doc' AND a.attrelid IN "
            "('epcis_event'::regclass, to_regclass(:m))"), {"m": f"{SCHEMA}.epcis_event_y2023m07"}).scalars())
    assert indexed and not [d for d in indexed if "(event_id)" in d or "(hash_id)" in d]
    assert keys == []
    assert len(methods) == 1
    found, _ctx, _token = pg_app.trace.events(parse_event_query({"EQ_eventID": event["eventID"]}))
    assert [e["eventID"] for e in found] == [event["eventID"]]
    with pg_app.engine.connect() as conn:
        hash_id = conn.execute(text(f"SELECT hash_id FROM {KEY_TABLE}")).scalar_one()
    by_hash = pg_app.trace.event(hash_id)  # by hash ID as by eventID
    assert by_hash is not None and by_hash[0]["eventID"] == event["eventID"]


def _heads_before_0021() -> list[str]:
    """Every head but this migration and those after it: the schema an existing database had before it."""
    script = ScriptDirectory.from_config(alembic_config())
    after = {r.revision for r in script.iterate_revisions("heads", "0021")}
    heads = set(script.get_heads()) - after
    return sorted(heads or {"0010"})


@pytest.mark.postgres
def test_existing_database_is_partitioned_by_the_upgrade(pg_cluster: PgCluster) -> None:
    admin = make_engine(pg_cluster.url("postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("CREATE DATABASE rp_before_0021"))
    admin.dispose()
    engine = make_engine(pg_cluster.url("rp_before_0021"))
    with engine.begin() as conn:
        for head in _heads_before_0021():
            command.upgrade(alembic_config(conn), head)
    app = bootstrap(Settings(database_url=pg_cluster.url("rp_before_0021"), environment="test"), migrate=False)
    try:
        wrong = fitted("urn:epc:id:sgtin:0614141.100001.E", "2025-03-01T08:00:00Z")
        events = [wrong] + [fitted(f"urn:epc:id:sgtin:0614141.100002.{n}", f"2025-{m:02d}-15T08:00:00Z")
                            for n, m in enumerate(range(1, 13))]
        app.trace.capture(document(*events), actor="plant")
        declaration = dict(wrong) | {"errorDeclaration": {"declarationTime": "2025-03-02T09:00:00Z",
                                                          "reason": "incorrect_data"}}
        app.trace.capture(document(declaration), actor="plant")
        before, _ctx, _token = app.trace.events(parse_event_query({}))
        assert not EventPartitions(engine).available()
        upgrade(engine)
        assert EventPartitions(engine).available()
        after, _ctx, _token = app.trace.events(parse_event_query({}))
        assert after == before and len(after) == 13
        months = {p.month: p for p in EventPartitions(engine).attached()}
        assert all(date(2025, m, 1) in months for m in range(1, 13))
        assert _rows(engine, f"{SCHEMA}.epcis_event_y2025m03") == 2
        assert _rows(engine, KEY_TABLE) == 13
        assert pending_changes(engine) == []
        assert app.ledger.verify().ok
        declared, _ctx, _token = app.trace.events(parse_event_query({"EXISTS_errorDeclaration": ""}))
        assert [e["eventID"] for e in declared] == [wrong["eventID"]]
        app.trace.capture(document(fitted("urn:epc:id:sgtin:0614141.100003.A", "2025-06-01T08:00:00Z")), actor="plant")
        assert _rows(engine, f"{SCHEMA}.epcis_event_y2025m06") == 2
    finally:
        app.close()
        engine.dispose()


# --- the command line -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("fresh_cli_state")
def test_cli_says_sqlite_is_not_partitioned(sqlite_url: str) -> None:
    code, out = run_cli(sqlite_url, "partitions", "list")
    assert code == 1 and "PostgreSQL-only" in out


@pytest.mark.postgres
@pytest.mark.usefixtures("fresh_cli_state")
def test_cli_lists_creates_and_detaches_months(pg_cluster: PgCluster) -> None:
    url = template_database(pg_cluster)
    code, out = run_cli(url, "partitions", "create", "--ahead", "0", "--month", "2023-04")
    assert code == 0 and "epcis_event_y2023m04" in out
    code, out = run_cli(url, "partitions", "create", "--ahead", "0", "--from-default")
    assert code == 0 and "created 0 partition(s)" in out
    code, out = run_cli(url, "partitions", "create", "--month", "April")
    assert code == 1 and "YYYY-MM" in out
    code, listed = run_cli(url, "partitions", "list", "--json")
    assert code == 0 and {"name": f"{SCHEMA}.epcis_event_y2023m04", "month": "2023-04", "rows": 0} \
        .items() <= next(p for p in listed if p["month"] == "2023-04").items()
    assert listed[-1]["month"] is None  # the default partition
    code, out = run_cli(url, "partitions", "detach", "2023-04")
    assert code == 1 and "--yes" in out
    code, out = run_cli(url, "partitions", "detach", "2023-04", "--yes", "--actor", "dba@example.com")
    assert code == 0 and "detached" in out
    code, out = run_cli(url, "partitions", "detach", "2023-04", "--yes")
    assert code == 1 and "no attached partition" in out
    code, entries = run_cli(url, "ledger", "show", "--json", "--actor", "dba@example.com")
    assert [e["action"] for e in entries] == ["events.partition.detach"]


@pytest.mark.postgres
def test_serving_creates_the_months_ahead(pg_app: Roadpass, sqlite_app: Roadpass) -> None:
    with pg_app.engine.begin() as conn:  # as if the server last started long ago: no month ahead left
        for partition in EventPartitions(pg_app.engine).attached()[:-1]:
            conn.execute(text(f"DROP TABLE {SCHEMA}.{partition.name}"))
    lines = before_serve(pg_app)
    assert "created 4 partition(s)" in lines[0]
    assert [p.month for p in EventPartitions(pg_app.engine).attached()][:4] == months_ahead(time.time_ns() // 1000, 3)
    assert before_serve(sqlite_app) == []


@pytest.mark.postgres
def test_downgrade_brings_back_the_plain_table_with_its_rows(pg_app: Roadpass) -> None:
    pg_app.trace.capture(document(*[fitted(f"urn:epc:id:sgtin:0614141.100005.{n}", f"2025-0{n}-02T08:00:00Z")
                                for n in range(1, 4)]), actor="plant")
    with pg_app.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0021")  # the migrations after it first (0031)
        command.downgrade(alembic_config(conn), "0021@-1")
    assert not EventPartitions(pg_app.engine).available()
    assert _rows(pg_app.engine, "epcis_event") == 3
    assert pending_changes(pg_app.engine) == []
    assert pg_app.ledger.verify().ok
    upgrade(pg_app.engine)
    assert EventPartitions(pg_app.engine).available() and _rows(pg_app.engine, KEY_TABLE) == 3
