"""One unit of work per transaction: it commits when the block ends cleanly and rolls back otherwise.

Helpers receive the open connection and never commit themselves, so a failed request leaves no half-write.
:class:`StoreTransactions` hands a feature's records object (built on the open connection) to a domain
service instead of the connection itself (see :mod:`roadpass.ports`).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from roadpass.store.engine import WRITE_OPTION, is_sqlite

__all__ = ["FairWriterLock", "ProcessTurnstile", "StoreTransactions", "UnitOfWork"]

RecordsT = TypeVar("RecordsT")


class FairWriterLock:
    """A re-entrant lock that hands itself to waiting threads in arrival order.

    ``threading.RLock`` is not fair: a thread that releases it and asks again at once (a bulk capture
    committing document after document) usually gets it back before a waiting thread is even scheduled,
    so another writer of the process (the subscription worker, an API request) could wait for the whole
    load. Here a thread that asks while others wait queues behind them."""

    def __init__(self, processes: ProcessTurnstile | None = None) -> None:
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._waiting: deque[int] = deque()
        self._processes = processes

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
        if self._processes is not None:
            try:
                self._processes.enter()
            except BaseException:
                self.__exit__()
                raise

    def __exit__(self, *exc: object) -> None:
        with self._state:
            if self._depth == 1 and self._processes is not None:
                self._processes.leave()
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._state.notify_all()


class ProcessTurnstile:
    """Writers of several processes on one SQLite file take turns (the delivery worker beside a bulk capture).

    Between processes SQLite offers only its busy handler, whose sleeps grow to 100 ms: a process that commits
    and begins again at once keeps the lock, and the other waits for the whole load. Two ``flock`` files next
    to the database make a turnstile: a writer passes the turnstile, then waits for the writer lock, and only
    then frees the turnstile. A process that wants to write again while another waits finds the turnstile
    held by the waiter, so the two alternate; the kernel wakes a waiter the moment a lock is freed, and frees
    the locks of a process that dies. ``BEGIN IMMEDIATE`` still decides against writers that do not take part.
    """

    def __init__(self, database: str) -> None:
        self._database = database
        self._turnstile, self._writer = self._open()

    def _open(self) -> tuple[int, int]:
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
        return (os.open(f"{self._database}-turnstile", flags, 0o600),
                os.open(f"{self._database}-writer", flags, 0o600))

    def enter(self) -> None:
        """Wait for this process's turn to write (the thread holds the process's own writer lock)."""
        if self._turnstile < 0:  # closed with its application, then written to again: open anew
            self._turnstile, self._writer = self._open()
        fcntl.flock(self._turnstile, fcntl.LOCK_EX)
        try:
            fcntl.flock(self._writer, fcntl.LOCK_EX)
        finally:
            fcntl.flock(self._turnstile, fcntl.LOCK_UN)

    def leave(self) -> None:
        """The write transaction ended: the next process in line may write."""
        if self._writer >= 0:  # closing the file released the lock already
            fcntl.flock(self._writer, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release the lock files (an application closed and built again must not keep two descriptors
        per build: a long test run would run out of the descriptors select() can watch)."""
        if self._turnstile >= 0:
            os.close(self._turnstile)
            os.close(self._writer)
            self._turnstile = self._writer = -1


class UnitOfWork:
    """Opens read and write transactions on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite has one writer at a time. Writers of this process queue here, so that a waiting writer is
        # woken when the lock is free instead of polling through SQLite's busy handler, whose back-off sleeps
        # grow to 100 ms (sqlite3.c, sqliteDefaultBusyCallback), and in arrival order, so that no writer
        # starves behind a bulk load; BEGIN IMMEDIATE still orders processes.
        self._processes = _turnstile(engine) if is_sqlite(engine) else None
        self._writer: FairWriterLock | nullcontext[None] = (
            FairWriterLock(self._processes) if is_sqlite(engine) else nullcontext()
        )

    def close(self) -> None:
        """Release what the unit of work holds besides the engine's pool (the turnstile's lock files)."""
        if self._processes is not None:
            self._processes.close()

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


def _turnstile(engine: Engine) -> ProcessTurnstile | None:
    """The process turnstile of a SQLite file database (an in-memory one has a single process)."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return ProcessTurnstile(database)


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
