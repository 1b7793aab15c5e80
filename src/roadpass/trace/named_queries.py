"""Named queries (EPCIS 2.0 §8.2.5, REST bindings ``/queries``): the model and its rules, pure.

A named query is a stored SimpleEventQuery (§8.2.7.1) under a name: the REST bindings' ``POST /queries``
takes ``{"name": …, "query": {…}}`` whose ``query`` SHALL validate against the GS1 query schema
(``epcis/rest/query-schema.json``, read in place), and ``GET /queries/{queryName}/events`` answers the events
it selects. The rules here:

* :func:`parse_definition` — a body is accepted whole or refused whole, every problem named by its JSON path
  (``$.query.EQ_bizStep[0]``) and reason: the schema first, then what this repository's query parser
  (:func:`roadpass.trace.query.parse_event_query`) refuses, so that a stored query always runs;
* :func:`check_name` — a name is one path segment of URL-safe characters (RFC 3986 §2.3 unreserved), so
  ``Location: /queries/{name}`` needs no escaping; the standard's predefined query names are not available;
* :func:`query_parameters` — the query body as the REST query parameters the parser takes;
* :func:`check_events_request` — what a ``GET …/events`` request may add to the stored query: the REST
  bindings list only the paging parameters for that resource (``perPage``, ``nextPageToken``), so any other
  parameter is refused, naming it, rather than silently changing or ignoring the stored question;
* ownership: a query belongs to the party that made it (:meth:`NamedQuery.visible_to`);
* :func:`create_ledger` / :func:`delete_ledger` — what each write's ledger entry records.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema_rs
import orjson

from roadpass.conformance import conformance_path
from roadpass.ledger.chain import Subject
from roadpass.trace.epcis.schema import json_path
from roadpass.trace.query import QueryError, parse_event_query

__all__ = [
    "NAMED_QUERY_RULE",
    "PAGING_PARAMETERS",
    "DefinitionProblem",
    "DefinitionRejected",
    "NamedQuery",
    "check_events_request",
    "check_name",
    "create_ledger",
    "delete_ledger",
    "listing_after",
    "listing_token",
    "parse_definition",
    "query_parameters",
    "query_validator",
]

NAMED_QUERY_RULE = (
    "EPCIS 2.0 REST bindings /queries (§8.2.5 named queries); owned by the creating party "
    "(roadpass.access.policy queries.write)"
)

# RFC 3986 §2.3 unreserved characters, starting with a letter or digit; 100 characters at most.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]{0,99}")

# EPCIS 2.0 §8.2.7: the predefined queries of the query interface keep their names.
_PREDEFINED = frozenset({"SimpleEventQuery", "SimpleMasterDataQuery"})

# EPCIS 2.0 REST bindings, GET /queries/{queryName}/events: the parameters a request may add to the stored
# query (the WebSocket subscription parameters belong to the upgrade, not to a plain GET).
PAGING_PARAMETERS = frozenset({"perPage", "nextPageToken"})

_MEMBERS = ("name", "query")


@dataclass(frozen=True, slots=True)
class DefinitionProblem:
    """One reason a query definition is refused: where (a JSON path) and why."""

    path: str
    reason: str

    def as_json(self) -> dict[str, str]:
        """The problem as an RFC 7807 ``errors`` item."""
        return {"instance": self.path, "title": self.reason}


class DefinitionRejected(ValueError):
    """A query definition was refused whole; ``problems`` name each JSON path and reason."""

    def __init__(self, problems: Sequence[DefinitionProblem]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(f"{first.path}: {first.reason}")


@dataclass(frozen=True, slots=True)
class NamedQuery:
    """A stored query: its ``name``, the ``query`` body as given, the owning party (``party_id``, ``party``
    its key; None when made with authorisation switched off), who made it and when (UTC µs)."""

    id: int
    name: str
    query: dict[str, Any]
    party_id: int | None
    party: str | None
    actor: str
    created_at: int

    def visible_to(self, party_scope: int | None) -> bool:
        """True when a caller limited to party ``party_scope``'s objects (None: every party's) may see it."""
        return party_scope is None or self.party_id == party_scope

    def as_json(self) -> dict[str, Any]:
        """The query definition as the REST bindings show it (``QueryDefinition``)."""
        return {"name": self.name, "query": self.query}


@cache
def query_validator() -> Any:
    """The compiled validator for the GS1 query schema (draft-07; ``format`` an annotation, as for capture:
    values are checked by the query parser, which names the parameter)."""
    schema = orjson.loads(conformance_path("epcis", "rest", "query-schema.json").read_bytes())
    return jsonschema_rs.Draft7Validator(schema, validate_formats=False)


def check_name(name: Any) -> str | None:
    """Why ``name`` cannot name a query, or None when it can."""
    if not isinstance(name, str):
        return "a query name is a string"
    if not _NAME.fullmatch(name):
        return ("a query name is 1-100 letters, digits, '.', '_', '~' or '-', starting with a letter or digit "
                "(one URL path segment)")
    if name in _PREDEFINED:
        return f"{name} is a predefined query of EPCIS 2.0 (§8.2.7)"
    return None


def _strings(value: Any) -> list[str]:
    """A JSON value of the query schema as REST query-parameter values (lists stay lists)."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, bool):
            out.append("true" if item else "false")
        elif item is None:
            out.append("")  # EXISTS_…: the parameter's presence is the question
        else:
            out.append(orjson.dumps(item).decode())
    return out


def query_parameters(query: Mapping[str, Any]) -> dict[str, list[str]]:
    """The query body as REST query parameters (name → values), as ``parse_event_query`` takes them.

    ``@context`` is left out: it declares the namespaces of extension parameter names, it asks nothing."""
    return {name: _strings(value) for name, value in query.items() if name != "@context"}


def _schema_problems(query: Any) -> list[DefinitionProblem]:
    validator = query_validator()
    if validator.is_valid(query):
        return []
    problems: list[DefinitionProblem] = []
    for error in validator.iter_errors(query):
        where = ["query", *error.instance_path]
        unexpected = getattr(error.kind, "unexpected", None)
        if isinstance(unexpected, list):  # additionalProperties: name each parameter the schema does not know
            problems += [DefinitionProblem(json_path([*where, str(name)]), "not a query parameter of "
                                           "EPCIS 2.0 (query-schema.json)") for name in unexpected]
        else:
            problems.append(DefinitionProblem(json_path(where), str(error.message)))
    # Deepest paths first: "EQ_bizStep[0] is not valid" says more than "the query is not valid".
    problems.sort(key=lambda p: (-p.path.count(".") - p.path.count("["), p.path))
    return problems


def parse_definition(body: Any) -> tuple[str, dict[str, Any]]:
    """``(name, query)`` of a ``POST /queries`` body, or :class:`DefinitionRejected` naming every problem."""
    if not isinstance(body, dict):
        raise DefinitionRejected([DefinitionProblem("$", "a query definition is a JSON object with name and query")])
    problems = [DefinitionProblem(f"$.{key}", f"not a member of a query definition ({', '.join(_MEMBERS)})")
                for key in body if key not in _MEMBERS]
    problems += [DefinitionProblem(f"$.{key}", "required") for key in _MEMBERS if key not in body]
    if "name" in body and (reason := check_name(body["name"])) is not None:
        problems.append(DefinitionProblem("$.name", reason))
    query = body.get("query")
    if "query" in body and not isinstance(query, dict):
        problems.append(DefinitionProblem("$.query", "the query is a JSON object (query-schema.json)"))
    elif isinstance(query, dict):
        schema = _schema_problems(query)
        problems += schema
        if not schema:
            try:
                parse_event_query(query_parameters(query))
            except QueryError as exc:
                problems.append(DefinitionProblem(json_path(["query", exc.parameter]), exc.reason))
    if problems:
        raise DefinitionRejected(problems)
    return str(body["name"]), dict(query) if isinstance(query, dict) else {}


def check_events_request(names: Iterable[str]) -> None:
    """Refuse, naming it, a ``GET /queries/{queryName}/events`` request parameter other than paging
    (:class:`~roadpass.trace.query.QueryError`): the REST bindings give that resource only ``perPage`` and
    ``nextPageToken``, and the stored query fixes the question."""
    for name in sorted(names):
        if name not in PAGING_PARAMETERS:
            raise QueryError(name, "GET /queries/{queryName}/events takes only perPage and nextPageToken "
                                   "(EPCIS 2.0 REST bindings): the named query fixes the question")


def _scope_digest(party_scope: int | None) -> str:
    return hashlib.sha256(orjson.dumps(["queries", party_scope])).hexdigest()[:16]


def listing_token(last: str, party_scope: int | None) -> str:
    """The opaque ``nextPageToken`` of a ``GET /queries`` page that ended at the query called ``last``."""
    return base64.urlsafe_b64encode(orjson.dumps([last, _scope_digest(party_scope)])).decode().rstrip("=")


def listing_after(token: str, party_scope: int | None) -> str:
    """The name a ``GET /queries`` page token continues after; :class:`~roadpass.trace.query.QueryError`
    naming ``nextPageToken`` for a token this repository did not issue to a caller of this scope."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError) as exc:
        raise QueryError("nextPageToken", "not a token this repository issued") from exc
    if not (isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts)):
        raise QueryError("nextPageToken", "not a token this repository issued")
    if parts[1] != _scope_digest(party_scope):
        raise QueryError("nextPageToken", "the token belongs to another party's list")
    return str(parts[0])


def create_ledger(row_id: int) -> tuple[str, str, tuple[Subject, ...]]:
    """(action, rule, subjects) of the ledger entry of a new named query."""
    return "named_query.create", NAMED_QUERY_RULE, (Subject("named_query", "id", row_id),)


def delete_ledger(row_id: int) -> tuple[str, str, tuple[Subject, ...]]:
    """(action, rule, subjects) of the ledger entry of a deleted named query (its row is kept, marked deleted,
    so that the entry that created it still verifies)."""
    return "named_query.delete", NAMED_QUERY_RULE, (Subject("named_query", "id", row_id),)
