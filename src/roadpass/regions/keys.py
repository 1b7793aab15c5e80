"""The region's pseudonymisation key: configured (``ROADPASS_PSEUDONYM_KEY``), or generated once and kept in
the node's data directory. It never leaves the node (GDPR Art. 4(5): the additional information that
re-identifies is "kept separately"); nothing roadpass sends or stores in its database carries it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import platformdirs

__all__ = ["KEY_BYTES", "node_directory", "region_key"]

KEY_BYTES = 32


def region_key(configured: str | None, *, directory: Path, region: str) -> bytes:
    """The key for ``region``: ``configured`` (hex) when given, else the one kept in ``directory`` (made, with
    owner-only permissions, when there is none yet)."""
    if configured:
        try:
            key = bytes.fromhex(configured.strip())
        except ValueError:
            raise ValueError("ROADPASS_PSEUDONYM_KEY: not hexadecimal") from None
        if len(key) < KEY_BYTES:
            raise ValueError(f"ROADPASS_PSEUDONYM_KEY: at least {KEY_BYTES} bytes ({2 * KEY_BYTES} hex digits)")
        return key
    path = directory / f"pseudonym-key-{region}.hex"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        draft = directory / f".{path.name}.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(KEY_BYTES))
        # A hard link never replaces: of two processes starting at once, both keep the first one's key whole.
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return bytes.fromhex(path.read_text(encoding="ascii").strip())


def node_directory(database_url: str) -> Path:
    """The node's data directory: the folder of its SQLite file, else the user's roadpass data directory."""
    if database_url.startswith("sqlite:///") and not database_url.endswith(":memory:"):
        return Path(database_url.removeprefix("sqlite:///")).parent
    return Path(platformdirs.user_data_dir("roadpass", appauthor=False))
