"""roadpass api."""
