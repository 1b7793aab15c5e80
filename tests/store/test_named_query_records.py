"""Named-query rows on SQLite and PostgreSQL: a live name is unique, a deleted one is free again, and the
ledger entries on a deleted query still verify."""

from __future__ import annotations

from roadpass.bootstrap import Roadpass
from roadpass.store.named_queries import SqlNamedQueryRecords
from roadpass.trace.named_queries import create_ledger, delete_ledger


def test_a_live_name_is_unique_and_a_deleted_one_free(app: Roadpass) -> None:
    with app.uow.write() as conn:
        records = SqlNamedQueryRecords(conn)
        first = records.insert(name="q", query={"EQ_bizStep": ["shipping"]}, party_id=None, actor="a", at=1)
        assert first is not None
        records.append_ledger("a", *create_ledger(first))
        # The unique index refuses a second live "q" without spoiling the transaction (a savepoint).
        assert records.insert(name="q", query={}, party_id=None, actor="b", at=2) is None
        records.mark_deleted(first, actor="a", at=3)
        records.append_ledger("a", *delete_ledger(first))
        second = records.insert(name="q", query={}, party_id=None, actor="b", at=4)
        assert second is not None and second != first
    with app.uow.read() as conn:
        records = SqlNamedQueryRecords(conn)
        live = records.live("q")
        assert live is not None and live.id == second and live.query == {} and live.actor == "b"
        assert [q.id for q in records.listing(party_id=None, after=None, limit=10)] == [second]
        assert records.listing(party_id=None, after="q", limit=10) == []
    assert app.ledger.verify().ok
