"""The CBV 2.0 event hash ID: ``ni:///sha-256;<hex>?ver=CBV2.0`` (CBV 2.0 §8.9, RFC 6920).

The pre-hash string is built exactly as the GS1 reference implementation builds it
(github.com/RalphTro/epcis-event-hash-generator, whose README numbers the rules cited below as "rule N"),
so that roadpass and any party using the reference compute the same ID. The code is independent of the
reference and walks the JSON event directly (the reference converts every event to an XML-like tuple tree
and runs a JSON-LD expansion of the whole document; this is ~60x faster).

What the reference does, and this module does too:

* canonical property order (rule 1, the reference's ``PROP_ORDER``): ``eventType``, ``eventTime``,
  ``eventTimeZoneOffset``, ``certificationInfo``, ``parentID``, ``epcList``, ``inputEPCList``, ``childEPCs``,
  the four quantity lists, ``outputEPCList``, ``action``, ``transformationID``, ``bizStep``, ``disposition``,
  ``persistentDisposition``, ``readPoint``, ``bizLocation``, ``sensorElementList``; then every other field
  (``bizTransactionList``, ``sourceList``, ``destinationList``, ``ilmd``, user extensions...) as generic
  ``key=value`` strings sorted together (rules 19-20); ``recordTime``, ``eventID`` and
  ``errorDeclaration`` are left out;
* lists sorted by their rendered strings (rules 10-12); business transaction, source and destination
  rendered ``type=…`` then the identifier (rule 13);
* times in UTC with milliseconds and ``Z`` (rules 8-9), numbers without trailing zeros (rule 6), values
  trimmed (rule 5), legacy CBV URNs and bare CBV words as Web URIs (rules 14, 16), EPC URNs and Digital
  Link URIs as constrained canonical Digital Link URIs (rules 17-18), namespaced keys as ``{iri}local``
  with the prefixes the document's ``@context`` declares (rules 15, 19-21), extensions inside
  ``readPoint``/``bizLocation``/sensor elements appended to their parent (rule 21).

Where the reference is accidental rather than specified, roadpass chooses a deterministic reading (see
the notes in ``_pair`` and ``_vocab_value``): the order of ``type`` and identifier inside a business
transaction/source/destination does not depend on the JSON member order; a bare word is expanded only in
the fields whose JSON-LD definition makes it a CBV term (the reference replaces a matching word anywhere
in the document); CURIEs in those fields are expanded with the EPCIS context's prefixes; a time without an
offset is read as UTC (the reference uses the server's zone); a dict ``@context`` is honoured; the
``@context`` of a standalone event is not hashed; inputs on which the reference fails (a time that rounds
up to the next second, ``Infinity``) get a hash instead of being dropped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any, Final

from roadpass.trace.epcis.vocabulary import cbv, default_namespaces, legacy_urn_prefixes
from roadpass.trace.identifiers import hash_canonical_id

__all__ = [
    "HASH_ALGORITHMS",
    "HASH_VERSION",
    "document_event_hashes",
    "document_events",
    "event_hash_id",
    "prehash_string",
]

#: CBV version tag of the algorithm (CBV 2.0 §8.9; reference rule 24).
HASH_VERSION: Final = "CBV2.0"
#: Named Information hash names (RFC 6920 registry; rule 23) → hashlib constructors.
HASH_ALGORITHMS: Final[Mapping[str, Callable[[bytes], Any]]] = {
    "sha-256": hashlib.sha256,
    "sha3-256": hashlib.sha3_256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}

Context = Sequence[Any] | Mapping[str, Any] | str | None

# Members the reference skips at every level (JSON rendering of XML text and comments).
_IGNORED: Final = frozenset({"#text", "comment", "rdfs:comment"})
# Event-level fields that take no part in the hash (reference ``_gather_elements_not_in_order``), plus the
# JSON-LD @context a standalone event may carry (it is not event data).
_TOP_IGNORED: Final = frozenset({"recordTime", "eventID", "type", "errorDeclaration", "@context"})
_PAIR_LISTS: Final[Mapping[str, str]] = {
    "bizTransactionList": "bizTransaction",
    "sourceList": "source",
    "destinationList": "destination",
}
_UNSORTED: Final = frozenset(_PAIR_LISTS.values())
_NUMERIC_START: Final = frozenset("0123456789+-.")


# --------------------------------------------------------------------------------------------------------
# The canonical property order
# --------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------------------


# How an ordered object treats one of its member keys (computed once per key and document context).
_SKIP, _SLOT, _CANDIDATE, _LEFTOVER = 0, 1, 2, 3
# What an ordered field renders for a value: (its part of the ordered string or None, leftover string or None).
_Rendered = tuple["tuple[int, str] | None", "str | None"]
# (kind, expanded name, slot, anchors the object, memo of the renderings of a non-time, non-list slot)
_Plan = tuple[int, str, "_Slot | None", bool, "dict[str | tuple[str, str], _Rendered] | None"]
# Bounds of the memos of a _Ctx (each is cleared when full): EPC list items, and the other values.
_EPC_LIMIT: Final = 200_000
_MEMO_LIMIT: Final = 1 << 16
_KEY_LIMIT: Final = 4096  # member names: few distinct ones


class _Ctx:
    """Namespace prefixes of a document: ``ns`` as declared in its @context (keys and plain values,
    reference behaviour); ``vocab_ns`` adds the EPCIS context's own prefixes for CBV-typed fields. Also
    the memos of what renders the same under these prefixes (kept for the next documents that declare
    the same prefixes, see ``_context``)."""

    __slots__ = ("epcs", "keys", "leaves", "ns", "plans", "vocab_ns")

    def __init__(self, ns: dict[str, str]) -> None:
        self.ns = ns
        self.vocab_ns = {**default_namespaces(), **ns}
        self.plans: dict[int, dict[str, _Plan]] = {}
        # Memos of renderings that recur across events: EPC list items -> canonical value ("" when
        # blank), most of the hashing work; member names -> expanded names; (name, string value) of
        # generic elements (ILMD...) -> "name=…".
        self.epcs: dict[str, str] = {}
        self.keys: dict[str, str] = {}
        self.leaves: dict[tuple[str, str], str] = {}

    def epc(self, item: str) -> str:
        """The canonical value of one string of an EPC list (never ""), or "" when it is blank (memoised)."""
        text = self.value(item).strip()
        canonical = _canon(text) if text else ""
        if len(self.epcs) >= _EPC_LIMIT:
            self.epcs.clear()
        self.epcs[item] = canonical
        return canonical

    def leaf(self, name: str, value: str) -> str:
        """A generic element with a string value: ``name=<value>``, or ``name`` when blank (memoised)."""
        found = self.leaves.get((name, value))
        if found is None:
            text = self.value(value).strip()
            found = name + "=" + _canon(text) if text else name
            if len(self.leaves) >= _MEMO_LIMIT:
                self.leaves.clear()
            self.leaves[(name, value)] = found
        return found

    def key(self, name: str) -> str:
        # Rules 19-21: a namespaced key is rendered "{namespace IRI}localName".
        found = self.keys.get(name)
        if found is not None:
            return found
        prefix, sep, local = name.partition(":")
        iri = self.ns.get(prefix) if sep else None
        found = name if iri is None else "{" + iri + "}" + local
        if len(self.keys) >= _KEY_LIMIT:
            self.keys.clear()
        self.keys[name] = found
        return found

    def value(self, text: str) -> str:
        # Rule 15: a CURIE value is expanded with the document's prefixes. (Only the prefix is sliced
        # off: most values are EPC URNs whose "urn" prefix is not declared.)
        colon = text.find(":")
        if colon < 0 or not self.ns:
            return text
        iri = self.ns.get(text[:colon])
        return text if iri is None else iri + text[colon + 1 :]

    def plan(self, order: Mapping[str, _Slot], key: str, top: bool) -> _Plan:
        """How ``key`` is treated in an object with canonical ``order`` (memoised)."""
        plans = self.plans.get(id(order))
        if plans is None:
            plans = self.plans[id(order)] = {}
        found = plans.get(key)
        if found is not None:
            return found
        if len(plans) > 4096:
            plans.clear()
        name = self.key(key)
        anchors = "eventTime" in name or "action" in name
        slot = order.get(name)
        if key in _IGNORED or key.startswith("@xmlns"):
            kind = _SKIP
        elif "{" in name and "/}" in name:
            kind = _CANDIDATE
        elif slot is not None:
            kind = _SLOT
        elif top and name in _TOP_IGNORED:
            kind = _SKIP
        else:
            kind = _LEFTOVER
        # Values of an ordered field repeat across events (action, bizStep, readPoint...); times rarely do.
        memo: dict[str | tuple[str, str], _Rendered] | None = None
        if kind == _SLOT and slot is not None and not slot.time and slot.child is None:
            memo = {}
        plan: _Plan = (kind, name, slot, anchors, memo)
        plans[key] = plan
        return plan


def _namespaces(context: Context) -> dict[str, str]:
    ns: dict[str, str] = {}
    items: Sequence[Any] = context if isinstance(context, list | tuple) else [context]
    for item in items:
        if isinstance(item, Mapping):
            for prefix, iri in item.items():
                if isinstance(iri, str) and not str(prefix).startswith("@"):
                    ns[str(prefix)] = iri
    return ns


_ctx_memo: tuple[object, _Ctx] | None = None


def _context(context: Context) -> _Ctx:
    # Capture hashes every event of a document with the same @context object: remember the last one. The
    # next documents of a bulk capture declare the same prefixes in a new object: they keep the _Ctx, and
    # with it its memos (only one _Ctx is kept, which bounds their memory).
    global _ctx_memo
    memo = _ctx_memo
    if memo is not None and memo[0] is context:
        return memo[1]
    ns = _namespaces(context)
    ctx = memo[1] if memo is not None and memo[1].ns == ns else _Ctx(ns)
    _ctx_memo = (context, ctx)
    return ctx


def _text(value: Any, ctx: _Ctx) -> str:
    # The reference renders JSON scalars with Python's str(): true -> "True", 26.0 -> "26.0" (then rule 6).
    if isinstance(value, str):
        return ctx.value(value)
    return str(value)


def _numeric(text: str) -> str:
    # Rule 6: "1.0" -> "1", "0.34340" -> "0.3434", "+5" -> "5" (any value that parses as a number).
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    integral = int(number)
    return str(integral) if integral == number else str(number)


def _canon(text: str) -> str:
    """Rules 14, 6, 17-18 applied in the reference's order to a trimmed, non-empty value."""
    if "urn:epcglobal:cbv:" in text:
        for legacy, web in legacy_urn_prefixes():
            text = text.replace(legacy, web)
    first = text[0]
    if first == "u":
        if text.startswith("urn:epc:"):
            return hash_canonical_id(text)
        return text
    if first == "h":
        return hash_canonical_id(text) if text.startswith("http") else text
    if first in _NUMERIC_START or not first.isascii():
        # "inf"/"nan" stay as they are, so words starting with i/n need not be tried.
        return _numeric(text)
    return text


_TIME_RE: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?)?"
)
_SECOND: Final = timedelta(seconds=1)
_BARE_DOT_RE: Final = re.compile(r"[.,](?!\d)")


def _parse_time(text: str) -> tuple[datetime, timedelta | None] | None:
    """(naive local date-time, UTC offset or None) for an ISO 8601 date-time, or None."""
    if _BARE_DOT_RE.search(text):
        return None  # "11:00:30.Z": Python would read it, the reference (dateutil) does not
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=None), moment.utcoffset()
    except ValueError:
        pass
    m = _TIME_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    except ValueError:
        return None
    if sign is None:
        return moment, (timedelta(0) if _zulu else None)
    offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
    return moment, (offset if sign == "+" else -offset)


# The usual xsd:dateTimeStamp, split where the memos below split it: the date, then "T" clock and offset.
_FAST_DATE_RE: Final = re.compile(r"\d{4}-\d\d-\d\d")
_FAST_CLOCK_RE: Final = re.compile(r"T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))")


@lru_cache(maxsize=1 << 14)
def _utc_clock(text: str) -> tuple[int, str] | None:
    """For ``T10:05:35.000+08:00``: (days the date moves, ``T02:05:35.000Z``); None to take the slow path.

    Memoised: clock times and offsets recur across events far more than whole timestamps do."""
    m = _FAST_CLOCK_RE.fullmatch(text)
    if m is None:
        return None
    hour, minute, second, fraction, sign, off_h, off_m = m.groups()
    clock, seconds = int(hour) * 60 + int(minute), int(second)
    # Reference: the microseconds (6 digits) rounded half-to-even to whole milliseconds.
    millis = round(int(fraction[:6].ljust(6, "0")), -3) // 1000 if fraction else 0
    if sign is not None:
        offset = int(off_h) * 60 + int(off_m)
        clock = clock - offset if sign == "+" else clock + offset
    if seconds >= 60 or millis >= 1000 or int(hour) >= 24 or int(minute) >= 60:
        return None
    # An offset is under a day: the date moves by one day at most.
    days = -1 if clock < 0 else (1 if clock >= 1440 else 0)
    clock -= days * 1440
    return days, f"T{clock // 60:02d}:{clock % 60:02d}:{seconds:02d}.{millis:03d}Z"


@lru_cache(maxsize=4096)
def _shifted_date(text: str, days: int) -> str | None:
    """The date ``text`` (YYYY-MM-DD) moved by ``days``, or None when it is invalid or out of range."""
    if _FAST_DATE_RE.fullmatch(text) is None:
        return None
    try:
        day = date.fromisoformat(text)
        return text if days == 0 else (day + timedelta(days=days)).isoformat()
    except (ValueError, OverflowError):
        return None


def _fix_time(text: str) -> str:
    """Rules 8-9: UTC, millisecond precision, ``Z``; unparseable text comes back unchanged."""
    if len(text) == 24 and text[23] == "Z" and text[19] == "." and text[10] == "T":
        return text  # already canonical (and left as is, parseable or not, like the reference)
    clock = _utc_clock(text[10:])
    if clock is not None:
        day = _shifted_date(text[:10], clock[0])
        if day is not None:
            return day + clock[1]
    parsed = _parse_time(text)
    if parsed is None:
        return text
    moment, offset_delta = parsed
    micro = round(moment.microsecond, -3)
    try:
        moment = moment.replace(microsecond=0) + _SECOND if micro == 1_000_000 else moment.replace(microsecond=micro)
        if offset_delta:
            moment -= offset_delta
    except OverflowError:
        return text
    return moment.isoformat(timespec="milliseconds") + "Z"


def _vocab_value(value: Any, vocab: Mapping[str, str], ctx: _Ctx) -> str:
    # Rule 16: a bare CBV word is its Web URI. The JSON-LD context makes only these words terms of this
    # field; the reference instead replaces a matching word anywhere in the document.
    if isinstance(value, str):
        full = vocab.get(value)
        if full is not None:
            return full
        # Rule 15 in a CBV-typed field: CURIEs with the EPCIS context's prefixes (cbv:, gs1:) too.
        prefix, sep, local = value.partition(":")
        iri = ctx.vocab_ns.get(prefix) if sep else None
        return value if iri is None else iri + local
    return str(value)


# --------------------------------------------------------------------------------------------------------
# Generic rendering: user extensions, ILMD, leftovers (rules 19-21)
# --------------------------------------------------------------------------------------------------------


def _is_group(name: str) -> bool:
    # The reference folds every "...List" member (and childEPCs) into one element with one child per item.
    return name.endswith("List") or name == "childEPCs"


def _has_children(value: Any) -> bool:
    if isinstance(value, dict):
        return any(k not in _IGNORED and v != [] for k, v in value.items())
    return isinstance(value, list) and bool(value)


def _rename(name: str, value: Any) -> str:
    # Reference json_xml_model_mismatch_correction: JSON names mapped onto the XML element names.
    if name in ("inputEPC", "outputEPC"):
        return "epc"
    if name in ("inputQuantity", "outputQuantity", "childQuantity"):
        return "quantityElement"
    if name == "quantity" and _has_children(value):
        return "quantityElement"
    return name


def _entry(name: str, value: Any, ctx: _Ctx) -> str:
    """One generic element: ``name``, ``=value`` when it has a value, then its children."""
    if isinstance(value, dict):
        head = name
        if "#text" in value:
            text = _text(value["#text"], ctx).strip()
            if text:
                head += "=" + _canon(text)
        return head + _members(value, ctx)[0]
    if isinstance(value, list):
        parts = sorted(_entry("", item, ctx) for item in value)
        return name + "".join(parts)
    if isinstance(value, str):
        return ctx.leaf(name, value)
    text = str(value).strip()
    return name + "=" + _canon(text) if text else name


def _pair(value: Any, id_name: str, ctx: _Ctx) -> str:
    """A bizTransaction/source/destination: ``type=…`` then the identifier (rule 13, reference order).

    The reference pairs the first two JSON members in document order, so its string depends on whether
    ``type`` is written first; roadpass always renders ``type`` first (as the reference does for XML and
    for every test vector) and keeps any further members, sorted, after them.
    """
    if not isinstance(value, dict):
        return _entry(id_name, value, ctx)
    head = ""
    if "type" in value:
        kind = value["type"]
        vocab = _pair_vocab()[id_name]
        if isinstance(kind, str):
            text = _vocab_value(kind, vocab, ctx).strip()
            head = "type=" + _canon(text) if text else "type"
        else:
            head = _entry("type", kind, ctx)
    if id_name in value:
        head += _entry(id_name, value[id_name], ctx)
    if len(value) <= ("type" in value) + (id_name in value):
        return head
    rest = {k: v for k, v in value.items() if k not in ("type", id_name)}
    return head + _members(rest, ctx)[0]


def _generic(name: str, value: Any, ctx: _Ctx, out: list[str], groups: list[str] | None = None) -> None:
    """Append the generic strings of member ``name`` (one per element; a "List" member is one element)."""
    if _is_group(name):
        items = value if isinstance(value, list) else [value]
        if not items:
            return
        pair_id = _PAIR_LISTS.get(name)
        if pair_id is not None:
            parts = [_pair(item, pair_id, ctx) for item in items]
        elif name == "childEPCs":
            parts = [_entry("epc", "" if isinstance(item, dict | list) else item, ctx) for item in items]
        else:
            child = name[:-4]
            parts = [_entry(_rename(child, item), item, ctx) for item in items]
        parts.sort()
        (out if groups is None else groups).append(name + "".join(parts))
    elif isinstance(value, list):
        out.extend(_entry(_rename(name, item), item, ctx) for item in value)
    else:
        out.append(_entry(_rename(name, value), value, ctx))


def _members(obj: Mapping[str, Any], ctx: _Ctx) -> tuple[str, int]:
    """All members of a generic object, rendered and sorted; and how many elements they made."""
    out: list[str] = []
    groups: list[str] = []
    keep_order = False
    for key, value in obj.items():
        if key in _IGNORED or key.startswith("@xmlns"):
            continue
        name = ctx.key(key)
        keep_order = keep_order or name in _UNSORTED
        _generic(name, value, ctx, out, groups)
    if keep_order:
        # Reference should_sort(): an object holding bizTransaction/source/destination keeps its order,
        # with its "...List" members moved to the end.
        return "".join(out) + "".join(groups), len(out) + len(groups)
    out.extend(groups)
    out.sort()
    return "".join(out), len(out)


# --------------------------------------------------------------------------------------------------------
# Ordered rendering (rule 1, reference _recurse_through_children_in_order)
# --------------------------------------------------------------------------------------------------------


def _count(obj: Mapping[str, Any], ctx: _Ctx) -> int:
    """How many elements the reference's tree has for ``obj`` (a "...List" member is one element)."""
    count = 0
    for key, value in obj.items():
        if key in _IGNORED or key.startswith("@xmlns"):
            continue
        if isinstance(value, list):
            if value:
                count += 1 if _is_group(ctx.key(key)) else len(value)
        else:
            count += 1
    return count


def _node(name: str, value: Any, slot: _Slot, ctx: _Ctx) -> tuple[str, str | None]:
    """(ordered string, leftover string or None) for one element in an ordered slot."""
    if isinstance(value, dict):
        head = name
        generic_head = name
        if "#text" in value:
            text = _text(value["#text"], ctx).strip()
            if text:
                head += "=" + (_fix_time(text) if slot.time else _canon(text))
                generic_head += "=" + _canon(text)
        if slot.sub is not None:
            if len(value) == 1 and head == name:
                # The common case: {"id": "..."} (readPoint, bizLocation).
                ((key, inner),) = value.items()
                sub_slot = slot.sub.get(key)
                if sub_slot is not None and sub_slot.child is None and isinstance(inner, str) and ":" not in key:
                    text = (ctx.value(inner) if ctx.ns and ":" in inner else inner).strip()
                    if sub_slot.vocab is not None:
                        text = _vocab_value(inner, sub_slot.vocab, ctx).strip()
                    if not text:
                        return "", None
                    rendered = _fix_time(text) if sub_slot.time else _canon(text)
                    return f"{name}{key}={rendered}", None
            fragment, leftovers = _ordered(value, slot.sub, ctx, False)
            ordered = head + fragment if (head != name or fragment) else ""
            leftover = generic_head + "".join(sorted(leftovers)) if leftovers else None
            return ordered, leftover
        body, count = _members(value, ctx)
        return (head if head != name else ""), (generic_head + body if count else None)
    if isinstance(value, list):
        return "", (_entry(name, value, ctx) if value else None)
    text = (_vocab_value(value, slot.vocab, ctx) if slot.vocab is not None else _text(value, ctx)).strip()
    if not text:
        return "", None
    return name + "=" + (_fix_time(text) if slot.time else _canon(text)), None


def _group(name: str, value: Any, slot: _Slot, ctx: _Ctx) -> tuple[str, str | None]:
    """A "...List"/childEPCs field in the canonical order: its items under their (XML) element name."""
    items = value if isinstance(value, list) else [value]
    if slot.child == "epc":
        # The common case: a list of EPC strings.
        memo = ctx.epcs
        epcs: list[str] = []
        for item in items:
            if not isinstance(item, str):
                break
            text = memo.get(item)
            if text is None:
                text = ctx.epc(item)
            if text:
                epcs.append(text)
        else:
            # Sorted without their common "epc=" prefix, which comes out the same.
            epcs.sort()
            return (name + "epc=" + "epc=".join(epcs) if epcs else ""), None
    child_slot = slot.child_slot
    assert child_slot is not None
    rendered: list[str] = []
    leftovers: list[str] = []
    for item in items:
        if name == "childEPCs":
            if isinstance(item, dict | list):
                continue  # the reference keeps only the text of a childEPCs item
            child = "epc"
        else:
            child = _rename(name[:-4], item)
        if child != slot.child:
            leftovers.append(_entry(child, item, ctx))
            continue
        ordered, leftover = _node(child, item, child_slot, ctx)
        if ordered:
            rendered.append(ordered)
        if leftover is not None:
            leftovers.append(leftover)
    rendered.sort()
    leftovers.sort()
    return (name + "".join(rendered) if rendered else ""), (name + "".join(leftovers) if leftovers else None)


def _one_member(value: Any) -> tuple[str, str] | None:
    """(key, text) of a one-member object with a string value (a memo key), else None."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, text),) = value.items()
        if isinstance(text, str):
            return key, text
    return None


def _ordered(obj: Mapping[str, Any], order: Mapping[str, _Slot], ctx: _Ctx, top: bool) -> tuple[str, list[str]]:
    """The ordered part of ``obj`` and the generic strings of what the order does not take."""
    parts: list[tuple[int, str]] = []
    leftovers: list[str] = []
    candidates: list[tuple[str, Any]] = []
    anchored = False
    ns = ctx.ns
    plans = ctx.plans.get(id(order))
    if plans is None:
        plans = ctx.plans[id(order)] = {}
    for key, value in obj.items():
        plan = plans.get(key) or ctx.plan(order, key, top)
        kind, name, slot, anchors, memo = plan
        if anchors:
            anchored = True
        if kind == _SLOT:
            assert slot is not None
            if memo is not None:
                # A string or a one-member object such as {"id": "urn:..."} renders the same every time.
                memo_key = value if isinstance(value, str) else _one_member(value)
                if memo_key is not None:
                    rendered = memo.get(memo_key)
                    if rendered is None:
                        ordered, leftover = _node(name, value, slot, ctx)
                        rendered = ((slot.position, ordered) if ordered else None), leftover
                        if len(memo) >= _MEMO_LIMIT:
                            memo.clear()
                        memo[memo_key] = rendered
                    part, leftover = rendered
                    if part is not None:
                        parts.append(part)
                    if leftover is not None:
                        leftovers.append(leftover)
                    continue
            if slot.child is None and isinstance(value, str):
                # A time (eventTime...): one string value, not memoised.
                vocab = slot.vocab
                if vocab is not None:
                    text = _vocab_value(value, vocab, ctx).strip()
                elif ns and ":" in value:
                    text = ctx.value(value).strip()
                else:
                    text = value.strip()
                if text:
                    parts.append((slot.position, name + "=" + (_fix_time(text) if slot.time else _canon(text))))
                continue
            if slot.child is not None:
                if isinstance(value, list) and not value:
                    continue
                ordered, leftover = _group(name, value, slot, ctx)
                if ordered:
                    parts.append((slot.position, ordered))
                if leftover is not None:
                    leftovers.append(leftover)
                continue
            for item in value if isinstance(value, list) else (value,):
                ordered, leftover = _node(name, item, slot, ctx)
                if ordered:
                    parts.append((slot.position, ordered))
                if leftover is not None:
                    leftovers.append(leftover)
        elif kind == _LEFTOVER:
            _generic(name, value, ctx, leftovers)
        elif kind == _CANDIDATE:
            candidates.append((name, value))
    parts.sort()
    fragment = "".join([text for _, text in parts])
    if candidates:
        # Reference _gather_user_extensions: below the event level, the namespaced members of an object
        # with more than one element are its extensions, appended after its ordered fields (rule 21).
        if not anchored and _count(obj, ctx) > 1:
            extensions: list[str] = []
            for name, value in candidates:
                _generic(name, value, ctx, extensions)
            extensions.sort()
            fragment += "".join(extensions)
        else:
            for name, value in candidates:
                _generic(name, value, ctx, leftovers)
    return fragment, leftovers


# --------------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------------


def prehash_string(event: Mapping[str, Any], context: Context = None) -> str:
    """The canonical pre-hash string of one EPCIS 2.0 JSON-LD event (CBV 2.0 §8.9).

    ``context`` is the ``@context`` of the document the event came in (needed to expand namespaced
    user-extension keys such as ``example:myField`` to ``{https://ns.example.com/epcis/}myField``).
    """
    ctx = _context(context)
    fragment, leftovers = _ordered(event, _top_order(), ctx, True)
    leftovers.sort()
    return "eventType=" + str(event.get("type", "")) + fragment + "".join(leftovers)


def event_hash_id(event: Mapping[str, Any], context: Context = None, *, algorithm: str = "sha-256") -> str:
    """The event hash ID ``ni:///sha-256;<hex>?ver=CBV2.0`` of one event (CBV 2.0 §8.9; RFC 6920 §3)."""
    hasher = HASH_ALGORITHMS.get(algorithm)
    if hasher is None:
        raise ValueError(f"unsupported hash algorithm {algorithm!r} (supported: {', '.join(HASH_ALGORITHMS)})")
    digest = hasher(prehash_string(event, context).encode("utf-8")).hexdigest()
    return f"ni:///{algorithm};{digest}?ver={HASH_VERSION}"


_EVENT_TYPES: Final = frozenset(
    {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent"}
)


def document_events(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The events of an EPCISDocument / EPCISQueryDocument in document order, or ``[document]`` for an event."""
    kind = document.get("type")
    if kind in _EVENT_TYPES:
        return [document]
    body = document.get("epcisBody")
    if not isinstance(body, Mapping):
        raise ValueError("$.epcisBody: missing: neither an EPCIS document nor an event")
    if "queryResults" in body:
        results = (body.get("queryResults") or {}).get("resultsBody") or {}
        return list(results.get("eventList") or [])
    if "event" in body:
        return [body["event"]]
    return list(body.get("eventList") or [])


def document_event_hashes(document: Mapping[str, Any], *, algorithm: str = "sha-256") -> list[str]:
    """The hash ID of every event of an EPCIS document (or of a single event), in document order."""
    context = document.get("@context")
    return [event_hash_id(event, context, algorithm=algorithm) for event in document_events(document)]
