"""EPCIS 2.0 REST bindings: query subscriptions (``/queries/{queryName}/subscriptions``, ``…/{subscriptionID}``).

A subscription belongs to the party that owns the query (:mod:`roadpass.access.policy`: ``queries.read``,
``queries.write``); another party's query or subscription is answered as if it did not exist and the
refusal is ledgered. Webhook delivery (stream subscriptions) runs in the subscription service's worker.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import Response

from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import JsonResponse, hidden, json_body, problem
from roadpass.api.routes.epcis import EPCIS_HEADERS, discovery
from roadpass.api.routes.queries import NO_SUCH_NAME
from roadpass.trace.named_query_service import NamedQueryNotFound
from roadpass.trace.service import Hidden
from roadpass.trace.subscription_service import SubscriptionNotFound
from roadpass.trace.subscriptions import SubscriptionRejected

__all__ = ["router"]

router = APIRouter(tags=["Subscriptions"])

_NO_SUCH_SUBSCRIPTION = "epcisException:NoSuchSubscriptionException"  # EPCIS 2.0 §8.2.7: unknown subscriptionID
_CONTROLS = "epcisException:SubscriptionControlsException"  # REST bindings: 400SubscriptionIssues

# EPCIS 2.0 REST bindings, POST /queries/{queryName}/subscriptions (AbstractQuerySubscription with a stream or
# a schedule): documented here because the handler reads the body itself, so that a refusal names every
# JSON path at once.
_CREATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["dest"],
            "properties": {
                "dest": {"type": "string", "format": "uri", "description": "Webhook URL deliveries are posted to."},
                "signatureToken": {"type": "string", "description": "HMAC-SHA256 key of the GS1-Signature header."},
                "reportIfEmpty": {"type": "boolean"},
                "initialRecordTime": {"type": "string", "format": "date-time"},
                "stream": {"type": "boolean", "description": "true: every new matching event."},
                "schedule": {"type": "object", "description": "When to run (query-schedule.json)."},
            },
        }}},
    }
}

_CREATE_ANSWERS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the subscription is refused; every JSON path and reason"},
    404: {"description": "no such query"},
    415: {"description": "not JSON"},
}


def _not_found(access: AccessDep, name: str, subscription_id: str | None, exc: Exception) -> Response:
    """404 for an unknown query or subscription, or another party's (that refusal is ledgered)."""
    if subscription_id is None or isinstance(exc, NamedQueryNotFound):
        title, type_, what = f"no query named {name!r}", NO_SUCH_NAME, f"query {name!r}"
    else:
        title, type_ = f"no subscription {subscription_id!r} to query {name!r}", _NO_SUCH_SUBSCRIPTION
        what = f"subscription {subscription_id!r}"
    if isinstance(exc, Hidden):
        return hidden(access, title, f"{what} is another party's", type_=type_)
    return problem(404, title, type_=type_)


def _location(name: str, subscription_id: str) -> str:
    return f"/queries/{quote(name, safe='')}/subscriptions/{quote(subscription_id, safe='')}"


@router.options("/queries/{query_name}/subscriptions", status_code=204,
                summary="Query the metadata of the subscriptions endpoint.")
def subscriptions_options(query_name: str) -> Response:
    """EPCIS 2.0 REST: 204WritableResourcesDiscovery."""
    return discovery("OPTIONS, GET, POST")


@router.post("/queries/{query_name}/subscriptions", status_code=201, summary="Creates a query subscription.",
             openapi_extra=_CREATE_BODY, response_class=Response, responses=_CREATE_ANSWERS)
async def create_subscription(query_name: str, request: Request, app: AppDep, access: AccessDep) -> Response:
    """Subscribe the caller's party to its query; 201 with the subscription (no secret) and its ``Location``."""
    body = await json_body(request, "a subscription", _CONTROLS)
    if isinstance(body, Response):
        return body
    party = access.principal.party
    try:
        # The write transaction may wait for SQLite's single writer: off the event loop.
        made = await anyio.to_thread.run_sync(functools.partial(
            app.subscriptions.create, query_name, body, actor=access.principal.actor,
            party_id=party.id if party else None))
    except (NamedQueryNotFound, Hidden) as exc:
        return _not_found(access, query_name, None, exc)
    except SubscriptionRejected as exc:
        return problem(400, f"subscription refused: {exc}", type_=_CONTROLS,
                       errors=[p.as_json() for p in exc.problems])
    return JsonResponse(made.as_json(), status_code=201,
                        headers={**EPCIS_HEADERS, "Location": _location(query_name, made.id)})


@router.get("/queries/{query_name}/subscriptions",
            summary="Returns active subscriptions with the option to use pagination if needed.", responses={404: {}})
def list_subscriptions(query_name: str, app: AppDep, access: AccessDep) -> Response:
    """The query's live subscriptions the caller may see, with their delivery state."""
    try:
        found = app.subscriptions.listing(query_name, party_scope=access.party_scope)
    except (NamedQueryNotFound, Hidden) as exc:
        return _not_found(access, query_name, None, exc)
    return JsonResponse([s.as_json() for s in found], headers=EPCIS_HEADERS)


@router.options("/queries/{query_name}/subscriptions/{subscription_id}", status_code=204,
                summary="Query the metadata of the endpoint for an individual subscription.")
def subscription_options(query_name: str, subscription_id: str) -> Response:
    """EPCIS 2.0 REST: 204SubscriptionEndpointDiscovery."""
    return discovery("OPTIONS, DELETE, GET")


@router.get("/queries/{query_name}/subscriptions/{subscription_id}",
            summary="Returns the details of a subscription.", responses={404: {}})
def get_subscription(query_name: str, subscription_id: str, app: AppDep, access: AccessDep) -> Response:
    """One subscription (no secret) with its delivery state: ``lastNotifiedAt``, ``failures``."""
    try:
        found = app.subscriptions.get(query_name, subscription_id, party_scope=access.party_scope)
    except (SubscriptionNotFound, Hidden) as exc:
        return _not_found(access, query_name, subscription_id, exc)
    return JsonResponse(found.as_json(), headers=EPCIS_HEADERS)


@router.delete("/queries/{query_name}/subscriptions/{subscription_id}", status_code=204,
               summary="Unsubscribes a client by deleting the query subscription.", responses={404: {}})
def delete_subscription(query_name: str, subscription_id: str, app: AppDep, access: AccessDep) -> Response:
    """Unsubscribe (ledgered); deliveries not yet made are dropped."""
    try:
        app.subscriptions.delete(query_name, subscription_id, actor=access.principal.actor,
                                 party_scope=access.party_scope)
    except (SubscriptionNotFound, Hidden) as exc:
        return _not_found(access, query_name, subscription_id, exc)
    return Response(status_code=204, headers=EPCIS_HEADERS)
