"""The SQLite writers' lock of one process: re-entrant, and handed to waiting threads in arrival order."""

from __future__ import annotations

import threading
import time

from roadpass.store.uow import FairWriterLock


def test_a_thread_that_asks_again_queues_behind_waiting_threads() -> None:
    lock = FairWriterLock()
    order: list[str] = []
    waiting = threading.Event()

    def other() -> None:
        waiting.set()
        with lock:
            order.append("other")

    with lock:
        with lock:  # re-entrant
            order.append("first")
        thread = threading.Thread(target=other)
        thread.start()
        waiting.wait()
        time.sleep(0.05)  # the other thread is queued now
    with lock:  # released and asked again at once: the waiting thread goes first
        order.append("again")
    thread.join()
    assert order == ["first", "other", "again"]


def test_many_threads_each_get_the_lock_and_none_is_lost() -> None:
    lock = FairWriterLock()
    count = [0]

    def work() -> None:
        for _ in range(200):
            with lock:
                value = count[0]
                count[0] = value + 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert count[0] == 1200
