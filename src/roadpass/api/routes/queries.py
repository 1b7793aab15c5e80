"""EPCIS 2.0 REST bindings: named queries (``/queries``, ``/queries/{queryName}``, ``…/events``; §8.2.5).

A named query belongs to the party that made it (:mod:`roadpass.access.policy`: ``queries.read``,
``queries.write``); another party's query is answered as if it did not exist and the refusal is ledgered.
Its events are answered exactly as ``GET /events`` answers them, under the caller's visibility.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect, WebSocketException
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, next_page_link, problem
from roadpass.api.routes.epcis import EPCIS_HEADERS, discovery, event_query_response, query_problem, request_params
from roadpass.trace.capture_plan import now_us
from roadpass.trace.live_subscription import open_live
from roadpass.trace.named_queries import DefinitionRejected
from roadpass.trace.named_query_service import NamedQueryExists, NamedQueryNotFound
from roadpass.trace.query import QueryError, parse_page_size
from roadpass.trace.service import Hidden
from roadpass.trace.subscriptions import SubscriptionRejected

__all__ = ["NO_SUCH_NAME", "router"]

router = APIRouter(tags=["Queries"])

NO_SUCH_NAME = "epcisException:NoSuchNameException"  # EPCIS 2.0 §8.2.7: the query name does not exist

# EPCIS 2.0 REST bindings, requestBodies/CreateQuery (QueryDefinition): documented here because the handler
# reads the body itself, so that a refusal names every JSON path at once.
_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["name", "query"],
            "properties": {
                "name": {"type": "string", "description": "Unique query name (letters, digits, . _ ~ -)."},
                "query": {"type": "object", "description": "An EPCIS event query (GS1 query-schema.json)."},
            },
        }}},
    }
}

_CREATE_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the definition is refused; every JSON path and reason"},
    409: {"description": "a query has this name"},
    415: {"description": "not JSON"},
}


def _not_found(access: AccessDep, name: str, exc: Exception) -> Response:
    """404 for a name that is unknown, or another party's (that refusal is ledgered)."""
    title = f"no query named {name!r}"
    if isinstance(exc, Hidden):
        return hidden(access, title, f"query {name!r} is another party's", type_=NO_SUCH_NAME)
    return problem(404, title, type_=NO_SUCH_NAME)


@router.options("/queries", status_code=204, summary="Query the metadata of the EPCIS queries endpoint.")
def queries_options() -> Response:
    """EPCIS 2.0 REST: 204WritableResourcesDiscovery."""
    return discovery("OPTIONS, GET, POST")


@router.post("/queries", status_code=201, summary="Creates a named EPCIS events query.", openapi_extra=_CREATE_BODY,
             response_class=Response, responses=_CREATE_ANSWERS)
async def create_query(request: Request, app: AppDep, access: AccessDep) -> Response:
    """Store ``{"name", "query"}`` for the caller's party; 201 with ``Location: /queries/{name}``."""
    body = await json_body(request, "a query definition", "epcisException:QueryValidationException")
    if isinstance(body, Response):
        return body
    party = access.principal.party
    try:
        # The write transaction may wait for SQLite's single writer: off the event loop.
        made = await anyio.to_thread.run_sync(functools.partial(
            app.queries.create, body, actor=access.principal.actor, party_id=party.id if party else None))
    except DefinitionRejected as exc:
        return problem(400, f"query definition refused: {exc}", type_="epcisException:QueryValidationException",
                       errors=[p.as_json() for p in exc.problems])
    except NamedQueryExists as exc:
        return problem(409, f"a query named {str(exc)!r} already exists",
                       type_="epcisException:ResourceAlreadyExistsException")
    return Response(status_code=201, headers={**EPCIS_HEADERS, "Location": f"/queries/{quote(made.name, safe='')}"})


@router.get("/queries", summary="Returns a list of queries available.")
def list_queries(
    request: Request,
    app: AppDep,
    access: AccessDep,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    """The caller's party's named queries by name (every party's for the operator), a page at a time."""
    settings = app.settings
    try:
        size = settings.page_size_default if per_page is None else parse_page_size(
            "perPage", per_page, settings.page_size_max)
        page, token = app.queries.listing(party_scope=access.party_scope, per_page=size,
                                          next_page_token=next_page_token)
    except QueryError as exc:
        return query_problem(exc)
    headers = dict(EPCIS_HEADERS)
    if token is not None:
        headers["Link"] = next_page_link(request, token)
    return JsonResponse([q.as_json() for q in page], headers=headers)


@router.options("/queries/{query_name}", status_code=204, summary="Query the metadata of the named queries endpoint.")
def query_options(query_name: str) -> Response:
    """EPCIS 2.0 REST: 204RemovableResourcesDiscovery."""
    return discovery("OPTIONS, GET, DELETE")


@router.get("/queries/{query_name}", summary="Returns the query definition.", responses={404: {}})
def get_query(query_name: str, app: AppDep, access: AccessDep) -> Response:
    """``{"name", "query"}`` of one of the caller's party's queries (any party's for the operator)."""
    try:
        found = app.queries.get(query_name, party_scope=access.party_scope)
    except (NamedQueryNotFound, Hidden) as exc:
        return _not_found(access, query_name, exc)
    return JsonResponse(found.as_json(), headers=EPCIS_HEADERS)


@router.delete("/queries/{query_name}", status_code=204, summary="Removes a named query.", responses={404: {}})
def delete_query(query_name: str, app: AppDep, access: AccessDep) -> Response:
    """Delete one of the caller's party's queries (ledgered)."""
    try:
        app.queries.delete(query_name, actor=access.principal.actor, party_scope=access.party_scope)
    except (NamedQueryNotFound, Hidden) as exc:
        return _not_found(access, query_name, exc)
    return Response(status_code=204, headers=EPCIS_HEADERS)


@router.options("/queries/{query_name}/events", status_code=204,
                summary="Query the metadata of the EPCIS events query result endpoint.")
def query_events_options(query_name: str) -> Response:
    """EPCIS 2.0 REST: 204DefaultDiscoveryResponse."""
    return discovery("OPTIONS, GET")


@router.get("/queries/{query_name}/events", summary="Returns the EPCIS events of a named query.",
            responses={404: {}})
def query_events(
    query_name: str,
    request: Request,
    app: AppDep,
    access: AccessDep,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    """The events the stored query selects among those the caller may see: the same document, headers and
    paging as ``GET /events`` (the stored query's own parameters, then ``perPage`` and ``nextPageToken``)."""
    try:
        stored = app.queries.event_parameters(query_name, request_params(request), party_scope=access.party_scope)
    except (NamedQueryNotFound, Hidden) as exc:
        return _not_found(access, query_name, exc)
    except QueryError as exc:
        return query_problem(exc)
    # The stored parameters play the part a resource path plays for /eventTypes/{eventType}/events; a list
    # is one value with '|' separators (EPCIS 2.0 REST query-string form).
    return event_query_response(request, app, access, path_params={k: "|".join(v) for k, v in stored.items()})


@router.websocket("/queries/{query_name}/events")
async def stream_query_events(websocket: WebSocket, query_name: str, app: AppDep, access: AccessDep) -> None:
    """A WebSocket query subscription: ``stream=true`` pushes each capture's matching events, schedule
    parameters (``second``, ``minute``, …) push on that schedule; one EPCIS query document per message, the
    events the caller's party may see when each is sent. ``GS1-Query-Min-Record-Time`` in the handshake says
    from when events are reported."""
    party = access.principal.party
    try:
        live = await anyio.to_thread.run_sync(functools.partial(
            open_live, app.subscriptions, query_name, dict(websocket.query_params), actor=access.principal.actor,
            party_id=access.party_scope, party=None if access.party_scope is None or party is None else party.key))
    except SubscriptionRejected as exc:
        raise WebSocketException(1008, f"subscription refused: {exc}"[:120]) from exc
    except (NamedQueryNotFound, Hidden) as exc:
        raise WebSocketException(1008, f"no query named {query_name!r}"[:120]) from exc
    await websocket.accept(headers=[(b"gs1-query-min-record-time", live.min_record_time.encode())])
    woken, loop = asyncio.Event(), asyncio.get_running_loop()

    def wake() -> None:  # called from the capturing thread: never blocks it
        with contextlib.suppress(RuntimeError):  # the loop is closing
            loop.call_soon_threadsafe(woken.set)

    stop = app.subscriptions.listen(wake)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_until_closed, websocket, group.cancel_scope)
            while True:
                documents = await anyio.to_thread.run_sync(live.poll)
                if documents is None:  # the query was deleted: unsubscribed (REST bindings DELETE /queries)
                    await websocket.close(1000, "the query was deleted")
                    group.cancel_scope.cancel()
                    return
                for document in documents:
                    await websocket.send_text(document.decode())
                with anyio.move_on_after(live.wait_seconds(now_us())):
                    await woken.wait()
                woken.clear()
    finally:
        stop()


async def _until_closed(websocket: WebSocket, scope: anyio.CancelScope) -> None:
    """Read (and ignore) what the client sends until it disconnects, then end the subscription."""
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        scope.cancel()
