"""EPCIS 2.0 SimpleEventQuery parameters (§8.2.7.1) as a typed query, parsed from REST query strings.

Parameter names follow the standard exactly so that an EPCIS client works unchanged. Values that name
identifiers accept EPC URNs, EPC pattern URNs (``urn:epc:idpat:…`` with ``*``) and GS1 Digital Link URIs;
CBV words accept the bare form or the full URI.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from roadpass.trace.epcis.model import EVENT_TYPES, Role
from roadpass.trace.epcis.vocabulary import expand_vocabulary
from roadpass.trace.identifiers import IdentifierError, epc_pattern_to_canonical_prefix
from roadpass.trace.timeutil import parse_time

__all__ = [
    "EPC_MATCH_ROLES", "PAGE_TOKEN_LIFETIME", "EventQuery", "IdentifierMatch", "PageToken", "QueryError",
    "Visibility", "decode_token", "encode_token", "fingerprint", "open_collection_token", "parse_event_query",
    "parse_page_size", "sign_collection_token", "sign_page_token", "token_digest", "token_expiry",
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
# Parameters the standard defines that this repository does not evaluate (EPCIS 2.0 §8.2.7.1): refused by
# name rather than ignored, so a client never mistakes an unfiltered answer for a filtered one.
_UNSUPPORTED_PREFIXES = (
    "EQ_", "GT_", "GE_", "LT_", "LE_", "MATCH_", "EXISTS_", "HASATTR_", "EQATTR_", "WD_", "EQ_INNER_",
)
# Paging parameters that may accompany a nextPageToken without contradicting the query it continues.
_PAGING = ("nextPageToken", "perPage")
#: Seconds a signed nextPageToken stays good after its page was served (GS1-Next-Page-Token-Expires). The
#: token holds no server-side cursor (keyset paging), so the lifetime only bounds how long a leaked token
#: can be replayed; each page hands out a fresh token, so a slow client never outlives it mid-walk.
PAGE_TOKEN_LIFETIME = 3600


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
    # The query's own parameters (name, values), sorted, paging left out: what a signed token carries.
    parameters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    visibility: Visibility | None = None  # set by the access layer, never from query parameters
    # Deliveries only: the last stored event id a subscription's delivery covers (never from query parameters).
    last_row: int | None = None


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
    params: Mapping[str, str | Sequence[str]], *, default_per_page: int = 100, max_per_page: int = 1000,
    token_key: bytes | None = None, now: float | None = None,
) -> EventQuery:
    """Parse REST query parameters into an :class:`EventQuery`; a bad value raises :class:`QueryError`.

    With ``token_key`` (the REST bindings) a ``nextPageToken`` is a signed token made by
    :func:`sign_page_token` that carries its query: alone (with ``perPage``) it continues that query, and
    any other parameter given beside it must repeat the token's value. Without a key (in-process callers)
    the token is :meth:`PageToken.encode`'s position, good only with the same parameters.
    """
    if token_key is not None and "nextPageToken" in params:
        return _continue(params, token_key, time.time() if now is None else now, default_per_page, max_per_page)
    query = _parse(params, default_per_page, max_per_page)
    if "nextPageToken" in params:
        token = PageToken.decode(_values(params["nextPageToken"])[0])
        if token.fingerprint != query.fingerprint:
            raise QueryError("nextPageToken", "the token belongs to a query with other parameters")
        query.after = token
    return query


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode(errors="replace"), hashlib.sha256).digest()[:18])


def sign_page_token(token: PageToken, query: EventQuery, key: bytes, *, now: float | None = None) -> tuple[str, int]:
    """A self-contained ``nextPageToken`` (EPCIS 2.0 REST: scrolling) and when it expires (Unix seconds).

    It carries the position after the page just served and the query's parameters, signed with HMAC-SHA256
    under ``key`` (the node's secret), so the next request may send it alone and a forged or altered token
    is refused. It never carries the caller's visibility: that is applied afresh to every page.
    """
    expires = int(time.time() if now is None else now) + PAGE_TOKEN_LIFETIME
    params = [[name, list(values)] for name, values in query.parameters]
    payload = _b64(orjson.dumps([token.value, token.row, params, expires]))
    return f"{payload}.{_mac(key, payload)}", expires


def token_digest(token: str) -> str:
    """A fixed-size name for a token (what a revocation is recorded under)."""
    return hashlib.sha256(token.encode(errors="replace")).hexdigest()[:32]


def token_expiry(token: str, key: bytes) -> int | None:
    """When a token this repository signed expires (Unix seconds); None for anything it did not sign."""
    payload, _, mac = token.partition(".")
    if not mac or not hmac.compare_digest(mac.encode(errors="replace"), _mac(key, payload).encode()):
        return None
    parts = orjson.loads(_unb64(payload))  # signed by us: well-formed, its last member is the expiry
    return int(parts[-1])


def _open_signed(token: str, key: bytes) -> tuple[int, int, list[tuple[str, tuple[str, ...]]], int]:
    forged = QueryError("nextPageToken", "not a token this repository issued")
    payload, _, mac = token.partition(".")
    if not mac or not hmac.compare_digest(mac.encode(errors="replace"), _mac(key, payload).encode()):
        raise forged
    try:
        value, row, params, expires = orjson.loads(_unb64(payload))
        carried = [(str(name), tuple(str(v) for v in values)) for name, values in params]
        return int(value), int(row), carried, int(expires)
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:  # a collection's token, signed by us
        raise QueryError("nextPageToken", "the token pages a resource collection, not events") from exc


def sign_collection_token(collection: str, after: str, key: bytes, *, now: float | None = None) -> tuple[str, int]:
    """A signed ``nextPageToken`` for a top-level resource collection (``/epcs``, ``/bizLocations``, …):
    the collection it pages and the last value served; and when it expires (Unix seconds)."""
    expires = int(time.time() if now is None else now) + PAGE_TOKEN_LIFETIME
    payload = _b64(orjson.dumps(["collection", collection, after, expires]))
    return f"{payload}.{_mac(key, payload)}", expires


def open_collection_token(token: str, collection: str, key: bytes, *, now: float | None = None) -> str:
    """The last value served, from a token made by :func:`sign_collection_token` for ``collection``."""
    forged = QueryError("nextPageToken", "not a token this repository issued")
    payload, _, mac = token.partition(".")
    if not mac or not hmac.compare_digest(mac.encode(errors="replace"), _mac(key, payload).encode()):
        raise forged
    try:
        kind, named, after, expires = orjson.loads(_unb64(payload))
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise forged from exc
    if kind != "collection" or named != collection:
        raise QueryError("nextPageToken", f"the token pages another resource, not {collection}")
    if int(expires) <= (time.time() if now is None else now):
        raise QueryError("nextPageToken", "the token has expired; list the collection again from its start")
    return str(after)


def _continue(
    params: Mapping[str, str | Sequence[str]], key: bytes, now: float, default_per_page: int, max_per_page: int
) -> EventQuery:
    """The query a signed token continues, checked against whatever else the request says."""
    tokens = _values(params["nextPageToken"])
    if len(tokens) != 1:
        raise QueryError("nextPageToken", "expected exactly one token")
    value, row, carried, expires = _open_signed(tokens[0], key)
    if expires <= now:
        raise QueryError("nextPageToken", "the token has expired; run the query again from its first page")
    carried_values = dict(carried)
    for name in params:
        if name not in _PAGING and tuple(_values(params[name])) != carried_values.get(name):
            raise QueryError(
                "nextPageToken", f"the token continues a query with another {name}; send the token alone"
            )
    merged: dict[str, str | Sequence[str]] = {name: list(values) for name, values in carried}
    if "perPage" in params:
        merged["perPage"] = params["perPage"]
    query = _parse(merged, default_per_page, max_per_page)
    query.after = PageToken(value, row, query.fingerprint)
    return query


def _parse(params: Mapping[str, str | Sequence[str]], default_per_page: int, max_per_page: int) -> EventQuery:
    query = EventQuery(per_page=default_per_page)
    fingerprint_parts: list[tuple[str, list[str]]] = []
    for name in sorted(params):
        values = _values(params[name])
        if name not in _KNOWN:
            # EPCIS 2.0 §8.2.7.1: a parameter name the query does not define is a QueryParameterException.
            if name.startswith(_UNSUPPORTED_PREFIXES):
                raise QueryError(name, "this query parameter is not supported by this repository")
            raise QueryError(name, "unknown query parameter (EPCIS 2.0 §8.2.7.1)")
        if name not in _PAGING:
            fingerprint_parts.append((name, values))
        _apply(query, name, values, max_per_page)
    query.fingerprint = fingerprint(fingerprint_parts)
    query.parameters = tuple((name, tuple(values)) for name, values in fingerprint_parts)
    return query


def _apply(query: EventQuery, name: str, values: list[str], max_per_page: int) -> None:
    """Set the part of ``query`` that parameter ``name`` decides."""
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
        try:
            match = _identifier_match("MATCH_anyEPC", values)
        except QueryError as exc:
            raise QueryError(name, exc.reason) from exc
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
        if not values or values[0] not in _ORDER_FIELDS:
            raise QueryError(name, "orderBy must be eventTime or recordTime")
        query.order_by = _ORDER_FIELDS[values[0]]
    elif name == "orderDirection":
        if not values or values[0] not in ("ASC", "DESC"):
            raise QueryError(name, "orderDirection must be ASC or DESC")
        query.descending = values[0] == "DESC"
    elif name in ("perPage", "eventCountLimit", "maxEventCount"):
        query.per_page = parse_page_size(name, values[0] if values else "", max_per_page)
