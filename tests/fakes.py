"""Fakes at the ports: :class:`roadpass.ports.Transactions` over one in-memory records object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

RecordsT = TypeVar("RecordsT")


class InMemoryTransactions(Generic[RecordsT]):
    """Hands every transaction the one records object: nothing to commit or roll back (the tests that use
    it are single-threaded and do not exercise rollback)."""

    def __init__(self, records: RecordsT) -> None:
        self.records = records

    @contextmanager
    def read(self) -> Iterator[RecordsT]:
        """A read transaction's records."""
        yield self.records

    @contextmanager
    def write(self) -> Iterator[RecordsT]:
        """A write transaction's records."""
        yield self.records
