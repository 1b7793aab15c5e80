"""The one shape of every error the API answers: an RFC 7807 problem body (EPCIS 2.0 REST bindings use
them with ``epcisException:…`` types)."""

from __future__ import annotations

from typing import Any

__all__ = ["problem_body"]


def problem_body(status: int, title: str, *, type_: str = "about:blank", **extra: Any) -> dict[str, Any]:
    """An RFC 7807 problem body: ``type`` (an ``epcisException:…`` name where the standard names one),
    ``title`` (what went wrong, naming the field), ``status``, and any further members."""
    return {"type": type_, "title": title, "status": status, **extra}
