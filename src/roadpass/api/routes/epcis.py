"""EPCIS 2.0 REST bindings: capture, capture jobs, events (GS1 EPCIS 2.0 §12, openapi.yaml)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

import anyio
import orjson
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, ActorDep, AppDep
from roadpass.api.responses import JSONLDResponse, JsonResponse, hidden, next_page_link, problem
from roadpass.trace.capture import CaptureRejected
from roadpass.trace.capture_plan import now_us
from roadpass.trace.query import QueryError, parse_event_query, sign_page_token, token_digest
from roadpass.trace.service import CaptureFailed, Hidden
from roadpass.trace.views import query_document

__all__ = [
    "EPCIS_HEADERS", "discovery", "event_query_response", "query_problem", "request_params", "router",
    "token_expires",
]

router = APIRouter(tags=["EPCIS 2.0"])

EPCIS_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0", "GS1-Extensions": ""}
_VALIDATION = "epcisException:ValidationException"
_QUERY_PARAMETER = "epcisException:QueryParameterException"
# Events are answered with their identifiers as captured (EPCIS 2.0 REST: GS1-EPC-Format).
_EVENT_FORMAT = {"GS1-EPC-Format": "Never_Translates"}


def discovery(allow: str) -> Response:
    """204 to ``OPTIONS`` on an EPCIS resource (EPCIS 2.0 REST: 204DefaultDiscoveryResponse)."""
    headers = {
        **EPCIS_HEADERS, "Allow": allow, "GS1-EPCIS-Min": "2.0.0", "GS1-EPCIS-Max": "2.0.0",
        "GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0", **_EVENT_FORMAT, "GS1-CBV-XML-Format": "Never_Translates",
    }
    return Response(status_code=204, headers=headers)


def query_problem(exc: QueryError) -> Response:
    """400 ``QueryParameterException`` naming the parameter (EPCIS 2.0 REST: 400QueryIssues)."""
    return problem(400, str(exc), type_=_QUERY_PARAMETER, parameter=exc.parameter)


def request_params(request: Request) -> dict[str, list[str]]:
    """The query string as name → values (a repeated parameter keeps every value)."""
    params: dict[str, list[str]] = {}
    for name, value in request.query_params.multi_items():
        params.setdefault(name, []).append(value)
    return params


def token_expires(expires: int) -> str:
    """``GS1-Next-Page-Token-Expires``: a date-time."""
    return datetime.fromtimestamp(expires, UTC).isoformat().replace("+00:00", "Z")


def event_query_response(
    request: Request, app: AppDep, access: AccessDep, path_params: dict[str, str] | None = None
) -> Response:
    """Answer an events resource (``/events``, ``/epcs/{epc}/events``, …) as an EPCISQueryDocument.

    ``path_params`` are what the path says (``/bizSteps/{bizStep}/events`` is ``EQ_bizStep``); the query
    string may not say it again. The next page's token is signed and carries the query, so it may come back
    alone (EPCIS 2.0 REST: scrolling); it is given in the ``Link`` header and in the body.
    """
    params = request_params(request)
    for name, value in (path_params or {}).items():
        if name in params:
            return query_problem(QueryError(name, "the path gives this parameter; leave it out of the query"))
        params[name] = [value]
    key = app.settings.secret_key.encode()
    given = params.get("nextPageToken")
    try:
        if given and app.trace.page_token_revoked(token_digest(given[0])):
            raise QueryError("nextPageToken", "the token was deleted (DELETE /nextPageToken/{token})")
        query = parse_event_query(
            params, default_per_page=app.settings.page_size_default, max_per_page=app.settings.page_size_max,
            token_key=key,
        )
    except QueryError as exc:
        return query_problem(exc)
    query.visibility = access.visibility
    rendered, contexts, token = app.trace.events(query)
    headers = {**EPCIS_HEADERS, **_EVENT_FORMAT}
    document = query_document(rendered, contexts, "SimpleEventQuery", now_us())
    if token is not None:
        signed, expires = sign_page_token(token, query, key)
        headers["Link"] = next_page_link(request, signed)
        headers["GS1-Next-Page-Token-Expires"] = token_expires(expires)
        # The query document's schema admits further top-level members (propertyNames: vocab-uri, format
        # not asserted under draft-07); clients read the token from here as often as from the Link header.
        document["nextPageToken"] = signed
    return JSONLDResponse(document, headers=headers)


def _rejected(exc: CaptureRejected) -> Response:
    errors = [
        {"instance": p.path, "title": p.reason, **({"eventIndex": p.event_index} if p.event_index is not None else {})}
        for p in exc.problems
    ]
    return problem(400, str(exc), type_=_VALIDATION, errors=errors)


@router.options("/capture", status_code=204, summary="Discover the settings of the capture interface.")
def capture_options(app: AppDep) -> Response:
    """Capture limits and error behaviours (EPCIS 2.0 REST: 204CaptureEndpointDiscovery)."""
    headers = {
        **EPCIS_HEADERS,
        "Allow": "OPTIONS, GET, POST",
        "GS1-EPCIS-Capture-Limit": str(app.settings.capture_max_events),
        "GS1-EPCIS-Capture-File-Size-Limit": str(app.settings.capture_max_bytes),
        "GS1-Capture-Error-Behaviour": "all",
    }
    return Response(status_code=204, headers=headers)


@router.post("/capture", status_code=202, summary="Capture one or more EPCIS events.")
async def capture(
    request: Request,
    app: AppDep,
    actor: ActorDep,
    behaviour: Annotated[str, Header(alias="GS1-Capture-Error-Behaviour")] = "rollback",
) -> Response:
    """Validate and store an EPCISDocument (or query document); 202 with the capture job's Location."""
    if behaviour not in ("rollback", "proceed"):
        return problem(400, "GS1-Capture-Error-Behaviour must be rollback or proceed", type_=_VALIDATION)
    # The access middleware already refused a body over GS1-EPCIS-Capture-File-Size-Limit (413).
    body = await request.body()
    try:
        # Validation, hashing and the write transaction (which may wait for SQLite's single writer) run
        # in a worker thread: the event loop goes on answering other requests meanwhile.
        outcome = await anyio.to_thread.run_sync(functools.partial(
            app.trace.capture, body, actor=actor, behaviour=behaviour))
    except CaptureRejected as exc:
        return _rejected(exc)
    except CaptureFailed as exc:
        response = problem(400, str(exc), type_=_VALIDATION, errors=exc.errors, captureID=exc.capture_id)
        response.headers["Location"] = f"/capture/{exc.capture_id}"
        return response
    return Response(status_code=202, headers={**EPCIS_HEADERS, "Location": f"/capture/{outcome.capture_id}"})


@router.get("/capture", summary="Returns a list of capture jobs.")
def capture_jobs(
    app: AppDep, access: AccessDep, per_page: Annotated[int, Query(alias="perPage", ge=1, le=1000)] = 30
) -> Response:
    """Recent capture jobs of the caller's party, newest first."""
    jobs = app.trace.capture_jobs(limit=per_page, actor_prefixes=access.actor_prefixes)
    return JsonResponse(jobs, headers=EPCIS_HEADERS)


def _hidden(access: AccessDep, what: str) -> Response:
    """Something exists that the caller may not see: ledgered, and answered as if it did not exist."""
    return hidden(access, f"no {what}", f"{what} is not the caller's", type_="epcisException:NoSuchResourceException")


@router.options("/capture/{capture_id}", status_code=204, summary="Query metadata of a capture job.")
def capture_job_options(capture_id: str) -> Response:
    """EPCIS 2.0 REST: 204DefaultDiscoveryResponse."""
    return discovery("OPTIONS, GET")


@router.get("/capture/{capture_id}", summary="Returns information about the capture job.")
def capture_job(capture_id: str, app: AppDep, access: AccessDep) -> Response:
    """The capture job document (only the caller's party's jobs)."""
    try:
        job = app.trace.capture_job(capture_id, actor_prefixes=access.actor_prefixes)
    except Hidden:
        return _hidden(access, f"capture job {capture_id}")
    if job is None:
        return problem(404, f"no capture job {capture_id}", type_="epcisException:NoSuchResourceException")
    return JsonResponse(job, headers=EPCIS_HEADERS)


@router.options("/events", status_code=204, summary="Query metadata for the EPCIS events endpoint.")
def events_options() -> Response:
    """EPCIS 2.0 REST: 204WritableResourcesDiscovery."""
    return discovery("OPTIONS, GET, POST")


@router.options("/events/{event_id:path}", status_code=204, summary="Query metadata for one event.")
def event_options(event_id: str) -> Response:
    """EPCIS 2.0 REST: 204DefaultDiscoveryResponse."""
    return discovery("OPTIONS, GET")


@router.get("/events", summary="Returns EPCIS events matching the query parameters.")
def events(
    request: Request,
    app: AppDep,
    access: AccessDep,
    event_type: Annotated[str | None, Query(alias="eventType")] = None,
    ge_event_time: Annotated[str | None, Query(alias="GE_eventTime")] = None,
    lt_event_time: Annotated[str | None, Query(alias="LT_eventTime")] = None,
    eq_biz_step: Annotated[str | None, Query(alias="EQ_bizStep")] = None,
    eq_disposition: Annotated[str | None, Query(alias="EQ_disposition")] = None,
    eq_biz_location: Annotated[str | None, Query(alias="EQ_bizLocation")] = None,
    eq_read_point: Annotated[str | None, Query(alias="EQ_readPoint")] = None,
    match_epc: Annotated[str | None, Query(alias="MATCH_epc")] = None,
    match_any_epc: Annotated[str | None, Query(alias="MATCH_anyEPC")] = None,
    match_parent_id: Annotated[str | None, Query(alias="MATCH_parentID")] = None,
    match_input_epc: Annotated[str | None, Query(alias="MATCH_inputEPC")] = None,
    match_output_epc: Annotated[str | None, Query(alias="MATCH_outputEPC")] = None,
    eq_action: Annotated[str | None, Query(alias="EQ_action")] = None,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    """SimpleEventQuery over the events the caller may see, with keyset paging (``Link: <…>; rel="next"``)."""
    return event_query_response(request, app, access)


@router.post("/events", status_code=201, summary="Capture a single EPCIS event synchronously.")
async def capture_event(request: Request, app: AppDep, actor: ActorDep) -> Response:
    """Store one event; 201 with the event's Location (409 when its eventID names a different event)."""
    body = await request.body()
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return problem(400, f"not JSON: {exc}", type_=_VALIDATION)
    if not isinstance(parsed, dict) or parsed.get("type") in ("EPCISDocument", "EPCISQueryDocument"):
        return problem(400, "POST /events takes a single event; use /capture for documents", type_=_VALIDATION)
    try:
        outcome = await anyio.to_thread.run_sync(functools.partial(app.trace.capture, parsed, actor=actor))
    except CaptureRejected as exc:
        return _rejected(exc)
    except CaptureFailed as exc:
        status = 409 if any(p.conflict for p in exc.problems) else 400
        return problem(status, str(exc), type_=_VALIDATION, errors=exc.errors)
    event_id = outcome.event_ids[0]
    return Response(status_code=201, headers={**EPCIS_HEADERS, "Location": f"/events/{quote(event_id, safe='')}"})


@router.get("/events/{event_id:path}", summary="Returns an individual EPCIS event.")
def event(event_id: str, app: AppDep, access: AccessDep) -> Response:
    """One event as an EPCISQueryDocument, with any error declaration made against it (if the caller may see it)."""
    try:
        found = app.trace.event(event_id, visibility=access.visibility)
    except Hidden:
        return _hidden(access, f"event {event_id}")
    if found is None:
        return problem(404, f"no event {event_id}", type_="epcisException:NoSuchResourceException")
    body, context = found
    return JSONLDResponse(query_document([body], [context], "SimpleEventQuery", now_us()), headers=EPCIS_HEADERS)
