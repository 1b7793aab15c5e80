"""The canonical property order of the CBV 2.0 event hash (rule 1, the reference's ``PROP_ORDER``).

Part of :mod:`roadpass.trace.epcis.event_hash`, which says what is hashed and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from roadpass.trace.epcis.vocabulary import cbv


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where a field goes in its parent's canonical order, and how its value is rendered."""

    position: int
    sub: Mapping[str, _Slot] | None = None
    vocab: Mapping[str, str] | None = None
    time: bool = False
    child: str | None = None
    child_slot: _Slot | None = None


def _is_time(name: str) -> bool:
    # Reference ``_child_to_pre_hash_string``: a field whose name contains "time" (not "offset") is a time.
    low = name.lower()
    return "time" in low and "offset" not in low


def _order(*names: str | tuple[str, Mapping[str, _Slot] | None, Mapping[str, str] | None]) -> dict[str, _Slot]:
    order: dict[str, _Slot] = {}
    for position, spec in enumerate(names):
        name, sub, vocab = (spec, None, None) if isinstance(spec, str) else spec
        order[name] = _Slot(position, sub, vocab, _is_time(name))
    return order


def _terms(kind: str) -> Mapping[str, str]:
    vocab = cbv().vocabularies[kind]
    return {term: vocab.uri_prefix + term for term in vocab.terms}


@cache
def _top_order() -> Mapping[str, _Slot]:
    """Reference ``PROP_ORDER`` (rule 1, canonical property order table)."""
    quantity = _order("epcClass", "quantity", "uom")
    disposition = _terms("disposition")
    metadata = _order("time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData",
                      "dataProcessingMethod", "bizRules")  # fmt: skip
    report = _order(
        ("type", None, _terms("sensorMeasurementType")), ("exception", None, _terms("sensorAlertType")),
        "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
        "chemicalSubstance", "value", ("component", None, _terms("component")), "stringValue", "booleanValue",
        "hexBinaryValue", "uriValue", "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue",
        "uom", "coordinateReferenceSystem",
    )  # fmt: skip
    element = _order(("sensorMetadata", metadata, None), ("sensorReport", report, None))
    lists = {
        "epcList": ("epc", None), "inputEPCList": ("epc", None), "childEPCs": ("epc", None),
        "quantityList": ("quantityElement", quantity), "childQuantityList": ("quantityElement", quantity),
        "inputQuantityList": ("quantityElement", quantity), "outputEPCList": ("epc", None),
        "outputQuantityList": ("quantityElement", quantity), "sensorElementList": ("sensorElement", element),
    }  # fmt: skip
    top = _order(
        "eventTime", "eventTimeZoneOffset", "certificationInfo", "parentID", "epcList", "inputEPCList",
        "childEPCs", "quantityList", "childQuantityList", "inputQuantityList", "outputEPCList",
        "outputQuantityList", "action", "transformationID", ("bizStep", None, _terms("bizStep")),
        ("disposition", None, disposition),
        ("persistentDisposition", _order(("set", None, disposition), ("unset", None, disposition)), None),
        ("readPoint", _order("id"), None), ("bizLocation", _order("id"), None), "sensorElementList",
    )  # fmt: skip
    for name, (child, sub) in lists.items():
        slot = top[name]
        top[name] = _Slot(slot.position, None, None, False, child, _Slot(0, sub, None, False))
    return top


@cache
def _pair_vocab() -> Mapping[str, Mapping[str, str]]:
    sdt = _terms("sourceDestinationType")
    return {"bizTransaction": _terms("bizTransactionType"), "source": sdt, "destination": sdt}
