"""Bulk statements of the capture path, on both engines: COPY batches, set-based interning of new keys."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import text

import roadpass.store
from roadpass.bootstrap import Roadpass
from roadpass.store.bulk import COPY_MIN_ROWS, bulk_insert, insert_new_keys, lock_writer, observe_copies
from roadpass.store.engine import is_postgresql
from roadpass.store.trace_write import intern_units, market_times
from roadpass.trace.timeutil import FOREVER
from statements import count_statements


def _units(count: int, prefix: str = "urn:test:unit:") -> dict[str, tuple[int, str | None]]:
    return {f"{prefix}{i:05d}": (1, None) for i in range(count)}


def test_a_batch_is_copied_on_postgresql_and_inserted_on_sqlite(app: Roadpass) -> None:
    seen: list[tuple[str, int]] = []

    def observer(table: str, _columns: Any, rows: list[Any]) -> None:
        seen.append((table, len(rows)))

    rows = [(i + 1, i + 2, 1, i, FOREVER, 7, None) for i in range(COPY_MIN_ROWS * 3)]
    observe_copies(observer)
    try:
        with app.uow.write() as conn:
            bulk_insert(conn, "link", ("parent_id", "child_id", "kind", "valid_from", "valid_to", "event_pk",
                                       "closed_by"), rows)
            bulk_insert(conn, "link", ("parent_id", "child_id", "kind", "valid_from", "valid_to", "event_pk",
                                       "closed_by"), rows[:2])
    finally:
        observe_copies(observer, stop=True)
    with app.uow.read() as conn:
        stored = conn.exec_driver_sql("SELECT parent_id, child_id, valid_to, closed_by FROM link ORDER BY id").all()
    assert [tuple(r) for r in stored] == [(r[0], r[1], FOREVER, None) for r in [*rows, *rows[:2]]]
    # Only the big batch goes by COPY (a short one costs no more as executemany), and only on PostgreSQL.
    assert seen == ([("link", len(rows))] if is_postgresql(app.engine) else [])


def test_new_keys_are_inserted_once_and_known_ones_skipped(app: Roadpass) -> None:
    for size in (3, COPY_MIN_ROWS * 40):  # below and above the staging threshold
        first = _units(size, prefix=f"urn:test:{size}:")
        with app.uow.write() as conn:
            made = insert_new_keys(conn, "unit", ("kind", "vin"), first)
        assert made.keys() == first.keys() and len(set(made.values())) == size
        more = {**first, **_units(5, prefix=f"urn:test:{size}:more:")}
        with app.uow.write() as conn:
            again = insert_new_keys(conn, "unit", ("kind", "vin"), more)
        assert again.keys() == more.keys() - first.keys()
        assert not set(again.values()) & set(made.values())
    with app.uow.read() as conn:
        twice = conn.exec_driver_sql("SELECT key FROM unit GROUP BY key HAVING COUNT(*) > 1").all()
    assert twice == []


def test_look_ups_by_many_keys_and_ids_send_them_in_one_parameter(app: Roadpass) -> None:
    # A key holding the separator the joined parameter uses still finds its unit (item by item then), and
    # keys with quotes, commas and braces (array-literal syntax) are matched as they are.
    odd = ['urn:test:"quoted"', "urn:test:a,b", "urn:test:{braced}", "urn:test:back\\slash", "urn:test:x\x1fy"]
    units = {**_units(50), **dict.fromkeys(odd, (3, None))}
    with app.uow.write() as conn:
        ids = insert_new_keys(conn, "unit", ("kind", "vin"), units)
    with count_statements(app) as statements, app.uow.write() as conn:
        plain = {key: kind for key, kind in units.items() if "\x1f" not in key}
        found, created = intern_units(conn, {**plain, "urn:test:new": (3, None)})
        found.update(intern_units(conn, {"urn:test:x\x1fy": (3, None)})[0])
        known = market_times(conn, [*ids.values(), 10**12])
    assert {key: found[key] for key in units} == ids and created == {found["urn:test:new"]}
    assert known == {}  # no market set; the look-up by ids ran
    if is_postgresql(app.engine):
        assert any("string_to_array" in s for s in statements) and any("::bigint[]" in s for s in statements)


def test_the_sole_writer_copies_new_units_with_ids_from_one_block_of_the_sequence(app: Roadpass) -> None:
    stored = _units(20, prefix="urn:test:stored:")
    with app.uow.write() as conn:
        before = insert_new_keys(conn, "unit", ("kind", "vin"), stored)
    new = _units(COPY_MIN_ROWS * 2, prefix="urn:test:new:")
    with count_statements(app) as statements, app.uow.write() as conn:
        lock_writer(conn)
        ids, created = intern_units(conn, {**stored, **new}, sole_writer=True)
    assert {key: ids[key] for key in stored} == before and created == {ids[key] for key in new}
    assert len(created) == len(new) and min(created) > max(before.values())
    # The sequence goes on after the block: the next unit stored through it takes a fresh id.
    with app.uow.write() as conn:
        after = insert_new_keys(conn, "unit", ("kind", "vin"), {"urn:test:after": (1, None)})
    assert after["urn:test:after"] > max(created)
    with app.uow.read() as conn:
        rows = dict(conn.exec_driver_sql("SELECT key, id FROM unit").all())
    assert rows == {**before, **{key: ids[key] for key in new}, **after}
    if is_postgresql(app.engine):  # copied, not upserted (SQLite inserts them as before)
        assert not [s for s in statements if "ON CONFLICT" in s]


def test_racing_writers_never_store_a_key_twice(app: Roadpass) -> None:
    """Two transactions insert overlapping sets at once: each key is inserted by exactly one of them."""
    shared = _units(COPY_MIN_ROWS * 20, prefix="urn:test:race:")
    mine = [{**shared, **_units(30, prefix=f"urn:test:race:{w}:")} for w in range(2)]
    results: list[dict[str, int]] = [{}, {}]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(w: int) -> None:
        try:
            start.wait()
            with app.uow.write() as conn:
                results[w] = insert_new_keys(conn, "unit", ("kind", "vin"), mine[w])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert results[0].keys().isdisjoint(results[1].keys())
    assert results[0].keys() | results[1].keys() == mine[0].keys() | mine[1].keys()
    with app.uow.read() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM unit WHERE key LIKE 'urn:test:race:%'")).scalar_one()
    assert count == len(mine[0].keys() | mine[1].keys())


def _migration_0020() -> Any:
    path = Path(roadpass.store.__file__).parent / "migrations" / "versions" / "0020_capture_id_sequences.py"
    spec = importlib.util.spec_from_file_location("migration_0020", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0020_lifts_sequences_above_explicit_ids(app: Roadpass) -> None:
    """A database written by the explicit-id capture (MAX(id) + 1) keeps working once capture lets the
    database assign unit and link ids."""
    with app.uow.write() as conn:
        conn.exec_driver_sql("INSERT INTO unit (id, key, kind) VALUES (500, 'urn:test:old', 1)")
        conn.exec_driver_sql("INSERT INTO link (id, parent_id, child_id, kind, valid_from, valid_to, event_pk) "
                             f"VALUES (700, 500, 500, 1, 0, {FOREVER}, 1)")
        if is_postgresql(app.engine):  # as an old database has them: never moved
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('unit', 'id'), 1, false)")
            conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('link', 'id'), 1, false)")
    with app.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        _migration_0020().upgrade()
    with app.uow.write() as conn:
        made = insert_new_keys(conn, "unit", ("kind", "vin"), _units(COPY_MIN_ROWS * 2, prefix="urn:test:new:"))
        bulk_insert(conn, "link", ("parent_id", "child_id", "kind", "valid_from", "valid_to", "event_pk"),
                    [(500, 500, 1, 0, FOREVER, 2)] * COPY_MIN_ROWS)
    assert min(made.values()) == 501
    with app.uow.read() as conn:
        assert conn.exec_driver_sql("SELECT MIN(id) FROM link WHERE event_pk = 2").scalar_one() == 701


def test_a_bulk_loads_statistics_refresh_analyses_the_capture_tables_with_a_small_sample(app: Roadpass) -> None:
    with app.uow.write() as conn:
        insert_new_keys(conn, "unit", ("kind", "vin"), _units(50))
    with count_statements(app) as statements:
        app.trace.store.refresh_statistics()
    if not is_postgresql(app.engine):
        assert statements == []  # SQLite's planner prefers the indexes without statistics
        return
    assert "SET LOCAL default_statistics_target = 10" in statements
    assert "ANALYZE unit" in statements and "ANALYZE link" in statements
    with app.uow.read() as conn:
        analysed = conn.execute(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'unit'")).scalar()
        target = conn.execute(text("SHOW default_statistics_target")).scalar()
    assert analysed is not None and target == "100"  # SET LOCAL: the session's own setting is untouched
