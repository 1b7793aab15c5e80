"""Query-count baselines: a page of events, a tree or a where-used answer costs a fixed number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event

from roadpass.bootstrap import Roadpass
from roadpass.trace.query import parse_event_query

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


@contextmanager
def count_statements(app: Roadpass) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "ROLLBACK", "COMMIT", "PRAGMA")):
            seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", before)


def test_event_pages_cost_one_statement_however_many_events(sqlite_app: Roadpass) -> None:
    for path in sorted(EXAMPLES.glob("*.jsonld")):
        sqlite_app.trace.capture(orjson.loads(path.read_bytes()), actor="t")
    for per_page in ("1", "3", "100"):
        with count_statements(sqlite_app) as statements:
            query = parse_event_query({"perPage": per_page, "MATCH_anyEPC": "urn:epc:idpat:sgtin:0614141.*.*"})
            sqlite_app.trace.events(query)
        assert len(statements) == 1, statements
