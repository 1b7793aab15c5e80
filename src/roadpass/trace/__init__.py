"""roadpass trace."""
