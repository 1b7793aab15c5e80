"""Ledger service: verify the chain and read recent entries, each in its own read transaction."""

from __future__ import annotations

from roadpass.ledger.chain import LedgerEntry, VerifyReport
from roadpass.store import ledger as ledger_store
from roadpass.store.uow import UnitOfWork

__all__ = ["LedgerService"]


class LedgerService:
    """Read access to the tamper-evident ledger."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def verify(self, *, stop_at_first: bool = True) -> VerifyReport:
        """Walk the chain against the stored rows; the report names the first entry that does not match."""
        with self.uow.read() as conn:
            return ledger_store.verify(conn, stop_at_first=stop_at_first)

    def recent(self, *, limit: int = 50, actor: str | None = None, subject: str | None = None) -> list[LedgerEntry]:
        """The newest entries, optionally for one actor or naming one subject value."""
        with self.uow.read() as conn:
            return ledger_store.entries(conn, limit=limit, actor=actor, subject_value=subject)
