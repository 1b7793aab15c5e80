"""EPCIS 2.0 SimpleEventQuery parameters (§8.2.7.1) as a typed query, parsed from REST query strings.

Parameter names follow the standard exactly so that an EPCIS client works unchanged. Values that name
identifiers accept EPC URNs, EPC pattern URNs (``urn:epc:idpat:…`` with ``*``) and GS1 Digital Link URIs;
CBV words accept the bare form or the full URI.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from roadpass.trace.epcis.model import EVENT_TYPES, Role
from roadpass.trace.epcis.vocabulary import expand_vocabulary
from roadpass.trace.identifiers import IdentifierError, epc_pattern_to_canonical_prefix
from roadpass.trace.timeutil import parse_time

__all__ = [
    "EPC_MATCH_ROLES", "EventQuery", "IdentifierMatch", "PageToken", "QueryError", "Visibility", "decode_token",
    "encode_token", "fingerprint", "parse_event_query", "parse_page_size",
]

# Which identifier roles each MATCH_ parameter looks at (EPCIS 2.0 §8.2.7.1).
EPC_MATCH_ROLES: dict[str, tuple[Role, ...]] = {
    "MATCH_epc": (Role.EPC, Role.CHILD),
    "MATCH_parentID": (Role.PARENT,),
    "MATCH_inputEPC": (Role.INPUT,),
    "MATCH_outputEPC": (Role.OUTPUT,),
    "MATCH_anyEPC": (Role.EPC, Role.CHILD, Role.INPUT, Role.OUTPUT, Role.PARENT),
    "MATCH_epcClass": (Role.QUANTITY, Role.CHILD_QUANTITY),
    "MATCH_inputEPCClass": (Role.INPUT_QUANTITY,),
    "MATCH_outputEPCClass": (Role.OUTPUT_QUANTITY,),
    "MATCH_anyEPCClass": (Role.QUANTITY, Role.CHILD_QUANTITY, Role.INPUT_QUANTITY, Role.OUTPUT_QUANTITY),
}
_LOCATION_PARAMS = {"EQ_readPoint": "read_point", "EQ_bizLocation": "biz_location"}
_ORDER_FIELDS = {"eventTime": "event_time", "recordTime": "record_time"}
_KNOWN = {
    "eventType", "GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime", "EQ_action", "EQ_bizStep",
    "EQ_disposition", "EQ_readPoint", "EQ_bizLocation", "EQ_eventID", "EXISTS_errorDeclaration",
    "EQ_errorReason", "orderBy", "orderDirection", "perPage", "nextPageToken", "eventCountLimit",
    "maxEventCount", *EPC_MATCH_ROLES,
}


class QueryError(ValueError):
    """A query parameter is malformed; ``parameter`` names it (EPCIS QueryParameterException)."""

    def __init__(self, parameter: str, reason: str) -> None:
        self.parameter = parameter
        self.reason = reason
        super().__init__(f"{parameter}: {reason}")


@dataclass(frozen=True, slots=True)
class IdentifierMatch:
    """Identifier roles to look in, and the canonical keys (``exact``) or key prefixes (``prefixes``)."""

    roles: tuple[Role, ...]
    exact: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()


def encode_token(parts: Sequence[object]) -> str:
    """An opaque URL-safe page token carrying ``parts`` (JSON values)."""
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode().rstrip("=")


def decode_token(token: str, size: int) -> list[Any]:
    """The ``size`` parts of a token made by :func:`encode_token`; :class:`QueryError` for anything else."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise QueryError("nextPageToken", "not a token this repository issued") from exc
    if not isinstance(parts, list) or len(parts) != size:
        raise QueryError("nextPageToken", "not a token this repository issued")
    return parts


def fingerprint(parts: object) -> str:
    """A short digest of a question, so that a page token is only good for the question it was issued on."""
    return hashlib.sha256(orjson.dumps(parts)).hexdigest()[:16]


def parse_page_size(name: str, value: str, largest: int) -> int:
    """A page size parameter: a positive integer, capped at ``largest`` (a server may return fewer)."""
    try:
        size = int(value)
    except ValueError as exc:
        raise QueryError(name, "expected a positive integer") from exc
    if size < 1:
        raise QueryError(name, "expected a positive integer")
    return min(size, largest)


@dataclass(frozen=True, slots=True)
class PageToken:
    """Where the previous page ended (keyset paging): the sort value and row id of its last event."""

    value: int
    row: int
    fingerprint: str

    def encode(self) -> str:
        """An opaque URL-safe token."""
        return encode_token([self.value, self.row, self.fingerprint])

    @classmethod
    def decode(cls, token: str) -> PageToken:
        """Parse a token made by :meth:`encode`."""
        value, row, digest = decode_token(token, 3)
        try:
            return cls(int(value), int(row), str(digest))
        except (ValueError, TypeError) as exc:
            raise QueryError("nextPageToken", "not a token this repository issued") from exc


@dataclass(frozen=True, slots=True)
class Visibility:
    """Which events a caller may see; an event is visible when any one of these holds.

    Built by the access policy (:mod:`roadpass.access.policy`); ``None`` on a query means no restriction.
    Prefixes are canonical-key prefixes (GS1 Digital Link), so each test is an index range scan.
    """

    actor_prefixes: tuple[str, ...] = ()  # captured by an actor whose name starts with one of these
    unit_prefixes: tuple[str, ...] = ()  # names a unit whose key starts with one of these (owned GS1 keys)
    unit_keys: frozenset[str] = frozenset()  # names one of these units (explicit shares)
    location_prefixes: tuple[str, ...] = ()  # happened at (bizLocation / readPoint) one of these sites
    markets: frozenset[str] = frozenset()  # names a vehicle sold or registered in one of these markets

    # ``market`` below is a vehicle's market (None for any other unit), as the SQL filter tests it.

    def sees_unit(self, key: str, market: str | None = None) -> bool:
        """True when a unit with this key (and market) is the caller's, shared with it or in its mandate."""
        return key.startswith(self.unit_prefixes) or key in self.unit_keys or (
            market is not None and market in self.markets
        )

    def sees_location(self, key: str | None) -> bool:
        """True when ``key`` names one of the caller's own sites."""
        return key is not None and key.startswith(self.location_prefixes)


@dataclass(slots=True)
class EventQuery:
    """A parsed SimpleEventQuery."""

    event_types: tuple[str, ...] = ()
    ge_event_time: int | None = None
    lt_event_time: int | None = None
    ge_record_time: int | None = None
    lt_record_time: int | None = None
    actions: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    error_declared: bool | None = None
    error_reasons: tuple[str, ...] = ()
    matches: list[IdentifierMatch] = field(default_factory=list)
    order_by: str = "id"
    descending: bool = False
    per_page: int = 100
    after: PageToken | None = None
    fingerprint: str = ""
    visibility: Visibility | None = None  # set by the access layer, never from query parameters


def _values(raw: str | Sequence[str]) -> list[str]:
    # EPCIS REST: a list-valued parameter is given as one value with '|' separators, or repeated.
    items = [raw] if isinstance(raw, str) else list(raw)
    return [part.strip() for item in items for part in item.split("|") if part.strip()]


_GCP_ONLY = re.compile(r"^urn:epc:idpat:(sgtin|sscc):(\d{6,12})\.\*(?:\.\*)?$")


def _company_prefix_patterns(value: str) -> list[str] | None:
    """``urn:epc:idpat:sgtin:0614141.*.*``: in Digital Link form the GTIN-14 (SSCC) starts with an
    indicator (extension) digit, so the company prefix is a key prefix once per digit 0-9. GS1 company
    prefixes are allocated prefix-free, so these ten prefixes select exactly that company's keys."""
    match = _GCP_ONLY.match(value)
    if match is None:
        return None
    ai = "01" if match.group(1) == "sgtin" else "00"
    return [f"https://id.gs1.org/{ai}/{digit}{match.group(2)}" for digit in range(10)]


def _identifier_match(name: str, values: list[str]) -> IdentifierMatch:
    exact: list[str] = []
    prefixes: list[str] = []
    for value in values:
        if (company := _company_prefix_patterns(value)) is not None:
            prefixes.extend(company)
            continue
        try:
            prefix = epc_pattern_to_canonical_prefix(value)
        except IdentifierError as exc:
            raise QueryError(name, f"{value!r}: {exc}") from exc
        if prefix is None:
            raise QueryError(name, f"{value!r} is not an EPC, EPC pattern or GS1 Digital Link URI")
        if "*" in value:
            prefixes.append(prefix)
        else:
            exact.append(prefix)
    return IdentifierMatch(EPC_MATCH_ROLES[name], tuple(exact), tuple(prefixes))


def parse_event_query(
    params: Mapping[str, str | Sequence[str]], *, default_per_page: int = 100, max_per_page: int = 1000
) -> EventQuery:
    """Parse REST query parameters into an :class:`EventQuery`; a bad value raises :class:`QueryError`."""
    query = EventQuery(per_page=default_per_page)
    fingerprint_parts: list[tuple[str, list[str]]] = []
    for name in sorted(params):
        values = _values(params[name])
        if name not in _KNOWN:
            if name.startswith(("EQ_", "GT_", "GE_", "LT_", "LE_", "MATCH_", "EXISTS_", "HASATTR_", "WD_")):
                raise QueryError(name, "this query parameter is not supported by this repository")
            continue
        if name not in ("nextPageToken", "perPage"):
            fingerprint_parts.append((name, values))
        if name == "eventType":
            unknown = [v for v in values if v not in EVENT_TYPES]
            if unknown:
                raise QueryError(name, f"unknown event type(s): {', '.join(unknown)}")
            query.event_types = tuple(values)
        elif name in ("GE_eventTime", "LT_eventTime", "GE_recordTime", "LT_recordTime"):
            try:
                instant = parse_time(values[0], name)
            except (ValueError, IndexError) as exc:
                raise QueryError(name, "expected an ISO 8601 date-time with offset") from exc
            setattr(query, name[:2].lower() + "_" + ("event_time" if "event" in name else "record_time"), instant)
        elif name == "EQ_action":
            bad = [v for v in values if v not in ("ADD", "OBSERVE", "DELETE")]
            if bad:
                raise QueryError(name, "action must be ADD, OBSERVE or DELETE")
            query.actions = tuple(values)
        elif name == "EQ_bizStep":
            query.biz_steps = tuple(expand_vocabulary("bizStep", v) for v in values)
        elif name == "EQ_disposition":
            query.dispositions = tuple(expand_vocabulary("disposition", v) for v in values)
        elif name in _LOCATION_PARAMS:
            match = _identifier_match("MATCH_anyEPC", values)
            keys = match.exact + match.prefixes
            if name == "EQ_readPoint":
                query.read_points = keys
            else:
                query.biz_locations = keys
        elif name == "EQ_eventID":
            query.event_ids = tuple(values)
        elif name == "EXISTS_errorDeclaration":
            query.error_declared = True
        elif name == "EQ_errorReason":
            query.error_reasons = tuple(expand_vocabulary("errorReason", v) for v in values)
        elif name in EPC_MATCH_ROLES:
            query.matches.append(_identifier_match(name, values))
        elif name == "orderBy":
            if values[0] not in _ORDER_FIELDS:
                raise QueryError(name, "orderBy must be eventTime or recordTime")
            query.order_by = _ORDER_FIELDS[values[0]]
        elif name == "orderDirection":
            if values[0] not in ("ASC", "DESC"):
                raise QueryError(name, "orderDirection must be ASC or DESC")
            query.descending = values[0] == "DESC"
        elif name in ("perPage", "eventCountLimit", "maxEventCount"):
            query.per_page = parse_page_size(name, values[0] if values else "", max_per_page)
    query.fingerprint = fingerprint(fingerprint_parts)
    if "nextPageToken" in params:
        token = PageToken.decode(_values(params["nextPageToken"])[0])
        if token.fingerprint != query.fingerprint:
            raise QueryError("nextPageToken", "the token belongs to a query with other parameters")
        query.after = token
    return query
