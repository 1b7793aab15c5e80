"""CBV 2.0 vocabularies as data: expansion, compaction, and agreement with the EPCIS 2.0 JSON-LD context."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from roadpass.trace.epcis.vocabulary import (
    cbv,
    compact_vocabulary,
    default_namespaces,
    expand_curie,
    expand_vocabulary,
    legacy_urn_prefixes,
    to_legacy_urn,
    vocabulary,
)

# The EPCIS 2.0 JSON-LD context (https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld) as the
# reference event-hash package ships it.
_CONTEXT_FILE = "e532647e8eb371379b8b0e8602d8981c8566bc60f7351f22c76a5bc865962008.jsonld"


def _context() -> dict[str, Any]:
    text = resources.files("epcis_event_hash_generator").joinpath(_CONTEXT_FILE).read_text(encoding="utf-8")
    return dict(json.loads(text)["@context"])


def _scoped_terms(definition: dict[str, Any]) -> dict[str, str]:
    scoped = definition["@context"]
    merged: dict[str, Any] = {}
    for part in scoped if isinstance(scoped, list) else [scoped]:
        merged.update(part)
    return {k: v for k, v in merged.items() if isinstance(v, str) and v.startswith(("cbv:", "gs1:"))}


def _context_terms() -> dict[str, dict[str, str]]:
    ctx = _context()
    report = ctx["sensorElementList"]["@context"]["sensorReport"]["@context"]
    return {
        "bizStep": _scoped_terms(ctx["bizStep"]),
        "disposition": _scoped_terms(ctx["disposition"]),
        "bizTransactionType": _scoped_terms(ctx["bizTransactionList"]["@context"]["type"]),
        "sourceDestinationType": _scoped_terms(ctx["sourceList"]["@context"]["type"]),
        "errorReason": _scoped_terms(ctx["errorDeclaration"]["@context"]["reason"]),
        "sensorMeasurementType": _scoped_terms(report["type"]),
        "sensorAlertType": _scoped_terms(report["exception"]),
        "component": _scoped_terms(report["component"]),
    }


@pytest.mark.parametrize("kind", sorted(_context_terms()))
def test_terms_match_the_epcis_context(kind: str) -> None:
    expected = _context_terms()[kind]
    vocab = vocabulary(kind)
    assert set(vocab.terms) == set(expected)
    for term, curie in expected.items():
        assert vocab.expand(term) == expand_curie(curie)


def test_persistent_disposition_uses_the_disposition_terms() -> None:
    ctx = _context()
    assert set(_scoped_terms(ctx["persistentDisposition"])) == set(vocabulary("disposition").terms)


def test_namespaces_match_the_epcis_context() -> None:
    ctx = _context()
    declared = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("/", "#", ":"))}
    assert dict(default_namespaces()) == declared
    assert default_namespaces()["gs1"] == "https://gs1.org/voc/"
    assert default_namespaces()["cbvmda"] == "urn:epcglobal:cbv:mda:"


def test_every_vocabulary_cites_its_section() -> None:
    for vocab in cbv().vocabularies.values():
        assert vocab.section.startswith("CBV 2.0 §"), vocab.kind
        assert vocab.fields, vocab.kind
        assert vocab.uri_prefix.startswith("https://")


@pytest.mark.parametrize(
    ("kind", "value", "full"),
    [
        ("bizStep", "shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("bizStep", "urn:epcglobal:cbv:bizstep:shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("bizStep", "cbv:BizStep-shipping", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("bizStep", " https://ref.gs1.org/cbv/BizStep-shipping ", "https://ref.gs1.org/cbv/BizStep-shipping"),
        ("bizStep", "https://roadpass.dev/ns/epcis/registering", "https://roadpass.dev/ns/epcis/registering"),
        ("bizStep", "registering", "registering"),
        ("disposition", "in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("disposition", "urn:epcglobal:cbv:disp:in_transit", "https://ref.gs1.org/cbv/Disp-in_transit"),
        ("bizTransactionType", "po", "https://ref.gs1.org/cbv/BTT-po"),
        ("sourceDestinationType", "owning_party", "https://ref.gs1.org/cbv/SDT-owning_party"),
        ("errorReason", "did_not_occur", "https://ref.gs1.org/cbv/ER-did_not_occur"),
        ("errorReason", "urn:epcglobal:cbv:er:incorrect_data", "https://ref.gs1.org/cbv/ER-incorrect_data"),
        ("sensorMeasurementType", "Temperature", "https://gs1.org/voc/Temperature"),
        ("sensorMeasurementType", "gs1:Temperature", "https://gs1.org/voc/Temperature"),
        ("sensorAlertType", "ALARM_CONDITION", "https://gs1.org/voc/ALARM_CONDITION"),
        ("component", "latitude", "https://ref.gs1.org/cbv/Comp-latitude"),
    ],
)
def test_expand_and_compact(kind: str, value: str, full: str) -> None:
    assert expand_vocabulary(kind, value) == full
    word = compact_vocabulary(kind, value)
    assert compact_vocabulary(kind, full) == word
    if vocabulary(kind).is_standard(value):
        assert expand_vocabulary(kind, word) == full
        assert word in vocabulary(kind).terms


def test_a_word_of_another_vocabulary_is_not_expanded() -> None:
    assert expand_vocabulary("bizStep", "in_transit") == "in_transit"
    assert compact_vocabulary("disposition", "https://ref.gs1.org/cbv/BizStep-shipping") == (
        "https://ref.gs1.org/cbv/BizStep-shipping"
    )


def test_legacy_urns() -> None:
    web = "https://ref.gs1.org/cbv/BizStep-receiving"
    assert to_legacy_urn("bizStep", web) == "urn:epcglobal:cbv:bizstep:receiving"
    assert to_legacy_urn("disposition", "in_progress") == "urn:epcglobal:cbv:disp:in_progress"
    with pytest.raises(ValueError, match="no legacy URN"):
        to_legacy_urn("component", "x")
    with pytest.raises(ValueError, match="not a CBV"):
        to_legacy_urn("bizStep", "https://roadpass.dev/ns/epcis/registering")
    # The five rewrites CBV 2.0 hash rule 14 applies (bizstep, disp, btt, sdt, er).
    assert {legacy for legacy, _ in legacy_urn_prefixes()} == {
        "urn:epcglobal:cbv:bizstep:", "urn:epcglobal:cbv:disp:", "urn:epcglobal:cbv:btt:",
        "urn:epcglobal:cbv:sdt:", "urn:epcglobal:cbv:er:",
    }  # fmt: skip


def test_unknown_vocabulary_is_named() -> None:
    with pytest.raises(ValueError, match="unknown CBV vocabulary 'bizstep'"):
        expand_vocabulary("bizstep", "shipping")


def test_curie_expansion_leaves_uris_alone() -> None:
    assert expand_curie("https://gs1.org/voc/Temperature") == "https://gs1.org/voc/Temperature"
    assert expand_curie("urn:epc:id:sgtin:0614141.107346.2017") == "urn:epc:id:sgtin:0614141.107346.2017"
    assert expand_curie("example:x", {"example": "https://ns.example.com/epcis/"}) == "https://ns.example.com/epcis/x"
