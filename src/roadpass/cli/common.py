"""Shared CLI plumbing: the application container from global options, JSON output, errors."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings

__all__ = ["console", "err_console", "fail", "open_app", "print_json", "state"]

console = Console()
err_console = Console(stderr=True)


class _State:
    database_url: str | None = None
    app: Roadpass | None = None


state = _State()


def open_app() -> Roadpass:
    """The wired application for the database named by ``--db`` / ``ROADPASS_DATABASE_URL``."""
    if state.app is None:
        overrides: dict[str, Any] = {}
        if state.database_url:
            overrides["database_url"] = state.database_url
        state.app = bootstrap(Settings(**overrides))
    return state.app


def print_json(value: Any) -> None:
    """Write ``value`` as indented JSON to standard output."""
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")


def fail(message: str, *, code: int = 1, as_json: bool = False, **extra: Any) -> NoReturn:
    """Report an error (as JSON with ``--json``) and exit with ``code``."""
    if as_json:
        print_json({"error": message, **extra})
    else:
        err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)
