"""The EPCIS 2.0 events a work order's part swaps are, so that genealogy learns of them by the capture path.

A part taken out of a vehicle is an AggregationEvent with action DELETE (EPCIS 2.0 §7.4.3: "the
specified children are disaggregated from the parent"), a part put in is one with action ADD, both with
bizStep ``repairing`` (CBV 2.0 §7.2, the business step vocabulary). The removed part's disposition is
``needs_replacement`` and the fitted one's ``active``, as the demo fleet's workshop events have it. Each
event's eventID is derived from the work order's key, the role and the part, so sending the same work
order twice captures nothing twice (capture treats a known eventID as a duplicate), and a record whose
events were captured but whose rows were not can simply be sent again.

Pure: the document is built here and captured by :meth:`roadpass.trace.service.TraceService.capture`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from roadpass.aftermarket.service.model import WorkOrder
from roadpass.trace.timeutil import iso_utc

__all__ = ["EPCIS_CONTEXT", "RP_NAMESPACE", "repair_document", "repair_event_id", "repair_events"]

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
#: roadpass's own extension namespace (EPCIS 2.0 §9.6: user extensions carry a namespace IRI).
RP_NAMESPACE = "https://roadpass.dev/ns/epcis/"
#: The namespace work-order event IDs are derived in (RFC 9562 §5.5, name-based UUID version 5).
_EVENT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, RP_NAMESPACE + "serviceRecord")


def repair_event_id(record_key: str, role: str, part: str) -> str:
    """The eventID of the event recording ``part`` ``role`` (removed / fitted) under work order ``record_key``."""
    return f"urn:uuid:{uuid.uuid5(_EVENT_NAMESPACE, f'{record_key}|{role}|{part}')}"


def repair_events(order: WorkOrder, vehicle: str) -> list[dict[str, Any]]:
    """The AggregationEvents of ``order``'s part swaps on the vehicle whose canonical key is ``vehicle``.

    Removals come first: in a swap the old part leaves before the new one goes in, and capture orders a
    child's facts by time, so both carry the work order's time."""
    when = iso_utc(order.performed_at)
    out: list[dict[str, Any]] = []
    for role, action, disposition, parts in (
        ("removed", "DELETE", "needs_replacement", order.removed),
        ("fitted", "ADD", "active", order.fitted),
    ):
        for part in parts:
            event: dict[str, Any] = {
                "type": "AggregationEvent",
                "eventID": repair_event_id(order.record_key, role, part),
                "eventTime": when,
                "eventTimeZoneOffset": "+00:00",
                "parentID": vehicle,
                "childEPCs": [part],
                "action": action,
                "bizStep": "repairing",
                "disposition": disposition,
                "rp:serviceRecord": order.record_key,
            }
            if order.site:
                event["readPoint"] = {"id": order.site}
                event["bizLocation"] = {"id": order.site}
            out.append(event)
    return out


def repair_document(orders: Sequence[WorkOrder], vehicles: Mapping[str, str], *, created: int) -> dict[str, Any]:
    """One EPCIS document with the repair events of every order (``vehicles``: VIN → canonical key)."""
    events = [event for order in orders for event in repair_events(order, vehicles[order.vin])]
    return {
        "@context": [EPCIS_CONTEXT, {"rp": RP_NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": iso_utc(created),
        "epcisBody": {"eventList": events},
    }
