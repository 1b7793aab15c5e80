"""What the warranty feature needs from persistence (implemented by :mod:`roadpass.store.aftermarket_service`)."""

from __future__ import annotations

from typing import Protocol

from roadpass.aftermarket.warranty.model import ClaimRow, NewClaim

__all__ = ["WarrantyRecords"]


class WarrantyRecords(Protocol):
    """The warranty claim tables inside one transaction."""

    def claim(self, claim_key: str) -> ClaimRow | None:
        """A claim with its history, by key."""
        ...

    def claims_for_vin(self, vin: str, *, limit: int) -> list[ClaimRow]:
        """The vehicle's claims, latest first."""
        ...

    def insert_claim(self, claim: NewClaim, *, market: str, actor: str, at: int) -> tuple[int, int]:
        """Store a submitted claim and its first step; (claim row id, step row id)."""
        ...

    def add_step(
        self, claim_id: int, *, status: str, reason: str | None, rule: str | None, amount_cents: int | None,
        at: int, actor: str,
    ) -> int:
        """Record a step and make its status the claim's current one; the step's row id."""
        ...

    def ledgered(self, *, actor: str, action: str, rule: str, rows: list[tuple[str, int]]) -> int:
        """Append a ledger entry over rows ``(table, id)``; its sequence number."""
        ...
