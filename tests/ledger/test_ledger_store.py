"""The ledger on real databases: every write appends, and an edit behind the store's back is named."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import text

from roadpass.bootstrap import Roadpass
from roadpass.store.parties import upsert_party

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


def _capture_all(app: Roadpass) -> None:
    for path in sorted(EXAMPLES.glob("*.jsonld")):
        app.trace.capture(orjson.loads(path.read_bytes()), actor="lab-a")


def test_every_write_is_attributed_and_chained(app: Roadpass) -> None:
    with app.uow.write() as conn:
        upsert_party(conn, actor="admin", key="urn:roadpass:party:catl", name="CATL", role="supplier", country="CN")
    _capture_all(app)
    report = app.ledger.verify()
    assert report.ok, report.first_mismatch
    entries = app.ledger.recent(limit=100)
    assert entries[-1].actor == "admin" and entries[-1].action == "party.create"
    assert {e.actor for e in entries} == {"admin", "lab-a"}
    assert all(e.rule for e in entries)


def test_verify_names_the_entry_whose_rows_were_edited(app: Roadpass) -> None:
    _capture_all(app)
    assert app.ledger.verify().ok
    with app.engine.begin() as conn:
        job_id = conn.execute(text("SELECT job_id FROM epcis_event ORDER BY id LIMIT 1 OFFSET 2")).scalar_one()
        conn.execute(
            text("UPDATE epcis_event SET doc = REPLACE(doc, 'OBSERVE', 'ADD') WHERE id = "
                 "(SELECT id FROM epcis_event ORDER BY id LIMIT 1 OFFSET 2)")
        )
    report = app.ledger.verify()
    assert not report.ok
    assert report.first_mismatch is not None
    entry = next(e for e in app.ledger.recent(limit=100) if e.seq == report.first_mismatch.seq)
    assert any(s.table == "epcis_event" and s.value == job_id for s in entry.subjects)
    assert "content changed" in report.first_mismatch.reason


def test_verify_names_an_edited_or_removed_entry(app: Roadpass) -> None:
    _capture_all(app)
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entry SET actor = 'mallory' WHERE seq = 2"))
    report = app.ledger.verify()
    assert report.first_mismatch is not None and report.first_mismatch.seq == 2
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entry SET actor = 'lab-a' WHERE seq = 2"))
        last = conn.execute(text("SELECT MAX(seq) FROM ledger_entry")).scalar_one()
        conn.execute(text("DELETE FROM ledger_entry WHERE seq = :s"), {"s": last})
    report = app.ledger.verify()
    assert not report.ok
    assert "removed" in (report.first_mismatch.reason if report.first_mismatch else "")
