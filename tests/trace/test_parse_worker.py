"""The capture pipeline's parsing process: answers in order, raises a document's error at that document,
never deadlocks on large bodies and answers, and ends with its iterator; a bulk load's collector settings."""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
import time

import psutil
import pytest

from roadpass.trace.parse_worker import BULK_GC_THRESHOLD, ParseWorkerDied, bulk_load_gc, parsed_ahead

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the pipeline forks its worker on Linux")


@pytest.fixture(params=[False, True], ids=["received-by-caller", "received-in-thread"])
def receive(request: pytest.FixtureRequest) -> bool:
    """Whether the answers are received by a thread of their own (beside a database server)."""
    return bool(request.param)


def _echo_upper(body: bytes) -> tuple[int, bytes]:
    if body.startswith(b"bad"):
        raise ValueError(f"cannot parse {body[:5]!r}")
    return os.getpid(), body.upper()

def test_answers_come_back_in_order_from_another_process(receive: bool) -> None:
    bodies = [f"document {n}".encode() for n in range(40)]
    answers = list(parsed_ahead(iter(bodies), _echo_upper, receive_in_thread=receive))
    assert [body for _pid, body in answers] == [b.upper() for b in bodies]
    assert {pid for pid, _body in answers} != {os.getpid()}

def test_large_bodies_and_answers_do_not_block_either_side(receive: bool) -> None:
    # Each body and each answer is far larger than a pipe's buffer, and the caller sends ahead.
    bodies = [bytes([65 + n % 26]) * 3_000_000 for n in range(12)]
    answers = list(parsed_ahead(iter(bodies), _echo_upper, receive_in_thread=receive))
    assert [body for _pid, body in answers] == [b.upper() for b in bodies]

def test_a_documents_error_is_raised_at_that_document(receive: bool) -> None:
    answers = parsed_ahead(iter([b"one", b"two", b"bad three", b"four"]), _echo_upper, receive_in_thread=receive)
    assert [next(answers)[1], next(answers)[1]] == [b"ONE", b"TWO"]
    with pytest.raises(ValueError, match="cannot parse b'bad t'"):
        next(answers)

def _unpicklable(body: bytes) -> object:
    return lambda: body


def test_an_answer_that_cannot_travel_back_is_an_error_at_its_document(receive: bool) -> None:
    with pytest.raises(RuntimeError, match="could not send its answer back"):
        next(parsed_ahead(iter([b"one"]), _unpicklable, receive_in_thread=receive))


def test_a_worker_that_dies_is_reported_not_waited_for(receive: bool) -> None:
    answers = parsed_ahead(iter([b"one"] * 5), _echo_upper, receive_in_thread=receive)
    pid, _body = next(answers)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(ParseWorkerDied, match="exit code -9"):
        for _answer in answers:
            pass

def test_the_worker_ends_when_the_caller_stops_early(receive: bool) -> None:
    answers = parsed_ahead(iter([b"one"] * 50), _echo_upper, receive_in_thread=receive)
    pid, _body = next(answers)
    answers.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie":
        time.sleep(0.05)
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
    assert "roadpass-parse-receive" not in {thread.name for thread in threading.enumerate()}


def test_a_bulk_load_tunes_the_collector_and_puts_it_back_after_the_last_of_overlapping_loads() -> None:
    before = gc.get_threshold()
    with bulk_load_gc():
        assert gc.get_threshold() == BULK_GC_THRESHOLD and gc.get_freeze_count() > 0
        with bulk_load_gc():
            pass
        assert gc.get_threshold() == BULK_GC_THRESHOLD  # the outer load still runs
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_collector_is_put_back_when_a_load_stops_early() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError, match="disk is full"), bulk_load_gc():
        raise RuntimeError("the disk is full")
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
