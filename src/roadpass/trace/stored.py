"""Stored events as the repository hands them back, and who may see one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.timeutil import iso_utc

__all__ = ["StoredEvent", "event_keys", "render_event"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event row with what it takes to render it as EPCIS JSON-LD."""

    row_id: int
    event_id: str
    hash_id: str
    event_time: int
    record_time: int
    doc: str
    context: str
    declaration: str | None
    actor: str  # who captured it (a caller reads its own captures whole: roadpass.trace.redaction)


def render_event(event: StoredEvent) -> dict[str, Any]:
    """The event as EPCIS 2.0 JSON-LD: as captured, with its eventID, the repository's recordTime
    (EPCIS 2.0 §7.4.1: set on capture) and any errorDeclaration made against it since."""
    body: dict[str, Any] = orjson.loads(event.doc)
    if "eventID" not in body:
        body["eventID"] = event.event_id
    body["recordTime"] = iso_utc(event.record_time)
    if event.declaration is not None:
        body["errorDeclaration"] = orjson.loads(event.declaration)
    return body


_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def event_keys(doc: dict[str, Any]) -> list[str]:
    """The canonical keys of the identifiers an event names (its stored JSON was validated on capture)."""
    raw: list[str] = [doc["parentID"]] if isinstance(doc.get("parentID"), str) else []
    for name in _EPC_LISTS:
        raw += [v for v in doc.get(name) or () if isinstance(v, str)]
    for name in _QUANTITY_LISTS:
        raw += [q["epcClass"] for q in doc.get(name) or () if isinstance(q, dict) and "epcClass" in q]
    keys: list[str] = []
    for value in raw:
        try:
            keys.append(canonical_id(value))
        except IdentifierError:
            continue
    return keys
