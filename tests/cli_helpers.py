"""Running the ``roadpass`` command line in process, as a user would from a shell."""

from __future__ import annotations

from typing import Any

import orjson
from typer.testing import CliRunner

from roadpass.cli.common import state
from roadpass.cli.main import app

runner = CliRunner()


def run_cli(db: str, *args: str) -> tuple[int, Any]:
    """``roadpass --db DB ARGS…`` with a fresh application, as a new process would have: the exit code and
    the parsed JSON output (or the text printed, when it is not JSON)."""
    if state.app is not None:
        state.app.close()
    state.app = None
    result = runner.invoke(app, ["--db", db, *args])
    try:
        return result.exit_code, orjson.loads(result.stdout)
    except orjson.JSONDecodeError:
        return result.exit_code, result.stdout + result.stderr
