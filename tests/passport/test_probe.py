"""The store's change probe for the rendered-view cache, on SQLite and PostgreSQL."""

from __future__ import annotations

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
