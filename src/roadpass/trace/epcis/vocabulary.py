"""CBV 2.0 standard vocabularies, interpreted from ``cbv.yaml``: expand bare words and legacy URNs, compact back.

EPCIS 2.0 JSON-LD writes standard vocabulary elements as bare words (``shipping``); EPCIS 1.x and XML use
legacy URNs (``urn:epcglobal:cbv:bizstep:shipping``); the CBV 2.0 Web URI is the full form
(``https://ref.gs1.org/cbv/BizStep-shipping``). roadpass indexes and compares the full form, and shows the
bare word. The data (terms, URI prefixes, the CBV section of each vocabulary, the JSON-LD prefixes of the
EPCIS 2.0 context) lives in ``cbv.yaml``; it is read on first use, never at import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

__all__ = [
    "CBV",
    "Vocabulary",
    "cbv",
    "compact_vocabulary",
    "default_namespaces",
    "expand_curie",
    "expand_vocabulary",
    "legacy_urn_prefixes",
    "to_legacy_urn",
    "vocabulary",
]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One CBV standard vocabulary: its terms and how its elements are written."""

    kind: str
    title: str
    section: str
    uri_prefix: str
    legacy_urn_prefix: str | None
    fields: tuple[str, ...]
    terms: tuple[str, ...]
    term_set: frozenset[str]

    def is_standard(self, value: str) -> bool:
        """Whether ``value`` (bare word, Web URI, legacy URN or CURIE) is a standard element of this vocabulary."""
        return compact_vocabulary(self.kind, value) in self.term_set

    def expand(self, value: str) -> str:
        """The CBV Web URI for a bare standard word, legacy URN or CURIE; other values unchanged."""
        text = value.strip()
        if text in self.term_set:
            return self.uri_prefix + text
        legacy = self.legacy_urn_prefix
        if legacy is not None and text.startswith(legacy):
            # CBV 2.0 event-hash rule 14: a legacy URN maps onto the Web URI word for word.
            return self.uri_prefix + text[len(legacy) :]
        return expand_curie(text)

    def compact(self, value: str) -> str:
        """The bare word for a standard element given in any form; other values unchanged."""
        full = self.expand(value)
        if full.startswith(self.uri_prefix):
            word = full[len(self.uri_prefix) :]
            if word in self.term_set:
                return word
        return value.strip()


@dataclass(frozen=True, slots=True)
class CBV:
    """The CBV 2.0 data: vocabularies by kind and the JSON-LD prefixes of the EPCIS 2.0 context."""

    standard: str
    jsonld_context: str
    vocabularies: Mapping[str, Vocabulary]
    namespaces: Mapping[str, str]


def _vocabulary(kind: str, raw: Mapping[str, Any]) -> Vocabulary:
    try:
        terms = tuple(str(t) for t in raw["terms"])
        return Vocabulary(
            kind=kind,
            title=str(raw["title"]),
            section=str(raw["section"]),
            uri_prefix=str(raw["uri_prefix"]),
            legacy_urn_prefix=None if raw.get("legacy_urn_prefix") is None else str(raw["legacy_urn_prefix"]),
            fields=tuple(str(f) for f in raw.get("fields") or ()),
            terms=terms,
            term_set=frozenset(terms),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"cbv.yaml: vocabularies.{kind}: missing or malformed {exc}") from exc


@cache
def cbv() -> CBV:
    """The CBV 2.0 vocabularies, read once from ``cbv.yaml``."""
    text = resources.files("roadpass.trace.epcis").joinpath("cbv.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    vocabularies = {kind: _vocabulary(kind, spec) for kind, spec in raw["vocabularies"].items()}
    namespaces = {str(ns["prefix"]): str(ns["iri"]) for ns in raw["namespaces"]}
    return CBV(
        standard=str(raw["standard"]),
        jsonld_context=str(raw["jsonld_context"]),
        vocabularies=MappingProxyType(vocabularies),
        namespaces=MappingProxyType(namespaces),
    )


def vocabulary(kind: str) -> Vocabulary:
    """The vocabulary ``kind`` (``bizStep``, ``disposition``, ``bizTransactionType``, ``sourceDestinationType``,
    ``errorReason``, ``sensorMeasurementType``, ``sensorAlertType``, ``component``)."""
    try:
        return cbv().vocabularies[kind]
    except KeyError:
        known = ", ".join(cbv().vocabularies)
        raise ValueError(f"unknown CBV vocabulary {kind!r} (known: {known})") from None


def default_namespaces() -> Mapping[str, str]:
    """JSON-LD prefix → IRI as defined by the EPCIS 2.0 context (``cbv``, ``gs1``, ``cbvmda``...)."""
    return cbv().namespaces


def expand_curie(value: str, namespaces: Mapping[str, str] | None = None) -> str:
    """Expand a compact IRI (``gs1:Temperature``) with ``namespaces`` (default: the EPCIS 2.0 context's)."""
    prefix, sep, local = value.partition(":")
    if not sep or local.startswith("//"):
        return value
    iri = (namespaces if namespaces is not None else default_namespaces()).get(prefix)
    return value if iri is None else iri + local


@lru_cache(maxsize=4096)
def expand_vocabulary(kind: str, value: str) -> str:
    """The full CBV Web URI for ``value`` in vocabulary ``kind``.

    ``shipping``, ``urn:epcglobal:cbv:bizstep:shipping`` and ``cbv:BizStep-shipping`` all give
    ``https://ref.gs1.org/cbv/BizStep-shipping``; full URIs and user-vocabulary values come back unchanged
    (surrounding whitespace removed).
    """
    return vocabulary(kind).expand(value)


def compact_vocabulary(kind: str, value: str) -> str:
    """The bare CBV word for a standard element of ``kind`` given in any form; other values unchanged."""
    return vocabulary(kind).compact(value)


def to_legacy_urn(kind: str, value: str) -> str:
    """The EPCIS 1.x URN (``urn:epcglobal:cbv:bizstep:shipping``) for an element of ``kind``.

    Raises ``ValueError`` for a vocabulary without legacy URNs or a value outside the CBV Web URI space.
    """
    vocab = vocabulary(kind)
    if vocab.legacy_urn_prefix is None:
        raise ValueError(f"CBV vocabulary {kind!r} has no legacy URN form")
    full = vocab.expand(value)
    if not full.startswith(vocab.uri_prefix):
        raise ValueError(f"{value!r} is not a CBV {kind} element")
    return vocab.legacy_urn_prefix + full[len(vocab.uri_prefix) :]


@cache
def legacy_urn_prefixes() -> tuple[tuple[str, str], ...]:
    """(legacy URN prefix, Web URI prefix) pairs, for rewriting legacy URNs anywhere in a value."""
    return tuple(
        (v.legacy_urn_prefix, v.uri_prefix) for v in cbv().vocabularies.values() if v.legacy_urn_prefix is not None
    )
