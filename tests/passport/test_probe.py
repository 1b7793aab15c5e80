"""The store's change probe for the rendered-view cache, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from roadpass.bootstrap import Roadpass
from roadpass.store.passports import DataVersionProbe


def test_the_probe_moves_on_every_commit_on_a_sqlite_file_and_offers_no_proof_elsewhere(app: Roadpass) -> None:
    probe = DataVersionProbe(app.engine)
    before = probe.data_version()
    if app.engine.url.get_backend_name() != "sqlite":
        assert before is None  # PostgreSQL: no cheap proof, so a cached view is never trusted blindly
        return
    assert isinstance(before, int)
    assert probe.data_version() == before  # nothing committed: it stands still
    with app.uow.read():
        pass
    assert probe.data_version() == before  # a read commits nothing
    app.epr.register_producer("p", "DE", "DE-1", models=["m"], actor="test")
    assert probe.data_version() != before  # another connection committed


def test_a_version_seen_in_one_thread_is_never_trusted_after_a_commit_in_another(app: Roadpass) -> None:
    """Per-connection ``data_version`` values are not comparable between threads: the probe's version is
    process-wide, so a thread that opens its probe after a commit never repeats a version from before it."""
    if app.engine.url.get_backend_name() != "sqlite":
        return
    probe = DataVersionProbe(app.engine)
    before = probe.data_version()
    app.epr.register_producer("p", "DE", "DE-1", models=["m"], actor="test")
    seen: list[int | None] = []
    thread = threading.Thread(target=lambda: seen.append(probe.data_version()))
    thread.start()
    thread.join()
    assert seen[0] != before  # a new thread's first look after the commit
    assert probe.data_version() not in (before,)  # and this thread sees the commit too
    settled = probe.data_version()
    other: list[int | None] = []
    thread = threading.Thread(target=lambda: other.extend([probe.data_version(), probe.data_version()]))
    thread.start()
    thread.join()
    assert other[1] == other[0]  # standing still within a thread once it has looked
    assert probe.data_version() == other[1] and settled is not None


def test_new_threads_do_not_move_the_version_when_nothing_was_committed(app: Roadpass) -> None:
    """A server's pool starts threads as load grows: their first looks must not throw away every kept answer
    (they did while each thread had a probe of its own). One commit moves the version once, for everyone."""
    if app.engine.url.get_backend_name() != "sqlite":
        return
    probe = DataVersionProbe(app.engine)
    before = probe.data_version()
    looks: list[int | None] = []
    threads = [threading.Thread(target=lambda: looks.append(probe.data_version())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert looks == [before] * 8
    app.epr.register_producer("p", "DE", "DE-1", models=["m"], actor="test")
    after = probe.data_version()
    assert after is not None and before is not None and after == before + 1
    assert probe.data_version() == after
    probe.close()
    assert probe.data_version() != after  # a fresh probe cannot prove nothing happened while it was closed
