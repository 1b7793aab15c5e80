"""A regional node for tests: its own database (a copy of the migrated SQLite template unless a URL is given),
its region, its name and its peers."""

from __future__ import annotations

import shutil
from pathlib import Path

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings


def node(folder: Path, template: Path, region: str, name: str, peers: list[dict[str, str]],
         database_url: str | None = None) -> Roadpass:
    """The node's application, built in ``folder``."""
    folder.mkdir()
    if database_url is None:
        shutil.copy(template, folder / "node.sqlite3")
        database_url = f"sqlite:///{folder / 'node.sqlite3'}"
    return bootstrap(Settings(database_url=database_url, environment="test", region=region, node_id=name,
                              peers=peers))
