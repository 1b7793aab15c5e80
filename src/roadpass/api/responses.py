"""JSON responses for the API: orjson-encoded JSON, JSON-LD and RFC 7807 problem details."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request
from fastapi.responses import Response

from roadpass.access.policy import Decision
from roadpass.api.deps import Access
from roadpass.api.problems import problem_body

__all__ = [
    "JSONLDResponse", "JsonResponse", "ProblemResponse", "hidden", "json_body", "next_page_link", "problem",
]


def next_page_link(request: Request, token: str) -> str:
    """The ``Link`` header to the next page: this request's query with ``nextPageToken`` set to ``token``."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
    return f'<{request.url.path}?{urlencode([*kept, ("nextPageToken", token)])}>; rel="next"'


class JsonResponse(Response):
    """``application/json`` encoded with orjson."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Encode ``content``."""
        return orjson.dumps(content)


class JSONLDResponse(JsonResponse):
    """``application/ld+json`` (EPCIS 2.0 documents)."""

    media_type = "application/ld+json"


class ProblemResponse(JsonResponse):
    """``application/problem+json`` (RFC 7807), as the EPCIS 2.0 REST bindings use for errors."""

    media_type = "application/problem+json"


def problem(status: int, title: str, *, type_: str = "about:blank", **extra: Any) -> ProblemResponse:
    """An RFC 7807 problem response."""
    return ProblemResponse(problem_body(status, title, type_=type_, **extra), status_code=status)


def hidden(access: Access, title: str, reason: str, *, type_: str = "about:blank") -> ProblemResponse:
    """Something exists that the caller may not see: the refusal goes to the ledger (``reason``), and the
    caller is answered 404 as if it did not exist (``title``), so that existence does not leak."""
    decision = access.decision
    access.deny(Decision(False, 404, decision.effect, decision.rule, reason))
    return problem(404, title, type_=type_)


_JSON_TYPES = ("application/json", "application/ld+json")


async def json_body(request: Request, what: str, invalid_type: str) -> Any:
    """The request's JSON body, or the refusal to send: 415 (EPCIS 2.0 REST: UnsupportedMediaTypeException)
    for another media type, 400 of ``invalid_type`` naming ``$`` for a body that is not JSON. ``what`` names
    the thing the body should be ("a query definition")."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in _JSON_TYPES:
        return problem(415, f"{what} is JSON, not {media}", type_="epcisException:UnsupportedMediaTypeException")
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        return problem(400, f"not JSON: {exc}", type_=invalid_type, errors=[{"instance": "$", "title": "not JSON"}])
