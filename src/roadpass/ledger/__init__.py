"""roadpass ledger."""
