"""CBV 2.0 event hash IDs: the GS1 test vectors, differential tests against the reference implementation,
and the invariances the algorithm promises (order, representation, time zone)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyld import jsonld

from roadpass.conformance import conformance_path
from roadpass.trace.epcis import event_hash
from roadpass.trace.epcis.event_hash import (
    document_event_hashes,
    document_events,
    event_hash_id,
    prehash_string,
)
from roadpass.trace.epcis.vocabulary import vocabulary
from roadpass.trace.identifiers import gs1_check_digit

CONTEXT: list[Any] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"example": "https://ns.example.com/epcis/"},
]


def _files(folder: str) -> list[Path]:
    return sorted(conformance_path("epcis", folder).glob("*.jsonld"))


def _load(path: Path) -> dict[str, Any]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _document(*events: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {
        "@context": CONTEXT if context is None else context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2024-01-01T00:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


# --------------------------------------------------------------------------------------------------------
# The GS1 test vectors (reference implementation's tests/examples)
# --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", _files("event-hash"), ids=lambda p: p.name)
def test_hash_vectors(path: Path) -> None:
    document = _load(path)
    assert document_event_hashes(document) == _lines(path.with_suffix(".hashes"))


@pytest.mark.parametrize("path", _files("event-hash"), ids=lambda p: p.name)
def test_prehash_vectors(path: Path) -> None:
    document = _load(path)
    context = document.get("@context")
    prehashes = [prehash_string(event, context) for event in document_events(document)]
    assert prehashes == _lines(path.with_suffix(".prehashes"))


# --------------------------------------------------------------------------------------------------------
# Differential tests against the reference implementation (epcis_event_hash_generator, dev dependency)
# --------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference() -> Iterator[Callable[[dict[str, Any]], tuple[list[str], list[str]]]]:
    """The reference's (pre-hashes, hashes) of a document, offline.

    The reference expands the document with PyLD and loads the EPCIS context from its own copy; the GS1
    examples name the "simple" context URL, which is served here from that same copy (same vocabulary).
    """
    context_file = "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"
    epcis_context = json.loads(resources.files("epcis_event_hash_generator").joinpath(context_file).read_text())
    previous = jsonld.get_document_loader()

    def loader(url: str, options: dict[str, Any] | None = None) -> Any:
        if "epcis-context" not in url:
            raise ValueError(f"offline test: no document for {url}")
        return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url, "document": epcis_context}

    def run(document: dict[str, Any]) -> tuple[list[str], list[str]]:
        json_to_py._namespaces.clear()  # the reference keeps prefixes in a module global
        events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
        prehashes = hash_generator.derive_prehashes_from_events(events)
        return prehashes, hash_generator.calculate_hashes_from_pre_hashes(prehashes)

    jsonld.set_document_loader(loader)
    try:
        yield run
    finally:
        jsonld.set_document_loader(previous)


@pytest.mark.parametrize("path", [*_files("examples"), *_files("event-hash")], ids=lambda p: p.name)
def test_examples_agree_with_reference(
    reference: Callable[[dict[str, Any]], tuple[list[str], list[str]]], path: Path
) -> None:
    document = _load(path)
    prehashes, hashes = reference(document)
    context = document.get("@context")
    assert [prehash_string(e, context) for e in document_events(document)] == prehashes
    assert document_event_hashes(document) == hashes


_SAFE_SERIAL = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz-._"
_URN_SERIAL = st.text(_SAFE_SERIAL + "!'()*+,:;=", min_size=1, max_size=12) | st.sampled_from(
    ["A%2FB", "x%22y", "50%25", "a%26b", "%3C%3E%3F"]
)
_WORDS = {kind: list(vocabulary(kind).terms) for kind in ("bizStep", "disposition", "bizTransactionType")}


@st.composite
def _key_parts(draw: st.DrawFn, total: int, max_cp: int = 11) -> tuple[str, str]:
    size = draw(st.integers(6, max_cp))
    digits = draw(st.text("0123456789", min_size=total, max_size=total))
    return digits[:size], digits[size:]


def _gtin(cp: str, item: str) -> str:
    body = item[:1] + cp + item[1:]
    return body + gs1_check_digit(body)


@st.composite
def _epc(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["sgtin", "sgtin", "sscc", "giai", "grai", "dl-sgtin", "dl-sscc"]))
    if kind in ("sgtin", "dl-sgtin"):
        cp, item = draw(_key_parts(13))
        if kind == "dl-sgtin":
            host = draw(st.sampled_from(["https://id.gs1.org", "https://example.com", "http://brand.example/x"]))
            serial = draw(st.text(_SAFE_SERIAL, min_size=1, max_size=12))
            return f"{host}/01/{_gtin(cp, item)}/21/{serial}"
        return f"urn:epc:id:sgtin:{cp}.{item}.{draw(_URN_SERIAL)}"
    if kind in ("sscc", "dl-sscc"):
        cp, ref = draw(_key_parts(17))
        if kind == "dl-sscc":
            body = ref[:1] + cp + ref[1:]
            return f"https://example.org/00/{body}{gs1_check_digit(body)}"
        return f"urn:epc:id:sscc:{cp}.{ref}"
    cp, ref = draw(_key_parts(12))
    if kind == "grai":
        return f"urn:epc:id:grai:{cp}.{ref}.{draw(_URN_SERIAL)}"
    asset = draw(st.text(_SAFE_SERIAL, min_size=1, max_size=30 - len(cp)))
    return f"urn:epc:id:giai:{cp}.{asset}"


@st.composite
def _epc_class(draw: st.DrawFn) -> str:
    cp, item = draw(_key_parts(13))
    form = draw(st.sampled_from(["lgtin", "idpat", "dl"]))
    if form == "lgtin":
        return f"urn:epc:class:lgtin:{cp}.{item}.{draw(_URN_SERIAL)}"
    if form == "idpat":
        return f"urn:epc:idpat:sgtin:{cp}.{item}.*"
    return f"https://example.com/01/{_gtin(cp, item)}/10/{draw(st.text(_SAFE_SERIAL, min_size=1, max_size=10))}"


@st.composite
def _location(draw: st.DrawFn) -> str:
    cp, ref = draw(_key_parts(12))
    extension = draw(st.sampled_from(["0", "0", "1", "987", "A-1"]))
    if draw(st.booleans()):
        return f"urn:epc:id:sgln:{cp}.{ref}.{extension}"
    gln = cp + ref + gs1_check_digit(cp + ref)
    return f"https://example.com/414/{gln}" + ("" if extension == "0" else f"/254/{extension}")


@st.composite
def _time(draw: st.DrawFn) -> tuple[str, str]:
    """(eventTime in some offset and precision, eventTimeZoneOffset)."""
    moment = draw(st.datetimes(datetime(2000, 1, 1), datetime(2035, 12, 31)))
    minutes = draw(st.sampled_from([0, 60, -360, 330, 120, -210, 840, -720, 345]))
    offset = timezone(timedelta(minutes=minutes))
    precision = draw(st.sampled_from(["seconds", "milliseconds", "microseconds", "tenths"]))
    if precision == "microseconds" and moment.microsecond >= 999500:
        moment = moment.replace(microsecond=999000)  # the reference fails to round .9995 up to a new second
    local = moment.replace(tzinfo=UTC).astimezone(offset)
    if precision == "tenths":
        text = local.strftime("%Y-%m-%dT%H:%M:%S") + f".{local.microsecond // 100000}" + local.strftime("%z")
        text = text[:-2] + ":" + text[-2:]
    else:
        text = local.isoformat(timespec=precision)
    if minutes == 0 and draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    sign = "-" if minutes < 0 else "+"
    return text, f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _vocab_value(draw: st.DrawFn, kind: str, legacy: str) -> str:
    word = draw(st.sampled_from(_WORDS[kind]))
    vocab = vocabulary(kind)
    return draw(
        st.sampled_from([word, vocab.uri_prefix + word, legacy + word, "https://example.com/voc/custom-" + word])
    )


@st.composite
def _events(draw: st.DrawFn) -> dict[str, Any]:
    """A simple ObjectEvent or AggregationEvent with the fields roadpass captures most."""
    time, offset = draw(_time())
    event: dict[str, Any] = {"eventTime": time, "eventTimeZoneOffset": offset}
    if draw(st.booleans()):
        event["type"] = "ObjectEvent"
        event["epcList"] = draw(st.lists(_epc(), max_size=4))
        if draw(st.booleans()):
            quantities = []
            for _ in range(draw(st.integers(1, 2))):
                element: dict[str, Any] = {"epcClass": draw(_epc_class())}
                element["quantity"] = draw(st.sampled_from([10, 10.5, 200.0, 1, 0.25, 3.0e2]))
                if draw(st.booleans()):
                    element["uom"] = draw(st.sampled_from(["KGM", "LTR", "EA"]))
                quantities.append(element)
            event["quantityList"] = quantities
        if draw(st.booleans()):
            event["ilmd"] = {"example:lot": "v" + draw(st.text("0123456789", min_size=1, max_size=5))}
    else:
        event["type"] = "AggregationEvent"
        cp, ref = draw(_key_parts(17))
        event["parentID"] = f"urn:epc:id:sscc:{cp}.{ref}"
        event["childEPCs"] = draw(st.lists(_epc(), max_size=4))
        if draw(st.booleans()):
            event["childQuantityList"] = [{"epcClass": draw(_epc_class()), "quantity": draw(st.integers(1, 500))}]
    event["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
    if draw(st.booleans()):
        event["bizStep"] = _vocab_value(draw, "bizStep", "urn:epcglobal:cbv:bizstep:")
    if draw(st.booleans()):
        event["disposition"] = _vocab_value(draw, "disposition", "urn:epcglobal:cbv:disp:")
    if draw(st.booleans()):
        event["readPoint"] = {"id": draw(_location())}
    if draw(st.booleans()):
        event["bizLocation"] = {"id": draw(_location())}
    if draw(st.booleans()):
        transactions = []
        for n, (cp, ref) in enumerate(draw(st.lists(_key_parts(12), min_size=1, max_size=2))):
            kind = draw(st.sampled_from(_WORDS["bizTransactionType"]))
            transactions.append({"type": kind, "bizTransaction": f"urn:epc:id:gdti:{cp}.{ref}.{n}"})
        event["bizTransactionList"] = transactions
    if draw(st.booleans()):
        event["sourceList"] = [{"type": "possessing_party", "source": f"urn:epc:id:pgln:{cp}.{ref}"}
                               for cp, ref in [draw(_key_parts(12))]]  # fmt: skip
    if draw(st.booleans()):
        event["example:myField"] = "v" + draw(st.text("0123456789", min_size=1, max_size=4))
    if draw(st.booleans()):
        event["recordTime"] = "2035-01-01T00:00:00Z"
    keys = list(event)
    random.Random(draw(st.integers(0, 1000))).shuffle(keys)
    return {key: event[key] for key in keys}


@given(event=_events())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_events_agree_with_reference(
    reference: Callable[[dict[str, Any]], tuple[list[str], list[str]]], event: dict[str, Any]
) -> None:
    prehashes, hashes = reference(_document(event))
    assert [prehash_string(event, CONTEXT)] == prehashes
    assert [event_hash_id(event, CONTEXT)] == hashes


_EXTENSION_CONTEXT: list[Any] = [*CONTEXT, {"ex2": "urn:example:", "gs1": "https://gs1.org/voc/"}]
_scalars = st.sampled_from(
    ["v1", "007", " pad ", "3.50", "", "urn:epc:id:sgtin:4012345.011111.9", "example:abc",
     "2020-01-01T00:00:00+01:00", "https://example.com/8004/4012345X1", True, False, None, 1, 2.0, 1e-07, -3]
)  # fmt: skip
_keys = st.sampled_from(["example:a", "example:b", "example:cList", "ex2:d", "plain", "example:quantity"])
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_keys, inner, max_size=3),
    max_leaves=6,
)
_extensions = st.dictionaries(_keys, _values, max_size=3)


@given(
    base=_events(),
    top=_extensions,
    read_point=_extensions,
    ilmd=_extensions,
    sensor=st.tuples(_extensions, _extensions, _extensions),
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_user_extensions_agree_with_reference(
    reference: Callable[[dict[str, Any]], tuple[list[str], list[str]]],
    base: dict[str, Any],
    top: dict[str, Any],
    read_point: dict[str, Any],
    ilmd: dict[str, Any],
    sensor: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
) -> None:
    """Rules 19-21: extensions at event level, inside readPoint, ILMD and sensor elements, nested."""
    element, metadata, report = sensor
    event = {
        **base,
        **top,
        "readPoint": {"id": "urn:epc:id:sgln:4012345.00011.0", **read_point},
        "sensorElementList": [
            {
                "sensorMetadata": {
                    "time": "2020-03-04T10:00:00.5+02:00",
                    "deviceID": "urn:epc:id:giai:4000001.1",
                    **metadata,
                },
                "sensorReport": [{"type": "Temperature", "value": 26.5, "uom": "CEL", **report}, {"type": "gs1:Speed"}],
                **element,
            }
        ],
    }
    if ilmd:
        event["ilmd"] = ilmd
    prehashes, hashes = reference(_document(event, context=_EXTENSION_CONTEXT))
    assert [prehash_string(event, _EXTENSION_CONTEXT)] == prehashes
    assert [event_hash_id(event, _EXTENSION_CONTEXT)] == hashes


# --------------------------------------------------------------------------------------------------------
# Invariances (CBV 2.0 §8.9: different serialisations of the same event hash alike; any change changes it)
# --------------------------------------------------------------------------------------------------------

BASE: dict[str, Any] = {
    "type": "ObjectEvent",
    "eventTime": "2020-03-04T11:00:30.000+01:00",
    "eventTimeZoneOffset": "+01:00",
    "epcList": ["urn:epc:id:sgtin:4012345.011111.9876", "urn:epc:id:sgtin:4012345.011111.5432"],
    "action": "OBSERVE",
    "bizStep": "shipping",
    "disposition": "in_transit",
    "readPoint": {"id": "urn:epc:id:sgln:4012345.00001.0", "example:gate": "G7"},
    "bizTransactionList": [
        {"type": "po", "bizTransaction": "urn:epc:id:gdti:4012345.00001.1"},
        {"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:4012345000009:ASN1"},
    ],
    "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.011111.L1", "quantity": 2.5, "uom": "KGM"}],
    "example:myField": {"example:sub": "1"},
}


def _hash(event: dict[str, Any], context: Any = CONTEXT) -> str:
    return event_hash_id(event, context)


@pytest.mark.parametrize(
    "variant",
    [
        # Member order and list order do not matter.
        lambda e: dict(reversed(list(e.items()))),
        lambda e: {**e, "epcList": list(reversed(e["epcList"])), "bizTransactionList": e["bizTransactionList"][::-1]},
        # Nor the JSON order inside a business transaction (the reference would differ here).
        lambda e: {**e, "bizTransactionList": [{"bizTransaction": t["bizTransaction"], "type": t["type"]}
                                               for t in e["bizTransactionList"]]},
        # EPC URN or Digital Link (any host), bare word, Web URI or legacy URN for CBV values.
        lambda e: {**e, "epcList": ["https://example.com/01/04012345111118/21/9876",
                                    "https://id.gs1.org/01/04012345111118/21/5432"]},
        lambda e: {**e, "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping"},
        lambda e: {**e, "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
                   "disposition": "urn:epcglobal:cbv:disp:in_transit"},
        lambda e: {**e, "bizStep": "cbv:BizStep-shipping"},
        lambda e: {**e, "readPoint": {"id": "https://example.com/414/4012345000016", "example:gate": "G7"}},
        # The same instant written in another offset, in UTC, or with more digits.
        lambda e: {**e, "eventTime": "2020-03-04T10:00:30Z"},
        lambda e: {**e, "eventTime": "2020-03-04T05:00:30.000400-05:00"},
        # Whitespace around values, numbers with trailing zeros.
        lambda e: {**e, "action": " OBSERVE "},
        lambda e: {**e, "quantityList": [{**e["quantityList"][0], "quantity": 2.50}]},
        # Fields that take no part in the hash.
        lambda e: {**e, "recordTime": "2021-01-01T00:00:00Z", "eventID": "urn:uuid:1"},
        lambda e: {**e, "errorDeclaration": {"declarationTime": "2021-01-01T00:00:00Z", "reason": "did_not_occur"}},
    ],
)  # fmt: skip
def test_same_event_same_hash(variant: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    assert _hash(variant(copy.deepcopy(BASE))) == _hash(BASE)


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e["epcList"].append("urn:epc:id:sgtin:4012345.011111.1"),
        lambda e: e.update(action="ADD"),
        lambda e: e.update(eventTime="2020-03-04T11:00:30.001+01:00"),
        lambda e: e.update(eventTimeZoneOffset="+02:00"),
        lambda e: e["readPoint"].update({"example:gate": "G8"}),
        lambda e: e["quantityList"][0].update(quantity=2.51),
        lambda e: e["bizTransactionList"][0].update(type="inv"),
        lambda e: e.update({"example:other": "x"}),
        lambda e: e.pop("disposition"),
        lambda e: e.update(ilmd={"example:bestBefore": "2021-01-01"}),
    ],
)
def test_any_change_changes_the_hash(change: Callable[[dict[str, Any]], object]) -> None:
    event = copy.deepcopy(BASE)
    change(event)
    assert _hash(event) != _hash(BASE)


def test_time_normalisation() -> None:
    def time_of(value: str) -> str:
        text = prehash_string({"type": "ObjectEvent", "eventTime": value, "action": "OBSERVE"})
        return text.split("eventTime=")[1].split("action=")[0]

    assert time_of("2022-02-16T20:33:31.116000-06:00") == "2022-02-17T02:33:31.116Z"
    assert time_of("2020-04-01T15:00:00+01:00") == "2020-04-01T14:00:00.000Z"
    assert time_of("2020-04-01T15:00:00.0005Z") == "2020-04-01T15:00:00.000Z"  # half to even, as the reference
    assert time_of("2020-04-01T15:00:00.0015Z") == "2020-04-01T15:00:00.002Z"
    assert time_of("2020-12-31T23:59:59.9996Z") == "2021-01-01T00:00:00.000Z"
    assert time_of("2020-04-01T15:00:00+0530") == "2020-04-01T09:30:00.000Z"
    assert time_of("2020-04-01T15:00:00") == "2020-04-01T15:00:00.000Z"  # no offset: read as UTC
    assert time_of("not a time") == "not a time"


def test_numbers_and_literals() -> None:
    event = {
        "type": "ObjectEvent", "eventTime": "2020-01-01T00:00:00Z", "action": "OBSERVE",
        "sensorElementList": [{"sensorReport": [
            {"type": "Temperature", "value": 26.0, "uom": "CEL"},
            {"type": "gs1:Temperature", "value": 1e-05, "booleanValue": True, "stringValue": "007"},
        ]}],
    }  # fmt: skip
    text = prehash_string(event, CONTEXT)
    assert "sensorReporttype=https://gs1.org/voc/Temperaturevalue=26uom=CEL" in text
    # The reference renders JSON true as Python's "True" and trims numeric-looking strings as numbers.
    assert "type=https://gs1.org/voc/Temperaturevalue=1e-05stringValue=7booleanValue=True" in text


def test_extension_keys_need_the_context() -> None:
    event = {"type": "ObjectEvent", "eventTime": "2020-01-01T00:00:00Z", "action": "OBSERVE", "example:f": "1"}
    assert prehash_string(event, CONTEXT).endswith("{https://ns.example.com/epcis/}f=1")
    assert prehash_string(event, {"example": "https://ns.example.com/epcis/"}).endswith(
        "{https://ns.example.com/epcis/}f=1"
    )
    assert prehash_string(event, None).endswith("example:f=1")
    assert prehash_string(event, "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld").endswith(
        "example:f=1"
    )


def test_extensions_inside_standard_fields_follow_their_parent() -> None:
    event = {
        "type": "ObjectEvent", "eventTime": "2020-01-01T00:00:00Z", "action": "OBSERVE",
        "readPoint": {"example:b": "2", "id": "urn:epc:id:sgln:4012345.00011.0", "example:a": "1"},
        "bizLocation": {"id": "urn:epc:id:sgln:4012345.00011.0"},
        "example:z": "9",
    }  # fmt: skip
    assert prehash_string(event, CONTEXT) == (
        "eventType=ObjectEventeventTime=2020-01-01T00:00:00.000Zaction=OBSERVE"
        "readPointid=https://id.gs1.org/414/4012345000115"
        "{https://ns.example.com/epcis/}a=1{https://ns.example.com/epcis/}b=2"
        "bizLocationid=https://id.gs1.org/414/4012345000115{https://ns.example.com/epcis/}z=9"
    )


def test_standalone_event_with_its_own_context_hashes_like_in_a_document() -> None:
    document = _document(BASE)
    standalone = {"@context": CONTEXT, **BASE}
    assert document_event_hashes(standalone) == document_event_hashes(document) == [_hash(BASE)]


def test_document_shapes_and_algorithms() -> None:
    single = {"@context": CONTEXT, "type": "EPCISDocument", "epcisBody": {"event": BASE}}
    query = {
        "@context": CONTEXT, "type": "EPCISQueryDocument",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": [BASE, BASE]}}},
    }  # fmt: skip
    assert document_event_hashes(single) == [_hash(BASE)]
    assert document_event_hashes(query) == [_hash(BASE)] * 2
    sha3 = event_hash_id(BASE, CONTEXT, algorithm="sha3-256")
    assert sha3.startswith("ni:///sha3-256;") and sha3.endswith("?ver=CBV2.0") and len(sha3) == 15 + 64 + 11
    assert event_hash_id(BASE, CONTEXT, algorithm="sha-512").startswith("ni:///sha-512;")
    with pytest.raises(ValueError, match="unsupported hash algorithm"):
        event_hash_id(BASE, CONTEXT, algorithm="md5")
    with pytest.raises(ValueError, match="epcisBody"):
        document_event_hashes({"type": "EPCISDocument"})


def test_documented_departures_from_the_reference(
    reference: Callable[[dict[str, Any]], tuple[list[str], list[str]]],
) -> None:
    # A CURIE in a CBV field is expanded (rule 15) even when the document does not redeclare "cbv";
    # the reference only knows prefixes declared inline.
    curie = {**BASE, "bizStep": "cbv:BizStep-shipping"}
    ref_prehash = reference(_document(curie))[0][0]
    assert "bizStep=cbv:BizStep-shipping" in ref_prehash
    assert "bizStep=https://ref.gs1.org/cbv/BizStep-shipping" in prehash_string(curie, CONTEXT)
    # The reference expands a bare CBV word anywhere in the document once any field uses it; roadpass
    # only in the fields the EPCIS context types as CBV vocabulary.
    other = {**BASE, "example:note": "shipping"}
    assert "}note=https://ref.gs1.org/cbv/BizStep-shipping" in reference(_document(other))[0][0]
    assert "}note=shipping" in prehash_string(other, CONTEXT)


def test_public_surface_is_declared() -> None:
    # The pre-hash builder and the value rules live in private modules; this module is the public surface.
    assert sorted(event_hash.__all__) == [
        "HASH_ALGORITHMS", "HASH_VERSION", "document_event_hashes", "document_events", "event_hash_id",
        "prehash_string",
    ]  # fmt: skip
    assert all(hasattr(event_hash, name) for name in event_hash.__all__)
