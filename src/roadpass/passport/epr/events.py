"""Collection and recycling of waste batteries as EPCIS 2.0 documents (what EPR reports are read from).

* Collection: an ObjectEvent OBSERVE with the CBV 2.0 business step ``collecting`` (CBV 2.0 §7.1: "picking
  up and gathering objects") at the take-back point or recycling outlet (``bizLocation``, a GLN that the
  document's master data describes), disposition ``inactive``; roadpass's own fields say the battery is
  now waste (``rp:batteryStatus``, Annex XIII (4)(c)) and under which obligation it was taken back.
* Recycling: a TransformationEvent with the collected batteries as inputs and the recovered materials as
  outputs (LGTIN classes in kilograms, UN/CEFACT ``KGM``), with the masses the rates are computed from:
  ``rp:inputMassKg``, ``rp:recycledMassKg`` (output fractions counted as recycling) and
  ``rp:recoveredKg`` (element content recovered, Annex XII Part C). CBV 2.0 has no business step for
  recycling, so it is roadpass's own URI under its namespace (CBV 2.0 §7.1 allows user vocabulary).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

__all__ = [
    "COLLECTING",
    "EPCIS_CONTEXT",
    "RECYCLING",
    "RP",
    "collection_document",
    "location_master_data",
    "recycling_document",
]

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
RP = "https://roadpass.dev/ns/epcis/"
COLLECTING = "https://ref.gs1.org/cbv/BizStep-collecting"
RECYCLING = RP + "bizstep/recycling"
_MDA = "urn:epcglobal:cbv:mda#"


def _time(at: datetime) -> tuple[str, str]:
    offset = at.utcoffset()
    if offset is None:
        raise ValueError("at: the event time must carry a UTC offset (EPCIS 2.0 §7.4.1)")
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return at.isoformat(timespec="milliseconds"), f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _document(events: list[dict[str, Any]], at: datetime, master: list[dict[str, Any]] | None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT, {"rp": RP}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(at)[0],
    }
    if master:
        doc["epcisHeader"] = {"epcisMasterData": {"vocabularyList": master}}
    doc["epcisBody"] = {"eventList": events}
    return doc


def location_master_data(
    sgln: str, *, name: str, city: str, country: str, role: str, owner_pgln: str
) -> dict[str, Any]:
    """A BusinessLocation vocabulary element: a take-back point (``collection_point``) or recycler."""
    attributes = [
        (_MDA + "name", name), (_MDA + "city", city), (_MDA + "countryCode", country),
        (RP + "siteRole", role), (RP + "owningParty", owner_pgln),
    ]
    return {"id": sgln, "attributes": [{"id": k, "attribute": v} for k, v in attributes]}


def collection_document(
    epcs: Sequence[str], *, location: str, at: datetime, collector: str | None = None,
    scheme: str = "Art. 61(1) take-back of waste EV batteries", master: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One collecting ObjectEvent for the batteries ``epcs`` at ``location`` (an SGLN)."""
    when, offset = _time(at)
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventTime": when,
        "eventTimeZoneOffset": offset,
        "epcList": list(epcs),
        "action": "OBSERVE",
        "bizStep": "collecting",
        "disposition": "inactive",
        "readPoint": {"id": location},
        "bizLocation": {"id": location},
        "rp:batteryStatus": "Waste",
        "rp:collectionScheme": scheme,
    }
    if collector:
        event["destinationList"] = [{"type": "possessing_party", "destination": collector}]
    vocab = [{"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": list(master)}]
    return _document([event], at, vocab if master else None)


def recycling_document(
    inputs: Sequence[str], *, location: str, at: datetime, outputs: Mapping[str, tuple[str, float]],
    input_mass_kg: float, recycled_mass_kg: float, master: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """One recycling TransformationEvent: ``outputs`` maps an element (``lithium``...) to the LGTIN class
    of the recovered fraction and the kilograms of the element recovered in it."""
    when, offset = _time(at)
    event: dict[str, Any] = {
        "type": "TransformationEvent",
        "eventTime": when,
        "eventTimeZoneOffset": offset,
        "inputEPCList": list(inputs),
        "outputQuantityList": [
            {"epcClass": klass, "quantity": round(kg, 3), "uom": "KGM"} for klass, kg in outputs.values() if kg > 0
        ],
        "bizStep": RECYCLING,
        "disposition": "destroyed",
        "readPoint": {"id": location},
        "bizLocation": {"id": location},
        "rp:inputMassKg": round(input_mass_kg, 3),
        "rp:recycledMassKg": round(recycled_mass_kg, 3),
        "rp:recoveredKg": {element: round(kg, 3) for element, (_, kg) in outputs.items()},
    }
    vocab = [{"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": list(master)}]
    return _document([event], at, vocab if master else None)
