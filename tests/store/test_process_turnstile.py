"""Writers of two processes on one SQLite file take turns (the delivery worker beside a bulk capture).

Two units of work on two engines hold two separate open files of the turnstile, exactly as two processes
do (``flock`` locks belong to the open file, not the process), so threads stand in for the processes here.
"""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from roadpass.store.engine import make_engine
from roadpass.store.uow import FairWriterLock, ProcessTurnstile, UnitOfWork

LOAD_WRITES = 100
PAD = [{"n": n, "body": "x" * 64} for n in range(3000)]


def test_a_second_process_writes_between_a_bulk_loads_transactions(sqlite_url: str) -> None:
    """A process that commits and begins again at once (a bulk capture) does not keep the other waiting for
    its whole load: the other's write lands between two of its transactions."""
    load, other = UnitOfWork(make_engine(sqlite_url)), UnitOfWork(make_engine(sqlite_url))
    with load.write() as conn:
        conn.execute(text("CREATE TABLE turns (n INTEGER PRIMARY KEY AUTOINCREMENT, who TEXT)"))
        conn.execute(text("CREATE TABLE pad (n INTEGER, body TEXT)"))
    started = threading.Event()

    def bulk() -> None:
        for i in range(LOAD_WRITES):
            with load.write() as conn:
                conn.execute(text("INSERT INTO turns (who) VALUES ('load')"))
                # A document's worth of rows: the load holds the lock far longer than it leaves it free.
                conn.execute(text("INSERT INTO pad VALUES (:n, :body)"), PAD)
                if i == 10:
                    started.set()

    loader = threading.Thread(target=bulk)
    loader.start()
    assert started.wait(30)
    with other.write() as conn:
        conn.execute(text("INSERT INTO turns (who) VALUES ('other')"))
    loader.join(60)
    with other.read() as conn:
        order = [row.who for row in conn.execute(text("SELECT who FROM turns ORDER BY n"))]
    assert order.count("other") == 1 and order.count("load") == LOAD_WRITES
    # It waited for at most the transaction under way (and the one already queued), not for the load.
    assert LOAD_WRITES - order.index("other") > LOAD_WRITES // 2


def test_the_lock_files_sit_beside_the_database(sqlite_url: str) -> None:
    """The turnstile's files are the database's, as its -wal and -shm are (never in the working directory)."""
    uow = UnitOfWork(make_engine(sqlite_url))
    with uow.write() as conn:
        conn.execute(text("SELECT 1"))
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    assert Path(f"{database}-turnstile").exists() and Path(f"{database}-writer").exists()


def test_a_thread_reentering_the_writer_lock_takes_the_turnstile_once(tmp_path: Path) -> None:
    """The writer lock is re-entrant within a thread: re-entering does not wait for the process's own turn."""
    lock = FairWriterLock(ProcessTurnstile(str(tmp_path / "db.sqlite3")))
    done = threading.Event()

    def nested() -> None:
        with lock, lock:
            pass
        with lock:
            done.set()

    worker = threading.Thread(target=nested, daemon=True)
    worker.start()
    assert done.wait(10)
