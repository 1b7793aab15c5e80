"""roadpass compliance."""
