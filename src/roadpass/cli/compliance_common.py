"""Plumbing shared by the compliance commands: the service, dates, errors as messages or JSON."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from roadpass.cli.common import fail, open_app
from roadpass.compliance.pack_validation import PackError
from roadpass.compliance.product import ProductError
from roadpass.compliance.service import ComplianceService

__all__ = ["JsonOpt", "day", "guard", "service"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def service() -> ComplianceService:
    """The compliance service of the application named by ``--db``."""
    return open_app().compliance


def day(value: str | None, as_json: bool, name: str = "--on") -> dt.date | None:
    """Parse an ISO date option, or fail naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(f"{name}: {value!r} is not a date YYYY-MM-DD", as_json=as_json)


def guard(as_json: bool, exc: Exception) -> None:
    """Report ``exc`` (with its issues, for input errors) and exit 1."""
    if isinstance(exc, ProductError):
        fail(str(exc), as_json=as_json, issues=[{"path": p, "reason": r} for p, r in exc.issues])
    if isinstance(exc, PackError):
        fail(str(exc), as_json=as_json, issues=[{"file": i.file, "line": i.line, "column": i.column,
                                                  "path": i.path, "reason": i.reason} for i in exc.issues])
    fail(str(exc).strip("'\""), as_json=as_json)
