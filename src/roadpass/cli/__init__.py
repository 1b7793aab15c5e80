"""The roadpass command line."""
