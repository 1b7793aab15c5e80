"""roadpass: trace, certify and serve vehicles, batteries and parts across markets."""

__version__ = "0.1.0"

__all__ = ["__version__"]
