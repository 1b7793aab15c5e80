"""EPCIS 2.0 REST bindings: the top level (``GET /``) and the top-level resources (openapi.yaml, Top-level).

``/eventTypes``, ``/epcs``, ``/bizSteps``, ``/bizLocations``, ``/readPoints`` and ``/dispositions`` each
offer the collection (a HATEOAS ``Collection`` body, paged with a signed ``nextPageToken``), one item (its
sub-resources: ``events``) and ``…/{x}/events``, which is ``/events`` with the path value as the matching
query parameter (``/epcs/{epc}/events`` is ``MATCH_anyEPC``). A collection lists values from the events
the caller may see (the same :class:`~roadpass.trace.query.Visibility` as ``GET /events``); the event
types and the CBV's standard business steps and dispositions are the repository's vocabulary, listed for
everyone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, next_page_link, problem
from roadpass.api.routes.epcis import (
    EPCIS_HEADERS,
    discovery,
    event_query_response,
    query_problem,
    request_params,
    token_expires,
)
from roadpass.bootstrap import Roadpass
from roadpass.trace.epcis.model import EVENT_TYPES
from roadpass.trace.epcis.vocabulary import compact_vocabulary, vocabulary
from roadpass.trace.query import (
    QueryError,
    open_collection_token,
    parse_event_query,
    parse_page_size,
    sign_collection_token,
    token_digest,
    token_expiry,
)
from roadpass.trace.service import Hidden

__all__ = ["RESOURCES", "router"]

_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
_NO_SUCH = "epcisException:NoSuchResourceException"
# EPCIS 2.0 REST TopLevelResourceCollection: every top-level resource, the ones other routers serve too.
_TOP_LEVEL = ["events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "capture",
              "queries"]
# How many custom (non-CBV) business steps or dispositions a vocabulary collection reads at most.
_CUSTOM_VALUES = 1000


@dataclass(frozen=True, slots=True)
class Resource:
    """One top-level resource: its path, the query parameter its path value stands for, and where its
    collection's members come from (an event column, a CBV vocabulary, or both)."""

    name: str
    parameter: str
    column: str | None = None
    vocabulary: str | None = None
    epc_format: str | None = None


RESOURCES = (
    Resource("eventTypes", "eventType"),
    Resource("epcs", "MATCH_anyEPC", epc_format="Always_GS1_Digital_Link"),
    Resource("bizSteps", "EQ_bizStep", column="biz_step", vocabulary="bizStep"),
    Resource("bizLocations", "EQ_bizLocation", column="biz_location", epc_format="Always_GS1_Digital_Link"),
    Resource("readPoints", "EQ_readPoint", column="read_point", epc_format="Always_GS1_Digital_Link"),
    Resource("dispositions", "EQ_disposition", column="disposition", vocabulary="disposition"),
)


class _ApiClientsOnly(APIRoute):
    """``/`` answers clients that ask for JSON; anyone else (a browser, ``Accept: */*``) goes on to the web
    UI's home page, which has the same path."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """No match unless the request's ``Accept`` names a JSON type and not ``text/html``."""
        accept = dict(scope.get("headers") or []).get(b"accept", b"")
        if b"json" not in accept or b"text/html" in accept:
            return Match.NONE, {}
        return super().matches(scope)


router = APIRouter(tags=["EPCIS 2.0"])
_root = APIRouter(tags=["EPCIS 2.0"], route_class=_ApiClientsOnly)


def _collection(members: list[str]) -> dict[str, Any]:
    return {"@context": _CONTEXT, "type": "Collection", "member": members}


@_root.get("/", summary="Returns the list of top level resources available for this EPCIS repository.")
def top_level() -> Response:
    """EPCIS 2.0 REST: 200SupportedTopLevel."""
    return JsonResponse(_collection(_TOP_LEVEL), headers=EPCIS_HEADERS)


@router.options("/", status_code=204, summary="Query server settings, EPCIS version(s) and related vocabularies.")
def top_level_options() -> Response:
    """EPCIS 2.0 REST: 204DefaultDiscoveryResponse."""
    return discovery("OPTIONS, GET")


router.include_router(_root)


def _vocabulary_members(app: Roadpass, resource: Resource, access: Access) -> list[str]:
    """Every member of a vocabulary-backed collection, sorted: the standard words and the custom values
    of visible events."""
    if resource.vocabulary is None:
        return sorted(EVENT_TYPES)
    words = set(vocabulary(resource.vocabulary).terms)
    assert resource.column is not None
    stored = app.trace.event_values(resource.column, after=None, limit=_CUSTOM_VALUES, visibility=access.visibility)
    words.update(compact_vocabulary(resource.vocabulary, value) for value in stored)
    return sorted(words)


def _page(app: Roadpass, resource: Resource, access: Access, after: str | None, size: int) -> list[str]:
    """Up to ``size + 1`` members after ``after`` (one more than a page shows whether another follows)."""
    if resource.vocabulary is not None or resource.name == "eventTypes":
        members = _vocabulary_members(app, resource, access)
        return [m for m in members if after is None or m > after][: size + 1]
    if resource.column is None:
        return app.trace.known_epcs(after=after, limit=size + 1, visibility=access.visibility)
    return app.trace.event_values(resource.column, after=after, limit=size + 1, visibility=access.visibility)


def _list(resource: Resource) -> Callable[..., Response]:
    def handler(request: Request, app: AppDep, access: AccessDep) -> Response:
        params = request_params(request)
        key = app.settings.secret_key.encode()
        try:
            unknown = sorted(set(params) - {"perPage", "nextPageToken"})
            if unknown:
                raise QueryError(unknown[0], "unknown query parameter for a resource collection")
            size = parse_page_size("perPage", params["perPage"][0], app.settings.page_size_max) if (
                "perPage" in params) else app.settings.page_size_default
            after = None
            if "nextPageToken" in params:
                token = params["nextPageToken"][0]
                if app.trace.page_token_revoked(token_digest(token)):
                    raise QueryError("nextPageToken", "the token was deleted (DELETE /nextPageToken/{token})")
                after = open_collection_token(token, resource.name, key)
        except QueryError as exc:
            return query_problem(exc)
        members = _page(app, resource, access, after, size)
        headers = dict(EPCIS_HEADERS)
        if resource.epc_format:
            headers["GS1-EPC-Format"] = resource.epc_format
        if len(members) > size:
            members = members[:size]
            signed, expires = sign_collection_token(resource.name, members[-1], key)
            headers["Link"] = next_page_link(request, signed)
            headers["GS1-Next-Page-Token-Expires"] = token_expires(expires)
        return JsonResponse(_collection(members), headers=headers)

    handler.__doc__ = f"The {resource.name} of the events the caller may see (EPCIS 2.0 REST: Collection)."
    return handler


def _exists(app: Roadpass, resource: Resource, value: str, access: Access) -> bool:
    """Whether an item exists for the caller: a word of the vocabulary, or named by events it may see."""
    if resource.name == "eventTypes":
        return value in EVENT_TYPES
    if resource.vocabulary is not None and vocabulary(resource.vocabulary).is_standard(value):
        return True
    query = parse_event_query({resource.parameter: [value]})
    return app.trace.has_matching_events(query, visibility=access.visibility)


def _item(resource: Resource) -> Callable[..., Response]:
    def handler(value: str, app: AppDep, access: AccessDep) -> Response:
        try:
            found = _exists(app, resource, value, access)
        except QueryError as exc:
            return query_problem(exc)
        except Hidden:
            return hidden(access, f"no {resource.name} item {value}", f"{value} is named only by events the "
                          "caller may not see", type_=_NO_SUCH)
        if not found:
            return problem(404, f"no {resource.name} item {value}", type_=_NO_SUCH)
        # EPCIS 2.0 REST: 200TopLevelOrEventTypeSubResource (a ResourceCollection with at least `events`).
        return JsonResponse(_collection(["events"]), headers=EPCIS_HEADERS)

    handler.__doc__ = f"The sub-resources of one of the {resource.name} (HATEOAS discovery)."
    return handler


def _events(resource: Resource) -> Callable[..., Response]:
    def handler(value: str, request: Request, app: AppDep, access: AccessDep) -> Response:
        return event_query_response(request, app, access, {resource.parameter: value})

    handler.__doc__ = f"Events of one of the {resource.name}: /events with {resource.parameter} set."
    return handler


def _options(allow: str) -> Callable[..., Response]:
    def handler() -> Response:
        return discovery(allow)

    handler.__doc__ = "EPCIS 2.0 REST: 204DefaultDiscoveryResponse."
    return handler


for _resource in RESOURCES:
    _base = f"/{_resource.name}"
    # `…/events` before the item: an item path (`{value:path}`, a Digital Link has slashes) would match it.
    router.add_api_route(f"{_base}/{{value:path}}/events", _events(_resource), methods=["GET"],
                         summary=f"Returns EPCIS events of one of the {_resource.name}.")
    router.add_api_route(f"{_base}/{{value:path}}/events", _options("OPTIONS, GET"), methods=["OPTIONS"],
                         status_code=204, summary="Query metadata of the endpoint.")
    router.add_api_route(_base, _list(_resource), methods=["GET"], summary=f"Returns known {_resource.name}.")
    router.add_api_route(_base, _options("OPTIONS, GET"), methods=["OPTIONS"], status_code=204,
                         summary="Query metadata of the endpoint.")
    router.add_api_route(f"{_base}/{{value:path}}", _item(_resource), methods=["GET"],
                         summary=f"Returns all sub-resources of one of the {_resource.name}.")
    router.add_api_route(f"{_base}/{{value:path}}", _options("OPTIONS, GET"), methods=["OPTIONS"],
                         status_code=204, summary="Query metadata of the endpoint.")


@router.delete("/nextPageToken/{token}", status_code=204, summary="Release the resources of a nextPageToken.")
def delete_page_token(token: str, app: AppDep) -> Response:
    """Invalidate a ``nextPageToken`` (EPCIS 2.0 REST: 204NextPageTokenInvalidated).

    Tokens are self-contained, so deleting one records its digest until it would have expired; a token
    this repository did not sign (or that expired) is unusable already, so the answer is 204 all the same.
    """
    now = int(time.time())
    expires = token_expiry(token, app.settings.secret_key.encode())
    if expires is not None and expires > now:
        app.trace.revoke_page_token(token_digest(token), expires_at=expires, now=now)
    return Response(status_code=204)
