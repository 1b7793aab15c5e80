"""roadpass cli."""
