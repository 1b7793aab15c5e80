"""Query-count baselines: a page of events, a tree or a where-used answer costs a fixed number of statements."""

from __future__ import annotations

from pathlib import Path

import orjson

from roadpass.bootstrap import Roadpass
from roadpass.trace.query import Visibility, parse_event_query
from statements import count_statements

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"




def test_event_pages_cost_one_statement_however_many_events(sqlite_app: Roadpass) -> None:
    for path in sorted(EXAMPLES.glob("*.jsonld")):
        sqlite_app.trace.capture(orjson.loads(path.read_bytes()), actor="t")
    for per_page in ("1", "3", "100"):
        with count_statements(sqlite_app) as statements:
            query = parse_event_query({"perPage": per_page, "MATCH_anyEPC": "urn:epc:idpat:sgtin:0614141.*.*"})
            sqlite_app.trace.events(query)
        assert len(statements) == 1, statements


def test_a_redacted_page_costs_one_statement_too(sqlite_app: Roadpass) -> None:
    """A caller that sees only some identifiers of the events gets them cut down (need to know) without a
    statement per event: the row says who captured each one."""
    for path in sorted(EXAMPLES.glob("*.jsonld")):
        sqlite_app.trace.capture(orjson.loads(path.read_bytes()), actor="t")
    narrow = Visibility(unit_prefixes=("https://id.gs1.org/01/00614141073467",))
    for per_page in ("1", "3", "100"):
        with count_statements(sqlite_app) as statements:
            query = parse_event_query({"perPage": per_page})
            query.visibility = narrow
            sqlite_app.trace.events(query)
        assert len(statements) == 1, statements
