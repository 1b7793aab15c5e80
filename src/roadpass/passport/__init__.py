"""roadpass passport."""
