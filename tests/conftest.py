"""Shared fixtures: real databases (SQLite files and a throw-away PostgreSQL cluster), real schemas."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))

from access_helpers import api_headers
from pg import PgCluster, start_cluster, template_database
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.conformance import conformance_dir
from roadpass.settings import Settings
from roadpass.store.engine import make_engine
from roadpass.store.migrate import upgrade

# Tests never write into the user's data directory (the default database, the broker's files, a region's
# pseudonymisation key): everything that defaults to it lands in a folder of this run.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="roadpass-test-data-")


@pytest.fixture(scope="session")
def conformance() -> Path:
    """The standards' artefacts folder (read in place)."""
    return conformance_dir()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that each test copies (migrating once per session)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL cluster for the session, with a migrated template database."""
    try:
        cluster = start_cluster()
    except FileNotFoundError as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    try:
        admin = make_engine(cluster.url("postgres"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("CREATE DATABASE rp_template"))
        admin.dispose()
        engine = make_engine(cluster.url("rp_template"))
        upgrade(engine)
        engine.dispose()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated database: every store test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "roadpass.sqlite3"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return template_database(cluster)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated SQLite database only (for tests about SQLite itself or the CLI)."""
    target = tmp_path / "roadpass.sqlite3"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app(database_url: str) -> Iterator[Roadpass]:
    """The wired application on a fresh database."""
    roadpass = bootstrap(Settings(database_url=database_url, environment="test"))
    yield roadpass
    roadpass.close()


@pytest.fixture
def sqlite_app(sqlite_url: str) -> Iterator[Roadpass]:
    """The wired application on a fresh SQLite database."""
    roadpass = bootstrap(Settings(database_url=sqlite_url, environment="test"))
    yield roadpass
    roadpass.close()


@pytest.fixture
def auth_headers(app: Roadpass) -> Callable[..., dict[str, str]]:
    """``auth_headers(role="manufacturer", gcp=None, ...)``: headers of a new party's API key on ``app``.

    API tests call the app as some party (``TestClient(create_app(roadpass=app), headers=auth_headers())``);
    see ``tests/access_helpers.py`` for the options (party key, GS1 company prefix, authority markets).
    """
    return lambda role="manufacturer", **options: api_headers(app, role, **options)


# Hypothesis: `--hypothesis-profile thorough` for a long local search; the default keeps CI bounded.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("thorough", max_examples=1000, deadline=None)


@pytest.fixture
def fresh_cli_state() -> Iterator[None]:
    """The CLI keeps one open application per process (``roadpass.cli.common.state``): start each CLI
    test without one and close what the test opened."""
    from roadpass.cli.common import state

    state.app = None
    yield
    if state.app is not None:
        state.app.close()
    state.app = None
