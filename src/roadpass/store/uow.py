"""One unit of work per transaction: it commits when the block ends cleanly and rolls back otherwise.

Helpers receive the open connection and never commit themselves, so a failed request leaves no half-write.
:class:`StoreTransactions` hands a feature's records object (built on the open connection) to a domain
service instead of the connection itself (see :mod:`roadpass.ports`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from roadpass.store.engine import WRITE_OPTION, is_sqlite

__all__ = ["FairWriterLock", "StoreTransactions", "UnitOfWork"]

RecordsT = TypeVar("RecordsT")


class FairWriterLock:
    """A re-entrant lock that hands itself to waiting threads in arrival order.

    ``threading.RLock`` is not fair: a thread that releases it and asks again at once (a bulk capture
    committing document after document) usually gets it back before a waiting thread is even scheduled,
    so another writer of the process (the subscription worker, an API request) could wait for the whole
    load. Here a thread that asks while others wait queues behind them."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._waiting: deque[int] = deque()

    def __enter__(self) -> None:
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
                return
            self._waiting.append(me)
            try:
                while self._owner is not None or self._waiting[0] != me:
                    self._state.wait()
            except BaseException:  # interrupted while queueing (KeyboardInterrupt): leave the queue
                self._waiting.remove(me)
                self._state.notify_all()
                raise
            self._waiting.popleft()
            self._owner, self._depth = me, 1

    def __exit__(self, *exc: object) -> None:
        with self._state:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._state.notify_all()


class UnitOfWork:
    """Opens read and write transactions on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time. Writers of this process queue here, so that a waiting writer is
        # woken when the lock is free instead of polling through SQLite's busy handler, whose back-off sleeps
        # grow to 100 ms (sqlite3.c, sqliteDefaultBusyCallback), and in arrival order, so that no writer
        # starves behind a bulk load; BEGIN IMMEDIATE still orders processes.
        self._writer: FairWriterLock | nullcontext[None] = FairWriterLock() if is_sqlite(engine) else nullcontext()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``, the single writer); commit on clean exit."""
        with self._writer, self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction: a consistent snapshot that is always rolled back."""
        with self.engine.connect() as conn:
            trans = conn.begin()
            try:
                yield conn
            finally:
                trans.rollback()


class StoreTransactions(Generic[RecordsT]):
    """:class:`roadpass.ports.Transactions` on a unit of work: each transaction gets ``records(conn)``."""

    def __init__(self, uow: UnitOfWork, records: Callable[[Connection], RecordsT]) -> None:
        self.uow = uow
        self.records = records

    @contextmanager
    def read(self) -> Iterator[RecordsT]:
        """A read transaction's records."""
        with self.uow.read() as conn:
            yield self.records(conn)

    @contextmanager
    def write(self) -> Iterator[RecordsT]:
        """A write transaction's records; commits on clean exit."""
        with self.uow.write() as conn:
            yield self.records(conn)
