"""Several writers at once (processes, and threads inside each, as API workers and ``roadpass capture``
processes are): the stored genealogy still matches the reference model, no unit is stored twice, no event
or link is lost, and the ledger chain does not fork. Documents of different writers name the same units
(a few vehicles, packs and modules), so containment planning and replays meet each other's facts."""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import threading
from datetime import timedelta
from typing import Any

import pytest
from reference_model import FOREVER, Fact, ReferenceModel
from test_genealogy_property import LOTS, MODULES, PACKS, T0, UNITS, VEHICLES, V, _document, _event

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings
from roadpass.trace.capture_plan import CaptureOutcome
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import to_us

PROCESSES = 2
THREADS = 2
DOCUMENTS = 16


def _steps(rng: random.Random, count: int) -> list[tuple[str, str, str]]:
    """Random build / service / disassembly steps over a few shared units (as the property test draws)."""
    shapes = [
        (["ADD", "DELETE", "OBSERVE"], V, PACKS), (["ADD", "DELETE", "OBSERVE"], UNITS, PACKS),
        (["ADD", "DELETE"], V, UNITS), (["ADD", "DELETE", "ADD"], PACKS, MODULES), (["MADE_FROM"], MODULES, LOTS),
    ]
    out = []
    for _ in range(count):
        kinds, parents, children = rng.choice(shapes)
        out.append((rng.choice(kinds), rng.choice(parents), rng.choice(children)))
    return out


def _write(url: str, documents: list[dict[str, Any]], threads: int, failures: Any) -> None:
    """One writer process: its own container (engine, unit cache, index), ``threads`` threads capturing."""
    app = bootstrap(Settings(database_url=url, environment="test"), migrate=False)
    try:
        shares = [documents[i::threads] for i in range(threads)]
        start = threading.Barrier(threads)

        def run(share: list[dict[str, Any]]) -> None:
            start.wait()
            for document in share:
                try:
                    outcome = app.trace.capture(document, actor="writer")
                    if not isinstance(outcome, CaptureOutcome) or outcome.problems:
                        failures.put(f"capture problems: {outcome}")
                except Exception as exc:  # reported to the test, which fails on it
                    failures.put(f"{type(exc).__name__}: {exc}")

        workers = [threading.Thread(target=run, args=(share,)) for share in shares]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        app.close()


def _follow(app: Roadpass, done: threading.Event) -> None:
    """Ask where-used again and again while the writers write (the index refreshes in between)."""
    targets = [canonical_id(x) for x in [*MODULES, *PACKS]]
    while not done.wait(0.01):
        for target in targets:
            with contextlib.suppress(UnitNotFound):
                app.trace.where_used(target)


def _plan(seed: int) -> tuple[list[list[dict[str, Any]]], ReferenceModel, int]:
    """Each writer's documents (events shuffled out of time order across documents), the reference model
    of all of them, and the number of events."""
    rng = random.Random(seed)
    model = ReferenceModel(vins={canonical_id(k): v for k, v in VEHICLES.items()})
    events = []
    for index, (kind, parent, child) in enumerate(_steps(rng, DOCUMENTS * 3)):
        at = to_us(T0 + timedelta(hours=index))
        model.facts.append(Fact(at, index, kind, canonical_id(parent), canonical_id(child)))
        events.append(_event(index, kind, parent, child))
    rng.shuffle(events)
    size = -(-len(events) // DOCUMENTS)
    documents = [_document(events[i : i + size]) for i in range(0, len(events), size)]
    return [documents[p::PROCESSES] for p in range(PROCESSES)], model, len(events)


def _check(app: Roadpass, model: ReferenceModel, events: int) -> None:
    with app.uow.read() as conn:
        twice = conn.exec_driver_sql("SELECT key FROM unit GROUP BY key HAVING COUNT(*) > 1").all()
        stored = conn.exec_driver_sql("SELECT COUNT(*) FROM epcis_event").scalar_one()
        open_twice = conn.exec_driver_sql(
            f"SELECT child_id FROM link WHERE kind = 1 AND valid_to = {FOREVER} GROUP BY child_id HAVING COUNT(*) > 1"
        ).all()
    assert twice == [], "a unit was stored twice"
    assert stored == events, "an event was lost"
    assert open_twice == [], "a child is open in two parents at once"
    report = app.ledger.verify()
    assert report.ok, report
    instants = [to_us(T0 + timedelta(hours=h, minutes=30)) for h in range(-1, DOCUMENTS * 3 + 1, 3)]
    for target in {canonical_id(x) for x in [*UNITS, *PACKS, *MODULES, *LOTS]}:
        if not any(target in (f.parent, f.child) for f in model.facts):
            continue
        _unit, hits = app.trace.where_used(target)
        assert {h.key: [(s.start, s.end) for s in h.spans] for h in hits} == model.where_used_ever(target), target
        for at in instants:
            _unit, hits_at = app.trace.where_used(target, at)
            assert {h.key for h in hits_at} == model.where_used_at(target, at), (target, at)
    for root in {canonical_id(x) for x in [*V, *UNITS, *PACKS]}:
        if any(root in (f.parent, f.child) for f in model.facts):
            for at in [*instants, None]:
                tree = app.trace.as_built(root, at)
                assert tree.keys() - {root} == model.subtree(root, FOREVER - 1 if at is None else at), (root, at)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_concurrent_writers_match_the_reference_model(app: Roadpass, database_url: str, seed: int) -> None:
    shares, model, events = _plan(seed)
    # The long-lived reader follows the writers as they commit: its in-memory index reads new links and
    # units by id, so ids committed out of order would leave it blind to some (a lost link).
    done = threading.Event()
    reader = threading.Thread(target=_follow, args=(app, done))
    reader.start()
    # Started fresh, not forked: a forked child gets only the forking thread, and a lock any other thread of
    # this process held at that moment stays held in the child for good (POSIX fork()). Forked from the
    # whole suite's process, writers of two SQLite runs hung until the timeout below.
    context = multiprocessing.get_context("spawn")
    failures = context.Queue()
    writers = [context.Process(target=_write, args=(database_url, share, THREADS, failures)) for share in shares]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=240)
    done.set()
    reader.join()
    hung = [w.pid for w in writers if w.is_alive()]
    for writer in writers:
        if writer.is_alive():
            writer.kill()
    assert not hung, "a writer hung (deadlock?)"
    problems = []
    while not failures.empty():
        problems.append(failures.get())
    assert problems == []
    assert [w.exitcode for w in writers] == [0] * len(writers)
    _check(app, model, events)
