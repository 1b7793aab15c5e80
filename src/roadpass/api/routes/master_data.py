"""Master data over REST, under roadpass's own namespace: the EPCIS 2.0 REST bindings offer no master data
resource, though capture accepts it in ``epcisHeader.epcisMasterData`` (EPCIS 2.0 §6.5, §9.2).

``GET /masterdata`` lists vocabulary elements (latest versions), paged by keyset; ``GET
/masterdata/{type}/{key}`` gives one element with its whole version history and, with ``at``, the version
that stood at that instant. Product, site and party names are readable by any signed-in party.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from roadpass.api.deps import AppDep
from roadpass.api.responses import JsonResponse, next_page_link, problem
from roadpass.trace.master_data import element_json, parse_master_data_query, version_json
from roadpass.trace.master_data_service import ElementNotFound
from roadpass.trace.query import QueryError
from roadpass.trace.timeutil import parse_time

__all__ = ["router"]

router = APIRouter(tags=["Master data"])


@router.get("/masterdata", summary="Vocabulary elements (products, sites, read points, parties), paged.")
def list_master_data(
    request: Request,
    app: AppDep,
    type_: Annotated[str | None, Query(alias="type", description="EPCClass, BusinessLocation, ReadPoint, Party "
                                       "or a vocabulary type URI")] = None,
    key: Annotated[str | None, Query(description="One element's key, in any identifier form")] = None,
    key_prefix: Annotated[str | None, Query(alias="keyPrefix", description="Keys (canonical GS1 Digital Link "
                                            "URIs) starting with this", examples=["https://id.gs1.org/414/"])] = None,
    name: Annotated[str | None, Query(description="Text in the element's name (case-insensitive)")] = None,
    per_page: Annotated[str | None, Query(alias="perPage")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> Response:
    """The elements matching every filter given, ordered by type then key, each with its latest version;
    ``nextPageToken`` and a ``Link: <…>; rel="next"`` header while more follow."""
    params = {"type": type_, "key": key, "keyPrefix": key_prefix, "name": name, "perPage": per_page,
              "nextPageToken": next_page_token}
    settings = app.settings
    try:
        query = parse_master_data_query(params, default_per_page=settings.page_size_default,
                                        max_per_page=settings.page_size_max)
    except QueryError as exc:
        return problem(400, str(exc), parameter=exc.parameter)
    page = app.master_data.list(query)
    body: dict[str, Any] = {"elements": [element_json(e) for e in page.elements]}
    headers: dict[str, str] = {}
    if page.next_token is not None:
        body["nextPageToken"] = page.next_token
        headers["Link"] = next_page_link(request, page.next_token)
    return JsonResponse(body, headers=headers)


@router.get("/masterdata/{vocabulary_type}/{key:path}", summary="One vocabulary element with its history.")
def show_master_data(
    vocabulary_type: str,
    key: str,
    app: AppDep,
    at: Annotated[str | None, Query(description="ISO 8601 instant with offset: the version that stood then",
                                    examples=["2026-01-01T00:00:00Z"])] = None,
) -> Response:
    """Every version of the element, oldest first; with ``at``, also the version standing at that instant
    (404 when the first version was recorded after it)."""
    try:
        instant = parse_time(at, "at") if at is not None else None
    except ValueError as exc:
        return problem(400, str(exc), parameter="at")
    try:
        element = app.master_data.element(vocabulary_type, key)
    except ElementNotFound as exc:
        return problem(404, str(exc))
    body = element_json(element, history=True)
    if instant is not None:
        standing = element.at(instant)
        if standing is None:
            return problem(404, f"no version of {element.key} had been recorded at {at}", parameter="at")
        body["at"] = at
        body["atVersion"] = version_json(standing)
    return JsonResponse(body)
