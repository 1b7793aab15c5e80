"""Turning an EPCIS 2.0 capture body into events ready to store (pure: no database here).

The whole body is validated against the GS1 schema first; a body that fails is refused whole, naming the
event index, JSON path and reason. Each event then gets its CBV 2.0 hash ID (the key that makes capture
idempotent), its identifiers in canonical form with their roles, and its indexed fields with CBV words
expanded to full URIs so that ``shipping`` and ``https://ref.gs1.org/cbv/BizStep-shipping`` query alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, cast

import orjson

from roadpass.trace.epcis.event_hash import event_hash_id
from roadpass.trace.epcis.model import EVENT_TYPES, CapturedEvent, Role
from roadpass.trace.epcis.schema import SchemaProblem, document_problems
from roadpass.trace.epcis.vocabulary import expand_vocabulary
from roadpass.trace.identifiers import IdentifierError, canonical_id, canonical_memo
from roadpass.trace.timeutil import parse_time
from roadpass.trace.vin import vin_from_identifier

__all__ = [
    "CaptureRejected",
    "MasterDataElement",
    "ParsedCapture",
    "UnitKind",
    "parse_capture",
    "parse_for_storage",
]

# Where identifiers sit in each event, and the role they play (EPCIS 2.0 §7.3.2 - §7.3.7).
# Roles as plain ints: they are compared and bound once per identifier on the capture hot path.
_LIST_FIELDS: tuple[tuple[str, int], ...] = (
    ("epcList", int(Role.EPC)),
    ("childEPCs", int(Role.CHILD)),
    ("inputEPCList", int(Role.INPUT)),
    ("outputEPCList", int(Role.OUTPUT)),
)
_QUANTITY_FIELDS: tuple[tuple[str, int], ...] = (
    ("quantityList", int(Role.QUANTITY)),
    ("childQuantityList", int(Role.CHILD_QUANTITY)),
    ("inputQuantityList", int(Role.INPUT_QUANTITY)),
    ("outputQuantityList", int(Role.OUTPUT_QUANTITY)),
)
_PARENT = int(Role.PARENT)
_CLASS_ROLES = frozenset(role for _name, role in _QUANTITY_FIELDS)
_GS1_PREFIX = "https://id.gs1.org/"
_GS1_PREFIX_LEN = len(_GS1_PREFIX)
_COUNTRY_ATTRIBUTES = ("urn:epcglobal:cbv:mda#countryCode", "cbvmda:countryCode", "countryCode")
_NAME_ATTRIBUTES = ("urn:epcglobal:cbv:mda#name", "cbvmda:name", "name")


class UnitKind:
    """What a canonical identifier names (stored as ``unit.kind``)."""

    INSTANCE = 1
    CLASS = 2
    OTHER = 3


# ``ParsedCapture.units`` entries of every key without a VIN, shared rather than built per key.
_CLASS_UNIT: tuple[int, str | None] = (UnitKind.CLASS, None)
_INSTANCE_UNIT: tuple[int, str | None] = (UnitKind.INSTANCE, None)
_OTHER_UNIT: tuple[int, str | None] = (UnitKind.OTHER, None)


class CaptureRejected(ValueError):
    """The capture body was refused whole; ``problems`` name where and why."""

    def __init__(self, problems: list[SchemaProblem]) -> None:
        self.problems = problems
        first = problems[0] if problems else SchemaProblem("$", "rejected")
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(f"capture rejected: {first}{more}")

    def __reduce__(self) -> tuple[type[CaptureRejected], tuple[list[SchemaProblem]]]:
        return (CaptureRejected, (self.problems,))


@dataclass(frozen=True, slots=True)
class MasterDataElement:
    """One vocabulary element from the document header (EPCIS 2.0 §9.2, CBV master data)."""

    vocabulary_type: str
    key: str
    name: str | None
    country: str | None
    attributes: dict[str, Any]


@dataclass(slots=True)
class ParsedCapture:
    """A validated capture body: its JSON-LD context, events and master data, plus per-event problems."""

    context: Any
    events: list[CapturedEvent] = field(default_factory=list)
    master_data: list[MasterDataElement] = field(default_factory=list)
    problems: list[SchemaProblem] = field(default_factory=list)
    units: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # key -> (UnitKind, VIN)


def _event_list(body: dict[str, Any]) -> tuple[Any, list[dict[str, Any]], dict[str, Any] | None]:
    kind = body.get("type")
    context = body.get("@context")
    if kind in EVENT_TYPES or (kind not in ("EPCISDocument", "EPCISQueryDocument") and "eventTime" in body):
        return context, [body], None
    epcis_body = body.get("epcisBody") or {}
    if kind == "EPCISQueryDocument":
        results = (epcis_body.get("queryResults") or {}).get("resultsBody") or {}
        return context, list(results.get("eventList") or []), body.get("epcisHeader")
    return context, list(epcis_body.get("eventList") or []), body.get("epcisHeader")


def _master_data(header: dict[str, Any] | None) -> Iterator[MasterDataElement]:
    if not header:
        return
    vocabularies = (header.get("epcisMasterData") or {}).get("vocabularyList") or []
    for vocabulary in vocabularies:
        vtype = str(vocabulary.get("type", ""))
        for element in vocabulary.get("vocabularyElementList") or []:
            attrs = {str(a.get("id")): a.get("attribute") for a in element.get("attributes") or []}
            raw_id = str(element.get("id", ""))
            try:
                key = canonical_id(raw_id)
            except IdentifierError:
                key = raw_id
            country = next((str(attrs[a]) for a in _COUNTRY_ATTRIBUTES if attrs.get(a)), None)
            name = next((str(attrs[a]) for a in _NAME_ATTRIBUTES if attrs.get(a)), None)
            yield MasterDataElement(vtype, key, name, country.upper()[:2] if country else None, attrs)


def _raise_at(path: str, name: str, values: list[str], suffix: str) -> None:
    for position, value in enumerate(values):
        try:
            canonical_id(value)
        except IdentifierError as exc:
            raise ValueError(f"{path}.{name}[{position}]{suffix}: {exc}") from exc


def _canonical_ids(values: list[str]) -> list[str]:
    """``canonical_id`` of each value. The event hash has just canonicalised these same strings, so the
    memo holds them: they are looked up in C (map), and computed only when one is missing."""
    keys = list(map(canonical_memo().get, values))
    if all(keys):
        return cast(list[str], keys)
    return [canonical_id(value) for value in values]


def _path(index: int) -> str:
    return f"$.epcisBody.eventList[{index}]"


def _parse_event(index: int, raw: dict[str, Any], context: Any) -> CapturedEvent:
    hash_id = event_hash_id(raw, context)
    event_type = str(raw.get("type"))
    time_text = str(raw.get("eventTime"))
    try:
        event_time = parse_time(time_text)
    except ValueError:
        # Hot path: the JSON path of the field is only formatted once the time has failed to parse.
        event_time = parse_time(time_text, f"{_path(index)}.eventTime")
    event = CapturedEvent(
        index=index,
        raw=raw,
        event_type=event_type,
        event_time=event_time,
        hash_id=hash_id,
        event_id=str(raw.get("eventID") or hash_id),
        action=raw.get("action"),
    )
    if (step := raw.get("bizStep")) is not None:
        event.biz_step = expand_vocabulary("bizStep", str(step))
    if (disposition := raw.get("disposition")) is not None:
        event.disposition = expand_vocabulary("disposition", str(disposition))
    where = "readPoint"
    try:
        if (read_point := raw.get("readPoint")) and read_point.get("id"):
            event.read_point = canonical_id(str(read_point["id"]))
        where = "bizLocation"
        if (location := raw.get("bizLocation")) and location.get("id"):
            event.biz_location = canonical_id(str(location["id"]))
        where = "parentID"
        identifiers = event.identifiers
        if (parent := raw.get("parentID")) is not None:
            event.parent = canonical_id(str(parent))
            identifiers.append((event.parent, _PARENT))
    except IdentifierError as exc:
        raise ValueError(f"{_path(index)}.{where}: {exc}") from exc
    # Hot loop (every identifier of every event): no per-item bookkeeping; the path of a bad value is
    # only worked out once something has failed.
    for name, role in _LIST_FIELDS:
        values = raw.get(name)
        if values:
            try:
                identifiers.extend(zip(_canonical_ids(values), repeat(role)))
            except IdentifierError:
                _raise_at(_path(index), name, values, "")
    for name, role in _QUANTITY_FIELDS:
        elements = raw.get(name)
        if elements:
            try:
                identifiers.extend([(canonical_id(element["epcClass"]), role) for element in elements])
            except IdentifierError:
                _raise_at(_path(index), name, [e["epcClass"] for e in elements], ".epcClass")
    declaration = raw.get("errorDeclaration")
    if isinstance(declaration, dict):
        event.error_declaration = declaration
    return event


def parse_capture(body: Any, *, max_events: int | None = None) -> ParsedCapture:
    """Validate and parse a capture body (EPCISDocument, EPCISQueryDocument or a single event).

    Raises :class:`CaptureRejected` when the body breaks the GS1 schema or exceeds ``max_events``. Problems
    the schema cannot see (a malformed GS1 key, an unparseable time) are returned per event in
    ``problems`` so the caller can apply the capture's error behaviour (rollback or proceed).
    """
    if not isinstance(body, dict):
        raise CaptureRejected([SchemaProblem("$", "the body must be a JSON object")])
    problems = document_problems(body)
    if problems:
        raise CaptureRejected(problems)
    context, raw_events, header = _event_list(body)
    if max_events is not None and len(raw_events) > max_events:
        reason = f"{len(raw_events)} events exceed the capture limit of {max_events}"
        raise CaptureRejected([SchemaProblem("$.epcisBody.eventList", reason)])
    parsed = ParsedCapture(context=context, master_data=list(_master_data(header)))
    units = parsed.units
    for index, raw in enumerate(raw_events):
        try:
            event = _parse_event(index, raw, context)
        except ValueError as exc:
            message = str(exc)
            path, _, reason = message.partition(": ")
            parsed.problems.append(SchemaProblem(path if reason else "$", reason or message, index))
            continue
        parsed.events.append(event)
        for key, role in event.identifiers:
            if key not in units:
                # What the key names: class-level roles name lots/classes, GS1 keys with a serial name
                # instances, anything else is another URI. Only a GIAI can carry a VIN; every other key
                # takes one of the shared entries. Prefixes are compared as slices: str.startswith costs
                # more to call than to compare here (CPython 3.11), once per identifier and document.
                if role in _CLASS_ROLES:
                    units[key] = _CLASS_UNIT
                elif key[:_GS1_PREFIX_LEN] != _GS1_PREFIX:
                    units[key] = _OTHER_UNIT
                elif key[:_GIAI_PREFIX_LEN] == _GIAI_PREFIX:
                    units[key] = (UnitKind.INSTANCE, vin_for(key))
                else:
                    units[key] = _INSTANCE_UNIT
    return parsed


_GIAI_PREFIX = "https://id.gs1.org/8004/"
_GIAI_PREFIX_LEN = len(_GIAI_PREFIX)


def parse_for_storage(body: bytes, max_events: int | None = None) -> ParsedCapture | CaptureRejected:
    """Parse in a worker process for bulk capture: the result travels back pickled, so each event
    carries its stored JSON instead of the parsed dict (a third of the transfer cost)."""
    try:
        parsed = parse_capture(orjson.loads(body), max_events=max_events)
    except CaptureRejected as rejected:
        return rejected
    except orjson.JSONDecodeError as exc:
        return CaptureRejected([SchemaProblem("$", f"not JSON: {exc}")])
    for event in parsed.events:
        event.stored_json()
        if event.error_declaration is None:
            event.raw = {}
    return parsed


def vin_for(key: str) -> str | None:
    """The VIN a vehicle identifier carries, if any (roadpass identifies vehicles as GIAIs, see trace.vin)."""
    # Hot path: only a canonical GIAI can carry a VIN, so skip the parser for every other key.
    if not key.startswith(_GIAI_PREFIX) or len(key) < len(_GIAI_PREFIX) + 17:
        return None
    return vin_from_identifier(key)
