"""EPCIS 2.0 documents for tests: a document around events, and a pack fitted into the test vehicle."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
VEHICLE = "urn:epc:id:giai:0614141.LSJA24U69RS000017"
_ids = itertools.count(1)


def document(*events: dict[str, Any], created: str = "2025-01-01T00:00:00Z") -> dict[str, Any]:
    """An EPCISDocument carrying ``events``."""
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": created,
            "epcisBody": {"eventList": list(events)}}


def aggregation(action: str, when: str, parent: str, child: str) -> dict[str, Any]:
    """An AggregationEvent (``action`` ADD or DELETE) of ``child`` in ``parent`` at ``when``, with an eventID
    of its own."""
    return {"type": "AggregationEvent", "eventTime": when, "eventTimeZoneOffset": "+00:00",
            "eventID": f"urn:uuid:{uuid.UUID(int=next(_ids) | (4 << 76) | (2 << 62))}",
            "parentID": parent, "childEPCs": [child], "action": action, "bizStep": "assembling"}


def fitted(pack: str, when: str) -> dict[str, Any]:
    """``pack`` fitted into the test vehicle at ``when``."""
    return aggregation("ADD", when, VEHICLE, pack)
