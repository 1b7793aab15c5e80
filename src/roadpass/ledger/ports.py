"""What the ledger service needs from persistence (implemented by :mod:`roadpass.store.ledger`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from roadpass.ledger.chain import LedgerEntry, Subject

__all__ = ["LedgerRecords"]


class LedgerRecords(Protocol):
    """The ledger's rows inside one transaction."""

    def count(self) -> int:
        """How many entries the chain holds."""
        ...

    def head(self) -> tuple[int, str] | None:
        """The recorded chain head: (sequence number, entry hash), None before the first entry."""
        ...

    def iter_entries(self) -> Iterator[LedgerEntry]:
        """Every entry in chain order."""
        ...

    def rows_hash(self, subjects: Sequence[Subject]) -> str:
        """The content hash of the rows ``subjects`` name, as they are stored now."""
        ...

    def entries(
        self, *, limit: int, actor: str | None = None, actor_prefix: str | None = None, subject: str | None = None
    ) -> list[LedgerEntry]:
        """The newest entries, newest first: of one actor, of actors starting with ``actor_prefix``, or
        naming ``subject`` (a subject value)."""
        ...

    def entries_for_unit(self, unit_key: str, *, limit: int, actor_prefix: str | None = None) -> list[LedgerEntry]:
        """The newest entries of the captures that recorded events naming a unit."""
        ...
