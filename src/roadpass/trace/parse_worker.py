"""The capture pipeline's parsing process: parses the next documents while this process stores the current
one, and never outlives the process that started it.

The storing process unpickles each answer in its own thread, when it asks for the next document. A process
pool does it in a result thread instead, which reads the pipe 64 KiB at a time and takes the GIL back after
each read, and the storing thread waits for it each time (on a 20,000-vehicle load on SQLite its INSERTs
took about 19 µs per event longer beside the pool's result thread). The bodies go out through a thread that
writes each in one call, and the worker's answers come back the same way: no side ever waits on the other's
reading, so neither can wait for ever. Beside a database server the storing thread spends most of its time
waiting for the server's answers, without the GIL: there a thread of its own receives and unpickles the
worker's answers as they come, in that waiting time (PostgreSQL capture of 20,000 vehicles: 3,990 → 4,230
events/s).

Both processes allocate and free millions of small objects (parsed events, rows, pickled answers). Left as
it is, the cyclic garbage collector runs a full collection over the whole long-lived heap every few
thousand events: 15.5 µs per event in the storing process on that load (11.5 µs in full collections). While
a bulk load runs, the heap that was there before it is frozen out of collection and young collections
run every 50,000 allocations instead of 700 (:func:`bulk_load_gc`): 1.0 µs per event, and capture 12 %
faster (4,450 → 4,983 events/s). The worker does the same from its start, which also keeps it from touching
(and so copying) the pages of the heap it inherited by ``fork``.

A forked worker inherits the write end of its own task pipe, so when its parent dies (``kill -9`` of a
``roadpass demo``) it never reads end-of-file and would wait, idle, for ever. It asks the kernel to kill it
with its parent (Linux ``prctl(PR_SET_PDEATHSIG)``) and, everywhere, watches the parent id.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any, TypeVar

__all__ = ["ParseWorkerDied", "bulk_load_gc", "die_with_parent", "parsed_ahead"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCH_SECONDS = 1.0
T = TypeVar("T")


class ParseWorkerDied(RuntimeError):
    """The parsing process ended before it answered (killed, out of memory)."""


#: Young collections during a bulk load: one per this many container allocations (CPython's default is 700).
BULK_GC_THRESHOLD = (50_000, 20, 20)

_bulk_loads = 0
_bulk_lock = threading.Lock()
_thresholds_before: tuple[int, int, int] = gc.get_threshold()


@contextmanager
def bulk_load_gc() -> Iterator[None]:
    """While a bulk load runs in this process: the heap allocated before it frozen out of the collector's
    reach, and young collections seldom (:data:`BULK_GC_THRESHOLD`). Loads may nest or overlap; the first
    to start sets it up, the last to end puts the collector back as it was."""
    global _bulk_loads, _thresholds_before
    with _bulk_lock:
        _bulk_loads += 1
        if _bulk_loads == 1:
            _thresholds_before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*BULK_GC_THRESHOLD)
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_loads -= 1
            if _bulk_loads == 0:
                gc.set_threshold(*_thresholds_before)
                gc.unfreeze()


#: Bodies handed to the worker before the first answer is taken: it has the next one ready while this process
#: stores, even after a small document.
AHEAD = 3


def parsed_ahead(
    bodies: Iterable[bytes], parse: Callable[[bytes], T], *, receive_in_thread: bool = False
) -> Iterator[T]:
    """``parse(body)`` of each body in order, computed in a worker process up to :data:`AHEAD` documents
    ahead of the caller. An exception ``parse`` raises is raised here, at its document; the worker ends with
    the iterator (exhausted, closed or collected) and with this process.

    ``receive_in_thread``: a thread of this process receives and unpickles the answers as they come, for a
    caller that mostly waits on a database server with the GIL released (then the unpickling costs it
    nothing); else the caller's own thread does it when it asks for the next one."""
    context = multiprocessing.get_context("fork") if sys.platform == "linux" else multiprocessing.get_context("spawn")
    tasks_out, tasks_in = context.Pipe(duplex=False)
    results_out, results_in = context.Pipe(duplex=False)
    worker = context.Process(target=_serve, args=(os.getpid(), tasks_out, results_in, parse, (tasks_in, results_out)),
                             name="roadpass-parse", daemon=True)
    worker.start()
    tasks_out.close()
    results_in.close()
    outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
    feeder = threading.Thread(target=_send, args=(tasks_in, outgoing), name="roadpass-parse-bodies", daemon=True)
    feeder.start()
    receiver = None
    take: Callable[[], tuple[bool, Any]] = results_out.recv
    if receive_in_thread:
        received: queue.SimpleQueue[tuple[bool, Any] | None] = queue.SimpleQueue()
        receiver = threading.Thread(target=_receive, args=(results_out, received), name="roadpass-parse-receive",
                                    daemon=True)
        receiver.start()
        take = functools.partial(_taken, received)
    try:
        sent = taken = 0
        for body in bodies:
            outgoing.put(body if isinstance(body, bytes) else bytes(body))
            sent += 1
            if sent - taken > AHEAD:
                taken += 1
                yield _result(take, worker)
        outgoing.put(None)  # the worker reads end-of-file and stops once it has answered the rest
        while taken < sent:
            taken += 1
            yield _result(take, worker)
    finally:
        outgoing.put(None)
        if receiver is None:
            results_out.close()
        worker.join(timeout=5)
        if worker.is_alive():
            worker.kill()
            worker.join()
        if receiver is not None:  # the worker's end closed: the receiver reads end-of-file and stops
            receiver.join(timeout=5)
            results_out.close()
        feeder.join(timeout=5)


def _receive(results: Connection, into: queue.SimpleQueue[tuple[bool, Any] | None]) -> None:
    try:
        while True:
            into.put(results.recv())
    except (EOFError, OSError):
        into.put(None)


def _taken(received: queue.SimpleQueue[tuple[bool, Any] | None]) -> tuple[bool, Any]:
    answer = received.get()
    if answer is None:
        received.put(None)  # every later ask ends the same way
        raise EOFError
    return answer


def _result(take: Callable[[], tuple[bool, Any]], worker: multiprocessing.process.BaseProcess) -> Any:
    try:
        failed, value = take()
    except EOFError:
        worker.join(timeout=5)
        raise ParseWorkerDied(f"the parsing process ended before it answered (exit code {worker.exitcode})") from None
    if failed:
        raise value
    return value


def _serve(
    parent: int, tasks: Connection, results: Connection, parse: Callable[[bytes], Any], theirs: tuple[Connection, ...]
) -> None:
    """The worker: parse each body in order; ``(False, result)`` or ``(True, exception)`` goes back."""
    die_with_parent(parent)
    for end in theirs:  # the storing process's ends, inherited: with them open no end-of-file would come
        end.close()
    gc.freeze()  # the inherited heap: never collected here, so never copied either
    gc.set_threshold(*BULK_GC_THRESHOLD)
    answers: queue.SimpleQueue[tuple[bool, Any] | None] = queue.SimpleQueue()
    sender = threading.Thread(target=_send, args=(results, answers), name="roadpass-parse-answers", daemon=True)
    sender.start()
    try:
        while True:
            body = tasks.recv_bytes()
            try:
                answers.put((False, parse(body)))
            except Exception as exc:  # raised again in the storing process, at its document
                answers.put((True, exc))
    except (EOFError, OSError):
        pass  # no more bodies: answer the rest, then end
    answers.put(None)
    sender.join()


def _send(pipe: Connection, items: queue.SimpleQueue[Any]) -> None:
    """Write each item (a body as it is, an answer pickled) in one call, until ``None``; then close."""
    try:
        while (item := items.get()) is not None:
            if isinstance(item, bytes):
                pipe.send_bytes(item)
            else:
                pipe.send_bytes(_pickled(item))
    except OSError:
        pass  # the other side stopped reading: it closed the pipeline or is gone
    finally:
        pipe.close()


def _pickled(answer: tuple[bool, Any]) -> memoryview:
    try:
        return ForkingPickler.dumps(answer)
    except Exception as exc:  # the answer does not pickle: say so instead
        refusal = RuntimeError(f"the parsing process could not send its answer back: {exc!r}")
        return ForkingPickler.dumps((True, refusal))


def die_with_parent(parent: int) -> None:
    """Called first in a worker process started by process ``parent``: end when ``parent`` is gone."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="roadpass-parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    # Where there is no death signal (or the parent was a thread that ended), the re-parenting shows it.
    while True:
        time.sleep(_WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(1)
