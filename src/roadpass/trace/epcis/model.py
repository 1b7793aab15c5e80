"""A captured event reduced to what storage, queries and genealogy need (the JSON-LD itself is kept whole)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

import orjson

__all__ = ["EVENT_TYPES", "CapturedEvent", "Role"]

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")


class Role(IntEnum):
    """In which field of an event an identifier appears (EPCIS 2.0 §7.3 / the MATCH_ query parameters)."""

    EPC = 1  # epcList
    PARENT = 2  # parentID
    CHILD = 3  # childEPCs
    INPUT = 4  # inputEPCList
    OUTPUT = 5  # outputEPCList
    QUANTITY = 6  # quantityList[].epcClass
    CHILD_QUANTITY = 7  # childQuantityList[].epcClass
    INPUT_QUANTITY = 8  # inputQuantityList[].epcClass
    OUTPUT_QUANTITY = 9  # outputQuantityList[].epcClass


@dataclass(slots=True)
class CapturedEvent:
    """One event of a capture, parsed: identity, indexed fields and identifiers in canonical form."""

    index: int
    raw: dict[str, Any]
    event_type: str
    event_time: int
    hash_id: str
    event_id: str
    action: str | None = None
    biz_step: str | None = None
    disposition: str | None = None
    read_point: str | None = None
    biz_location: str | None = None
    parent: str | None = None
    identifiers: list[tuple[str, int]] = field(default_factory=list)  # (canonical key, Role value)
    error_declaration: dict[str, Any] | None = None
    doc: str | None = None  # the stored JSON (recordTime left out), when already serialised

    def stored_json(self) -> str:
        """The event as stored: the captured JSON without the client's recordTime (the repository sets it)."""
        if self.doc is None:
            raw = self.raw
            if "recordTime" in raw:
                raw = {k: v for k, v in raw.items() if k != "recordTime"}
            self.doc = orjson.dumps(raw).decode()
        return self.doc

    def keys(self, *roles: Role) -> list[str]:
        """Canonical identifiers of this event in any of ``roles``."""
        return [key for key, role in self.identifiers if role in roles]
