"""roadpass store."""
