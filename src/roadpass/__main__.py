"""``python -m roadpass …`` runs the command line, as the ``roadpass`` command does."""

from roadpass.cli.main import main

main()
