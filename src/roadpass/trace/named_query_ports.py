"""What the named-query service needs from persistence (implemented by :mod:`roadpass.store.named_queries`).

The records read and write named-query rows and append ledger entries; which name is free, who may see a
query and what an entry records are decided in :mod:`roadpass.trace.named_queries` and the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.trace.named_queries import NamedQuery

__all__ = ["NamedQueryRecords", "NamedQueryStore"]


class NamedQueryRecords(Protocol):
    """The named-query table inside one transaction."""

    def live(self, name: str) -> NamedQuery | None:
        """The query called ``name`` that is not deleted."""
        ...

    def listing(self, *, party_id: int | None, after: str | None, limit: int) -> list[NamedQuery]:
        """Queries not deleted, by name, after ``after`` (of party ``party_id`` only, unless None)."""
        ...

    def insert(self, *, name: str, query: dict[str, Any], party_id: int | None, actor: str, at: int) -> int | None:
        """Store a new query; its row id, or None when a live query already has the name."""
        ...

    def mark_deleted(self, row_id: int, *, actor: str, at: int) -> None:
        """Mark a query deleted (its row stays: the ledger entry that created it still verifies)."""
        ...

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...


class NamedQueryStore(Transactions[NamedQueryRecords], Protocol):
    """Transactions on the named-query table."""
