"""Named queries' rules and service without a database: definitions against the GS1 query schema, names,
parameters, ownership, paging and ledger entries (the store is an in-memory fake at the port)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from fakes import InMemoryTransactions
from roadpass.ledger.chain import Subject
from roadpass.trace.named_queries import (
    DefinitionRejected,
    NamedQuery,
    check_events_request,
    check_name,
    listing_after,
    listing_token,
    parse_definition,
    query_parameters,
)
from roadpass.trace.named_query_service import NamedQueryExists, NamedQueryNotFound, NamedQueryService
from roadpass.trace.query import QueryError, parse_event_query
from roadpass.trace.service import Hidden


def _paths(body: Any) -> list[str]:
    with pytest.raises(DefinitionRejected) as refused:
        parse_definition(body)
    return [p.path for p in refused.value.problems]


# --- definitions ----------------------------------------------------------------------------------------


def test_the_standards_example_is_accepted() -> None:
    # EPCIS 2.0 REST bindings, QueryDefinition example.
    body = {"name": "UniqueQueryName", "query": {"eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping", "receiving"]}}
    assert parse_definition(body) == ("UniqueQueryName", body["query"])


def test_every_problem_is_named_by_its_json_path() -> None:
    assert _paths({"name": "x", "query": {"EQ_bizStep": "shipping"}}) == ["$.query.EQ_bizStep"]
    assert _paths({"name": "x", "query": {"EQ_action": ["ADD", "MOVE"]}}) == ["$.query.EQ_action[1]"]
    assert _paths({"name": "x", "query": {"colour": ["red"], "shade": 1}}) == ["$.query.colour", "$.query.shade"]
    assert sorted(_paths({"query": [], "extra": 1})) == ["$.extra", "$.name", "$.query"]
    assert _paths([]) == ["$"]


def test_what_the_parser_refuses_is_refused_at_creation() -> None:
    assert _paths({"name": "x", "query": {"GE_eventTime": "yesterday"}}) == ["$.query.GE_eventTime"]
    assert _paths({"name": "x", "query": {"EQ_quantity": [1]}}) == ["$.query.EQ_quantity"]


@pytest.mark.parametrize("name", ["q", "recall.2026-Q1", "a_b~c", "x" * 100])
def test_names_are_one_url_segment(name: str) -> None:
    assert check_name(name) is None


@pytest.mark.parametrize(
    "name", ["", "q\n", "with space", "a/b", "-leading", "x" * 101, "naïve", 7, "SimpleEventQuery"]
)
def test_bad_names_are_refused(name: Any) -> None:
    assert check_name(name) is not None
    assert "$.name" in _paths({"name": name, "query": {}})


# --- parameters ------------------------------------------------------------------------------------------


def test_the_query_body_becomes_rest_query_parameters() -> None:
    query = {
        "@context": [{"ex": "https://example.com/"}], "eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping"],
        "GE_eventTime": "2026-01-01T00:00:00Z", "eventCountLimit": 5, "EXISTS_errorDeclaration": 1,
    }
    params = query_parameters(query)
    assert params == {
        "eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping"], "GE_eventTime": ["2026-01-01T00:00:00Z"],
        "eventCountLimit": ["5"], "EXISTS_errorDeclaration": ["1"],
    }
    parsed = parse_event_query(params)
    assert parsed.per_page == 5 and parsed.error_declared is True and parsed.event_types == ("ObjectEvent",)


def test_a_run_takes_only_paging_parameters() -> None:
    check_events_request(["perPage", "nextPageToken"])
    with pytest.raises(QueryError) as refused:
        check_events_request(["perPage", "EQ_bizStep"])
    assert refused.value.parameter == "EQ_bizStep"


def test_listing_tokens_are_good_only_for_the_scope_they_were_issued_to() -> None:
    token = listing_token("recall", 7)
    assert listing_after(token, 7) == "recall"
    for scope in (8, None):
        with pytest.raises(QueryError):
            listing_after(token, scope)
    with pytest.raises(QueryError):
        listing_after("!!not base64", 7)


# --- the service at a fake store -------------------------------------------------------------------------


class FakeRecords:
    """The named-query port in memory."""

    def __init__(self) -> None:
        self.rows: list[NamedQuery] = []
        self.deleted: set[int] = set()
        self.ledger: list[tuple[str, str, str, tuple[Subject, ...]]] = []

    def live(self, name: str) -> NamedQuery | None:
        return next((q for q in self.rows if q.name == name and q.id not in self.deleted), None)

    def listing(self, *, party_id: int | None, after: str | None, limit: int) -> list[NamedQuery]:
        found = sorted((q for q in self.rows if q.id not in self.deleted), key=lambda q: q.name)
        found = [q for q in found if (party_id is None or q.party_id == party_id) and (after is None or q.name > after)]
        return found[:limit]

    def insert(self, *, name: str, query: dict[str, Any], party_id: int | None, actor: str, at: int) -> int | None:
        row = NamedQuery(len(self.rows) + 1, name, query, party_id, f"party{party_id}", actor, at)
        self.rows.append(row)
        return row.id

    def mark_deleted(self, row_id: int, *, actor: str, at: int) -> None:
        self.deleted.add(row_id)

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        self.ledger.append((actor, action, rule, tuple(subjects)))
        return len(self.ledger)


@pytest.fixture
def records() -> FakeRecords:
    return FakeRecords()


@pytest.fixture
def service(records: FakeRecords) -> NamedQueryService:
    return NamedQueryService(InMemoryTransactions(records))


def test_create_stores_and_ledgers(service: NamedQueryService, records: FakeRecords) -> None:
    made = service.create({"name": "q", "query": {"EQ_bizStep": ["shipping"]}}, actor="party:a/user:x", party_id=1)
    assert made.as_json() == {"name": "q", "query": {"EQ_bizStep": ["shipping"]}}
    assert records.ledger == [("party:a/user:x", "named_query.create", records.ledger[0][2],
                               (Subject("named_query", "id", made.id),))]
    with pytest.raises(NamedQueryExists):
        service.create({"name": "q", "query": {}}, actor="party:b/user:y", party_id=2)
    with pytest.raises(DefinitionRejected):
        service.create({"name": "r", "query": {"EQ_bizStep": "shipping"}}, actor="party:a/user:x", party_id=1)
    assert len(records.rows) == 1 and len(records.ledger) == 1


def test_ownership_decides_who_sees_and_deletes(service: NamedQueryService, records: FakeRecords) -> None:
    service.create({"name": "q", "query": {}}, actor="party:a/user:x", party_id=1)
    assert service.get("q", party_scope=1).name == "q"
    assert service.get("q", party_scope=None).name == "q"  # every party's: the operator
    with pytest.raises(Hidden):
        service.get("q", party_scope=2)
    with pytest.raises(Hidden):
        service.delete("q", actor="party:b/user:y", party_scope=2)
    with pytest.raises(Hidden):
        service.event_parameters("q", [], party_scope=2)
    with pytest.raises(NamedQueryNotFound):
        service.get("nope", party_scope=1)
    assert service.listing(party_scope=2) == ([], None)
    service.delete("q", actor="party:a/user:x", party_scope=1)
    assert records.ledger[-1][1] == "named_query.delete"
    with pytest.raises(NamedQueryNotFound):
        service.get("q", party_scope=1)


def test_a_run_is_the_stored_query(service: NamedQueryService) -> None:
    service.create({"name": "q", "query": {"EQ_bizStep": ["shipping", "receiving"]}}, actor="a", party_id=None)
    assert service.event_parameters("q", ["perPage"], party_scope=None) == {"EQ_bizStep": ["shipping", "receiving"]}
    with pytest.raises(QueryError):
        service.event_parameters("q", ["EQ_action"], party_scope=None)


def test_listing_pages(service: NamedQueryService) -> None:
    for name in ("c", "a", "b"):
        service.create({"name": name, "query": {}}, actor="a", party_id=1)
    page, token = service.listing(party_scope=1, per_page=2)
    assert [q.name for q in page] == ["a", "b"] and token is not None
    rest, end = service.listing(party_scope=1, per_page=2, next_page_token=token)
    assert [q.name for q in rest] == ["c"] and end is None


def test_visibility_is_by_owning_party() -> None:
    query = NamedQuery(1, "q", {}, 3, "party3", "a", 0)
    assert query.visible_to(3) and query.visible_to(None) and not query.visible_to(4)
    assert not replace(query, party_id=None).visible_to(3)
