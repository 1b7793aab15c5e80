"""The CBV 2.0 event hash ID: ``ni:///sha-256;<hex>?ver=CBV2.0`` (CBV 2.0 §8.9, RFC 6920).

The pre-hash string is built exactly as the GS1 reference implementation builds it
(github.com/RalphTro/epcis-event-hash-generator, whose README numbers the rules cited below as "rule N"),
so that roadpass and any party using the reference compute the same ID. The code is independent of the
reference and walks the JSON event directly (the reference converts every event to an XML-like tuple tree
and runs a JSON-LD expansion of the whole document; the benchmark sets the two side by side:
``reference_hash_events_per_s`` against capture in ``bench/trace_bench.py``).

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
the notes in ``_pair`` and ``_vocab_value`` in ``_prehash``): the order of ``type`` and identifier inside a
business transaction/source/destination does not depend on the JSON member order; a bare word is expanded only in
the fields whose JSON-LD definition makes it a CBV term (the reference replaces a matching word anywhere
in the document); CURIEs in those fields are expanded with the EPCIS context's prefixes; a time without an
offset is read as UTC (the reference uses the server's zone); a dict ``@context`` is honoured; the
``@context`` of a standalone event is not hashed; inputs on which the reference fails (a time that rounds
up to the next second, ``Infinity``) get a hash instead of being dropped.

The pre-hash string is built in ``_prehash`` (the canonical order, whose table is ``_order``, and the
generic rendering of everything else); values are normalised in ``_values``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any, Final

from roadpass.trace.epcis._order import _top_order
from roadpass.trace.epcis._prehash import Context, _context, _ordered

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
