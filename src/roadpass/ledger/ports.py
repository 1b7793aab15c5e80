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

    def entries_with_action(self, action: str) -> list[LedgerEntry]:
        """Every entry recording ``action``, in chain order."""
        ...

    def attached_event_partitions(self) -> frozenset[str]:
        """The partitions attached to the event table now, schema-qualified (none where it is not
        partitioned)."""
        ...

    def event_partition_jobs(self, partition: str) -> frozenset[int] | None:
        """The capture jobs whose events a partition table of the event table holds (schema-qualified name,
        as ``roadpass.ledger.archive`` accepts it); None when there is no such table."""
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
