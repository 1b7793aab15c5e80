"""roadpass regions."""
