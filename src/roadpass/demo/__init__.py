"""roadpass demo."""
