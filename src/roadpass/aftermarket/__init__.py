"""roadpass aftermarket."""
