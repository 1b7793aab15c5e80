"""The named-query service: create, list, read, delete and run stored queries, each in one unit of work.

The rules (a definition's validity, a name's syntax, ownership, what the ledger records) are in
:mod:`roadpass.trace.named_queries`; the rows in the store. Callers pass the party whose objects they may
act on (``party_scope``; None for every party's, as the access policy decides); a query of another party
raises :class:`~roadpass.trace.service.Hidden`. A stored query runs as the query parameters it stands for,
answered by :meth:`TraceService.events` under the caller's :class:`~roadpass.trace.query.Visibility`
exactly as ``GET /events`` answers them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from roadpass.trace import named_queries as rules
from roadpass.trace.capture_plan import now_us
from roadpass.trace.named_queries import NamedQuery
from roadpass.trace.named_query_ports import NamedQueryStore
from roadpass.trace.service import Hidden

__all__ = ["NamedQueryExists", "NamedQueryNotFound", "NamedQueryService"]


class NamedQueryExists(ValueError):
    """A live query already has this name (EPCIS REST: ResourceAlreadyExistsException, 409)."""


class NamedQueryNotFound(LookupError):
    """No query has this name (EPCIS REST: NoSuchResourceException, 404)."""


class NamedQueryService:
    """Named queries (EPCIS 2.0 §8.2.5, REST bindings ``/queries``), owned by the party that made them."""

    def __init__(self, store: NamedQueryStore) -> None:
        self.store = store
        # Called with (name, party id, actor) once a deletion committed: the query's subscriptions end.
        self.after_delete: list[Callable[[str, int | None, str], None]] = []

    def create(self, body: Any, *, actor: str, party_id: int | None) -> NamedQuery:
        """Validate a ``{"name", "query"}`` body and store it for party ``party_id`` (ledgered).

        Raises :class:`~roadpass.trace.named_queries.DefinitionRejected` (every problem, by JSON path) or
        :class:`NamedQueryExists`."""
        name, query = rules.parse_definition(body)
        with self.store.write() as records:
            if records.live(name) is not None:
                raise NamedQueryExists(name)
            row_id = records.insert(name=name, query=query, party_id=party_id, actor=actor, at=now_us())
            if row_id is None:  # another writer took the name meanwhile (PostgreSQL: the unique index)
                raise NamedQueryExists(name)
            records.append_ledger(actor, *rules.create_ledger(row_id))
            created = records.live(name)
        if created is None:  # pragma: no cover - the row was written in this transaction
            raise NamedQueryNotFound(name)
        return created

    def listing(
        self, *, party_scope: int | None, per_page: int = 1000, next_page_token: str | None = None
    ) -> tuple[list[NamedQuery], str | None]:
        """One page of the queries the caller may see, by name, and the token of the next page (or None)."""
        after = rules.listing_after(next_page_token, party_scope) if next_page_token is not None else None
        with self.store.read() as records:
            found = records.listing(party_id=party_scope, after=after, limit=per_page + 1)
        page = found[:per_page]
        token = rules.listing_token(page[-1].name, party_scope) if len(found) > per_page else None
        return page, token

    def get(self, name: str, *, party_scope: int | None) -> NamedQuery:
        """The query called ``name``; :class:`NamedQueryNotFound`, or :class:`Hidden` when it is another
        party's."""
        with self.store.read() as records:
            found = records.live(name)
        return _visible(found, name, party_scope)

    def delete(self, name: str, *, actor: str, party_scope: int | None) -> None:
        """Delete the query called ``name`` (its owner's party only; ledgered)."""
        with self.store.write() as records:
            found = _visible(records.live(name), name, party_scope)
            records.mark_deleted(found.id, actor=actor, at=now_us())
            records.append_ledger(actor, *rules.delete_ledger(found.id))
        for hook in self.after_delete:
            hook(name, found.party_id, actor)

    def event_parameters(self, name: str, request: Iterable[str], *, party_scope: int | None) -> dict[str, list[str]]:
        """The stored query called ``name`` as the query parameters ``GET /queries/{queryName}/events`` runs
        (the caller answers with :meth:`TraceService.events` under its visibility, as ``GET /events``);
        :class:`NamedQueryNotFound`, :class:`Hidden`, or :class:`~roadpass.trace.query.QueryError` naming a
        ``request`` parameter other than paging."""
        found = self.get(name, party_scope=party_scope)
        rules.check_events_request(request)
        return rules.query_parameters(found.query)


def _visible(found: NamedQuery | None, name: str, party_scope: int | None) -> NamedQuery:
    if found is None:
        raise NamedQueryNotFound(name)
    if not found.visible_to(party_scope):
        raise Hidden(name)
    return found
