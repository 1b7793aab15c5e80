"""The tamper-evident ledger: every write says who did what, when, under which rule."""

from roadpass.ledger.chain import (
    GENESIS_HASH,
    LedgerDraft,
    LedgerEntry,
    Mismatch,
    Subject,
    VerifyReport,
    canonical_rows_hash,
    compute_entry_hash,
    verify_chain,
)

__all__ = [
    "GENESIS_HASH",
    "LedgerDraft",
    "LedgerEntry",
    "Mismatch",
    "Subject",
    "VerifyReport",
    "canonical_rows_hash",
    "compute_entry_hash",
    "verify_chain",
]
