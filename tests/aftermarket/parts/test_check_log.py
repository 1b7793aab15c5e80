"""The maker's check log is written by group commit: no check returns before its row is committed, concurrent
checks share transactions, and a failed transaction fails every check it carried (none is answered unlogged).
DB-free with a fake store, then concurrent checks on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import text

from roadpass.aftermarket.parts.service import CheckLog
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet


class FakeRecords:
    """Rows logged in the open transaction."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self.rows: list[dict[str, Any]] = []

    def log_check(self, **row: Any) -> None:
        if row["part_key"] == "poison":
            raise RuntimeError("disk full")
        self.rows.append(row)


class FakeStore:
    """Transactions that commit rows to ``committed``; each transaction takes a little while."""

    def __init__(self) -> None:
        self.committed: list[dict[str, Any]] = []
        self.transactions = 0
        self.slow = threading.Event()

    @contextmanager
    def read(self) -> Iterator[FakeRecords]:
        yield FakeRecords(self)

    @contextmanager
    def write(self) -> Iterator[FakeRecords]:
        records = FakeRecords(self)
        self.slow.wait(0.005)
        yield records
        self.transactions += 1
        self.committed.extend(records.rows)


def test_every_row_is_committed_before_its_check_returns_and_transactions_are_shared() -> None:
    store = FakeStore()
    log = CheckLog(store)  # type: ignore[arg-type]
    seen_committed: list[bool] = []
    lock = threading.Lock()

    def check(n: int) -> None:
        log.write({"part_key": f"p{n}"})
        with lock:
            seen_committed.append(any(r["part_key"] == f"p{n}" for r in store.committed))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(check, range(400)))
    assert sorted(r["part_key"] for r in store.committed) == sorted(f"p{n}" for n in range(400))
    assert all(seen_committed) and len(seen_committed) == 400
    assert store.transactions < 400  # concurrent checks shared transactions


def test_a_failed_transaction_fails_each_check_it_carried_and_the_log_goes_on() -> None:
    store = FakeStore()
    log = CheckLog(store)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="disk full"):
        log.write({"part_key": "poison"})
    log.write({"part_key": "after"})
    assert [r["part_key"] for r in store.committed] == ["after"]


def test_a_batch_is_bounded_and_the_writer_s_own_row_is_always_in_it() -> None:
    store = FakeStore()
    log = CheckLog(store)  # type: ignore[arg-type]
    log.batch = 2
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: log.write({"part_key": f"p{n}"}), range(40)))
    assert len(store.committed) == 40 and store.transactions >= 14  # at most 2 + the writer's own each


def test_concurrent_checks_are_each_logged_once(app: Roadpass) -> None:
    load_fleet(app, FleetSpec(vehicles=3))
    with app.uow.read() as conn:
        vin = conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL ORDER BY vin")).scalars().first()
    part = app.trace.as_built(vin).children[0].key
    with ThreadPoolExecutor(max_workers=8) as pool:
        verdicts = list(pool.map(lambda n: app.parts.check(part, checker=f"c{n}", vin=vin).verdict.value,
                                 range(24)))
    assert set(verdicts) == {"genuine"}
    logged = app.parts.checks(maker_key=None, limit=100)
    assert sorted(r["checker"] for r in logged) == sorted(f"c{n}" for n in range(24))
