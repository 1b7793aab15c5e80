"""What the parts check needs from persistence (implemented by :mod:`roadpass.store.aftermarket_network`),
from the access feature (who holds a company prefix) and, when it is there, from the recall campaigns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from roadpass.aftermarket.parts.model import StolenReport

__all__ = ["PartRecords", "PrefixHolders", "RecallLookup"]


class PrefixHolders(Protocol):
    """The access feature's parties (``roadpass.access.service.AccessService`` fits)."""

    def parties(self, *, role: str | None = None) -> Sequence[Any]:
        """Parties, each with ``key``, ``name`` and ``gcp`` (GS1 company prefix or None)."""
        ...


class RecallLookup(Protocol):
    """The recall campaigns (``roadpass.aftermarket.recalls``' service fits), when that feature is present."""

    def open_recalls_for(self, identifier: str) -> Sequence[Any]:
        """The open recall campaigns that cover the unit ``identifier``."""
        ...


class PartRecords(Protocol):
    """The parts tables inside one transaction."""

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> int:
        """Append the ledger entry covering the rows ``op_id`` wrote in ``tables``."""
        ...

    def stolen(self, part_key: str) -> StolenReport | None:
        """The standing stolen report of a part (None when never reported or recovered since)."""
        ...

    def add_stolen_report(self, part_key: str, *, status: str, reference: str, at: int, actor: str,
                          op_id: str) -> None:
        """Store a report: ``stolen`` or ``recovered``."""
        ...

    def log_check(self, *, checked_at: int, part_key: str, maker_key: str | None, checker: str,
                  vin: str | None, verdict: str, reasons: str) -> None:
        """Store one check in the maker's log."""
        ...

    def checks(self, *, maker_key: str | None, limit: int) -> list[dict[str, Any]]:
        """The most recent checks (of one maker's parts), newest first."""
        ...
