"""Counting the SQL statements a piece of work runs (N+1 regressions show as counts that grow)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from roadpass.bootstrap import Roadpass


@contextmanager
def count_statements(app: Roadpass) -> Iterator[list[str]]:
    """The statements run meanwhile on ``app``'s engine (transaction control and pragmas left out)."""
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT", "PRAGMA")):
            seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", before)
