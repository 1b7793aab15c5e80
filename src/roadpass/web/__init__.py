"""roadpass web."""
