"""What the master data service needs from persistence (implemented by :mod:`roadpass.store.master_data`).

Capture writes master data versions through :class:`roadpass.trace.ports.TraceRecords`; these records only
read them back. They decide nothing: which version stood when, and which name to show, is decided in
:mod:`roadpass.trace.master_data`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from roadpass.ports import Transactions
from roadpass.trace.master_data import MasterDataQuery, VocabularyElement

__all__ = ["MasterDataRecords", "MasterDataStore"]


class MasterDataRecords(Protocol):
    """The stored master data versions inside one transaction."""

    def current_elements(
        self, query: MasterDataQuery, after: tuple[str, str] | None, limit: int
    ) -> list[VocabularyElement]:
        """Up to ``limit`` elements matching the query's type, key and key-prefix filters, ordered by (type,
        key) and after ``after``, each with its latest version only. With name text, elements whose name or
        attributes contain it (case-insensitive; the service applies the exact rule)."""
        ...

    def histories(self, keys: Sequence[str], vocabulary_type: str | None = None) -> list[VocabularyElement]:
        """Every element with one of ``keys`` (of that type only, if given), with all its versions."""
        ...


MasterDataStore = Transactions[MasterDataRecords]
"""Read transactions on the master data (the service never writes: capture does)."""
