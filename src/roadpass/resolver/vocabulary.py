"""The resolver's link types as data: ``link-types.yaml`` read once into typed, frozen objects.

The file names each GS1 Web Vocabulary link type roadpass offers, its titles per language, and each link
target: which kinds of item it applies to, where it points on the node, who may see it and which link
source must hold something. This module only reads and checks the file; :mod:`roadpass.resolver.links`
decides with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "AUDIENCES", "KINDS", "LINK_TYPES_FILE", "NEEDS", "LinkTarget", "LinkTypeSpec", "Vocabulary", "parse_vocabulary",
    "vocabulary",
]

LINK_TYPES_FILE = "link-types.yaml"
#: Battery-passport audiences of Reg. (EU) 2023/1542 Art. 77(2) (values of ``passport.access.Role``).
AUDIENCES = frozenset({"public", "legitimate_interest", "authority"})
KINDS = frozenset({"battery", "vehicle", "unit", "lot", "product", "location"})
NEEDS = frozenset({"passport", "certification", "master_data", "recalls", "service"})


@dataclass(frozen=True, slots=True)
class LinkTypeSpec:
    """One GS1 Web Vocabulary link type: its term (``pip``), label, titles by language and citation."""

    term: str
    label: str
    titles: dict[str, str]
    citation: str

    def title(self, languages: tuple[str, ...]) -> tuple[str, str]:
        """``(language, title)`` in the first of ``languages`` it has, else English, else any."""
        for lang in (*languages, "en"):
            found = self.titles.get(lang)
            if found is not None:
                return lang, found
        lang, found = next(iter(self.titles.items()))
        return lang, found


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """Where a link type points for some kinds of item, for whom, and what it needs to exist."""

    term: str
    kinds: frozenset[str]
    href: str
    media: str
    hreflang: tuple[str, ...]
    audience: frozenset[str]
    operation: str | None
    needs: str | None
    citation: str


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Every link type and link target of ``link-types.yaml``, with the resolver description."""

    namespace: str
    prefix: str
    linkset_context: str
    default_type: str
    types: dict[str, LinkTypeSpec]
    targets: tuple[LinkTarget, ...]
    description: dict[str, Any]

    def uri(self, term: str) -> str:
        """The link relation type URI of ``term`` (``pip`` -> ``https://gs1.org/voc/pip``)."""
        return self.namespace + term

    def term_of(self, value: str) -> str | None:
        """The term a ``linkType`` value names, as a CURIE (``gs1:pip``) or a URI; None if not one of ours.

        ``gs1:defaultLink`` (and its URI) name the default link type.
        """
        if value.startswith(self.prefix):
            term = value[len(self.prefix):]
        elif value.startswith(self.namespace):
            term = value[len(self.namespace):]
        elif value.startswith("https://ref.gs1.org/voc/"):
            term = value[len("https://ref.gs1.org/voc/"):]
        else:
            return None
        if term in ("defaultLink", "defaultLinkMulti"):
            return self.default_type
        return term if term in self.types else None


def _target(raw: dict[str, Any], types: dict[str, LinkTypeSpec]) -> LinkTarget:
    term = str(raw["type"])
    if term not in types:
        raise ValueError(f"{LINK_TYPES_FILE}: link type {term!r} is not declared under link_types")
    kinds = frozenset(raw["kinds"])
    audience = frozenset(raw.get("audience", ()))
    operation = raw.get("operation")
    needs = raw.get("needs")
    if not kinds <= KINDS or not audience <= AUDIENCES or (needs is not None and needs not in NEEDS):
        raise ValueError(f"{LINK_TYPES_FILE}: link {term} {raw['href']}: unknown kind, audience or need")
    if bool(audience) == bool(operation):
        raise ValueError(f"{LINK_TYPES_FILE}: link {term} {raw['href']}: give either an audience or an operation")
    return LinkTarget(term=term, kinds=kinds, href=str(raw["href"]), media=str(raw["media"]),
                      hreflang=tuple(raw.get("hreflang", ("en",))), audience=audience,
                      operation=str(operation) if operation else None, needs=needs,
                      citation=str(raw.get("citation", "")))


def parse_vocabulary(data: dict[str, Any]) -> Vocabulary:
    """Check and type the parsed YAML of ``link-types.yaml``."""
    types = {
        term: LinkTypeSpec(term, str(spec["label"]), {str(k): str(v) for k, v in spec["titles"].items()},
                           str(spec["citation"]))
        for term, spec in data["link_types"].items()
    }
    default_type = str(data["default_type"])
    if default_type not in types:
        raise ValueError(f"{LINK_TYPES_FILE}: default_type {default_type!r} is not a declared link type")
    return Vocabulary(
        namespace=str(data["namespace"]), prefix=str(data["prefix"]), linkset_context=str(data["linkset_context"]),
        default_type=default_type, types=types, targets=tuple(_target(t, types) for t in data["links"]),
        description=dict(data["description"]),
    )


@cache
def vocabulary() -> Vocabulary:
    """The shipped link types (read on first use, never at import)."""
    text = resources.files("roadpass.resolver").joinpath(LINK_TYPES_FILE).read_text(encoding="utf-8")
    return parse_vocabulary(yaml.safe_load(text))
