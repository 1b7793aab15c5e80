"""JSON responses for the API: orjson-encoded JSON, JSON-LD and RFC 7807 problem details."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response

__all__ = ["JSONLDResponse", "JsonResponse", "ProblemResponse", "problem"]


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
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, **extra}
    return ProblemResponse(body, status_code=status)
