"""The broker's account files: Mosquitto's password file and ACL file, written from roadpass's credentials.

Mosquitto 2.0 (mosquitto.conf(5), ``password_file``, ``acl_file``): a password file holds ``user:hash``
lines, the hash in the ``$7$`` form ``mosquitto_passwd`` writes (PBKDF2-SHA512, 101 iterations, 12-byte
salt, both base64); an ACL file gives each ``user`` the ``topic read|write`` patterns it may use. A running
broker re-reads both on SIGHUP and disconnects clients that no longer pass them, so revoking a unit stops
its data at once. Files are replaced atomically (write, then rename), readable by the owner only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import platformdirs

from roadpass.telematics.ports import Credential
from roadpass.telematics.topics import PREFIX, unit_segment

__all__ = ["ROADPASS_USER", "MosquittoAccounts", "broker_directory", "mosquitto_hash"]

#: roadpass's own subscriber account.
ROADPASS_USER: Final = "roadpass"
_ITERATIONS: Final = 101  # mosquitto_passwd's default for $7$ (Mosquitto 2.0 src/password_mosq.c)


def mosquitto_hash(password: str, *, salt: bytes | None = None) -> str:
    """``$7$101$salt$hash``: Mosquitto's PBKDF2-SHA512 password hash."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    return f"$7${_ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def broker_directory(configured: Path | None) -> Path:
    """The broker's folder: ``configured`` (ROADPASS_TELEMATICS_DIR) or ``mosquitto`` in the user's data dir."""
    return configured or Path(platformdirs.user_data_dir("roadpass", appauthor=False)) / "mosquitto"


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    os.replace(tmp, path)


class MosquittoAccounts:
    """:class:`roadpass.telematics.ports.BrokerAccounts` on files in the broker's directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.passwd = directory / "passwd"
        self.acl = directory / "acl"
        self.pid_file = directory / "broker.pid"

    def hash_password(self, password: str) -> str:
        """The password as Mosquitto's ``$7$`` hash."""
        return mosquitto_hash(password)

    def roadpass_password(self) -> str:
        """roadpass's own subscriber password, made once and kept beside the broker's files (mode 0600)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        secret = self.directory / "roadpass.secret"
        if not secret.exists():
            _write(secret, secrets.token_urlsafe(24))
        return secret.read_text(encoding="utf-8").strip()

    def publish(self, credentials: Sequence[Credential]) -> None:
        """Write the password and ACL files for roadpass and the live units; a running broker reloads."""
        self.directory.mkdir(parents=True, exist_ok=True)
        own = self.roadpass_password()
        lines = [f"{ROADPASS_USER}:{mosquitto_hash(own)}"]
        acl = [f"user {ROADPASS_USER}", f"topic read {PREFIX}#", ""]
        for cred in credentials:
            lines.append(f"{cred.username}:{cred.password_hash}")
            # docs/telematics.md: a unit publishes only under its own topic.
            acl += [f"user {cred.username}", f"topic write {PREFIX}{unit_segment(cred.unit_key)}/#", ""]
        _write(self.passwd, "\n".join(lines) + "\n")
        _write(self.acl, "\n".join(acl) + "\n")
        self.reload()

    def reload(self) -> bool:
        """SIGHUP the broker roadpass started here, if it runs (Mosquitto re-reads passwords and ACLs and
        disconnects clients that no longer pass them); True when one was signalled."""
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return False
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGHUP)
            return True
        return False
