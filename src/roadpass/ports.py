"""What a domain service asks of persistence, without knowing how it is kept (dependency inversion).

Each feature declares, in its own ``ports`` module, the records it reads and writes inside one
transaction (a :class:`typing.Protocol`); ``roadpass.store`` implements them on SQLAlchemy and
``roadpass.bootstrap`` hands the implementation to the service. A service opens a transaction with
``read()`` or ``write()``: a write commits when the block ends cleanly and rolls back otherwise, so a failed
request leaves no half-write (the cosmicpython unit-of-work pattern).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

__all__ = ["Transactions"]

RecordsT_co = TypeVar("RecordsT_co", covariant=True)


class Transactions(Protocol[RecordsT_co]):
    """Opens read and write transactions, each handing out the feature's records for that transaction."""

    def read(self) -> AbstractContextManager[RecordsT_co]:
        """A read-only transaction: a consistent snapshot, always rolled back."""
        ...

    def write(self) -> AbstractContextManager[RecordsT_co]:
        """A write transaction (the single writer on SQLite); commits on clean exit, rolls back otherwise."""
        ...
