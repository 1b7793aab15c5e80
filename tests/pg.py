"""A throw-away PostgreSQL cluster for the test session (started here, stopped at the end).

``initdb`` refuses to run as root, so as root the cluster is created and run as the ``postgres`` system user.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PgCluster", "find_pg_bin", "start_cluster", "template_database"]

_databases = itertools.count()


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, or None where no server binary exists."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists() and Path(candidate, "pg_ctl").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PgCluster:
    """A running cluster reachable over a Unix socket."""

    bin_dir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as else list(args)

    def stop(self) -> None:
        subprocess.run(
            self._cmd(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"),
            capture_output=True, check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PgCluster:
    """initdb + pg_ctl start in a temporary folder; raises RuntimeError with the server's words on failure."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
    run_as = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="roadpass-pg-"))
    (root / "sock").mkdir()
    if run_as:
        user = pwd.getpwnam(run_as)
        os.chmod(root, 0o755)
        for path in (root, root / "sock"):
            os.chown(path, user.pw_uid, user.pw_gid)
    cluster = PgCluster(bin_dir, root, _free_port(), run_as)
    init = subprocess.run(
        cluster._cmd(str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                     "--no-sync"),
        capture_output=True, text=True, check=False,
    )
    if init.returncode != 0:
        raise RuntimeError(f"initdb failed: {init.stderr.strip()}")
    options = f"-k {root / 'sock'} -p {cluster.port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
    start = subprocess.run(
        cluster._cmd(str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-o", options, "-l", str(root / "log"), "-w",
                     "start"),
        capture_output=True, text=True, check=False,
    )
    if start.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {start.stderr.strip()} {log[-2000:]}")
    return cluster


def template_database(cluster: PgCluster) -> str:
    """A fresh database copied from the cluster's migrated ``rp_template`` (the URL)."""
    from sqlalchemy import text

    from roadpass.store.engine import make_engine

    name = f"rp_test_{next(_databases)}"
    admin = make_engine(cluster.url("postgres"))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE rp_template"))
    admin.dispose()
    return cluster.url(name)
