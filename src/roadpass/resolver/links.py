"""Which links a scanned item has for a caller, which one a scan is redirected to, and their renderings.

Pure rules over :mod:`roadpass.resolver.vocabulary` (the link types as data):

* a :class:`Subject` is one level of a scan that the node knows (a battery with its passport, a vehicle, a
  unit, a lot, a product, a location) with what the link sources hold for it;
* a link target applies when its kind matches, its link source holds something (``needs``) and the caller
  may see it: a battery-passport audience (Reg. (EU) 2023/1542 Art. 77(2)) or an access-policy operation;
* the default link is the default link type (``gs1:pip``) of the most specific level that has one — serial
  before lot before GTIN (GS1 Digital Link URI Syntax 1.2 §4; GS1-Conformant Resolver Standard 1.2.0, the
  default link);
* ``linkType`` selects a link of one type; among several, the caller's languages (``Accept-Language``)
  pick by ``hreflang``; a type the item lacks falls back to the default link (to confirm against the
  resolver standard's clause on unavailable link types);
* the linkset is RFC 9264 JSON restricted as the GS1 linkset schema requires (``anchor``,
  ``itemDescription``, one array per relation type URI, link objects with ``href``, ``title``, ``type``,
  ``hreflang`` only); the ``Link`` header carries the same links in RFC 8288 form and the ``linkset``
  relation to the linkset itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from roadpass.resolver.scan import LINKSET_MEDIA, Level
from roadpass.resolver.vocabulary import LinkTarget, Vocabulary

__all__ = [
    "Audience",
    "Link",
    "Resolution",
    "Subject",
    "choose",
    "description_file",
    "link_header",
    "links_for",
    "linkset",
    "resolve_levels",
]


@dataclass(frozen=True, slots=True)
class Subject:
    """A level of a scan that the node knows, with what each link source holds for it."""

    kind: str
    level: Level
    name: str | None = None
    passport_id: str | None = None
    vin: str | None = None
    product: str | None = None  # the compliance technical file the item is made under
    vocabulary: str | None = None  # the master-data vocabulary type that names the item
    open_recalls: tuple[str, ...] | None = None  # titles of open recall campaigns; None: no recall source
    has_service: bool = False

    def holds(self, need: str | None) -> bool:
        """Whether the link source ``need`` holds something for this item (None: nothing needed)."""
        if need is None:
            return True
        return {
            "passport": self.passport_id is not None,
            "certification": self.product is not None,
            "master_data": self.vocabulary is not None,
            "recalls": self.open_recalls is not None,
            "service": self.has_service,
        }[need]

    def href(self, template: str, root: str) -> str:
        """``template`` filled in for this item, absolute on ``root``."""
        fields = {
            "passport_id": quote(self.passport_id or "", safe=":"),
            "vin": quote(self.vin or "", safe=""),
            "path": self.level.path,
            "key": quote(self.level.key, safe=""),
            "product": quote(self.product or "", safe=""),
            "vocabulary": self.vocabulary or "",
        }
        return root + template.format(**fields)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who is asking: the battery-passport audience and the access-policy operations allowed to them."""

    passport_role: str
    operations: frozenset[str]

    def sees(self, target: LinkTarget) -> bool:
        """Whether a link target is for this caller."""
        if target.operation is not None:
            return target.operation in self.operations
        return self.passport_role in target.audience


@dataclass(frozen=True, slots=True)
class Link:
    """One link of an item for a caller (absolute ``href``)."""

    term: str
    href: str
    media: str
    hreflang: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the node holds for a scan for one caller: the item's links and the default link."""

    subject: Subject
    anchor: str
    links: tuple[Link, ...]
    default: Link | None


def links_for(subject: Subject, audience: Audience, root: str, vocab: Vocabulary) -> tuple[Link, ...]:
    """The links of ``subject`` the caller may see, in the order of the link-types file."""
    return tuple(
        Link(t.term, subject.href(t.href, root), t.media, t.hreflang)
        for t in vocab.targets
        if subject.kind in t.kinds and subject.holds(t.needs) and audience.sees(t)
    )


def resolve_levels(
    subjects: Sequence[Subject], audience: Audience, root: str, vocab: Vocabulary
) -> Resolution | None:
    """The resolution of a scan from its known levels (most specific first); None when none is known."""
    if not subjects:
        return None
    first = subjects[0]
    links = links_for(first, audience, root, vocab)
    default = next((link for link in links if link.term == vocab.default_type), None)
    for subject in subjects[1:]:
        if default is not None:
            break
        default = next((link for link in links_for(subject, audience, root, vocab)
                        if link.term == vocab.default_type), None)
    return Resolution(first, root + first.level.path, links, default)


def choose(resolution: Resolution, term: str | None, languages: tuple[str, ...]) -> Link | None:
    """The link a scan is redirected to: of type ``term`` (None: the default link) in the best language."""
    if term is None:
        return resolution.default
    candidates = [link for link in resolution.links if link.term == term]
    if not candidates:
        return resolution.default
    for lang in languages:
        for link in candidates:
            if lang in link.hreflang:
                return link
    return candidates[0]


def _title(term: str, vocab: Vocabulary, languages: tuple[str, ...]) -> str:
    return vocab.types[term].title(languages)[1]


def _link_object(link: Link, vocab: Vocabulary, languages: tuple[str, ...]) -> dict[str, Any]:
    return {"href": link.href, "title": _title(link.term, vocab, languages), "type": link.media,
            "hreflang": list(link.hreflang)}


def _description(subject: Subject) -> str:
    if subject.name:
        return subject.name
    what = {"battery": "Battery", "vehicle": "Vehicle", "product": "Product", "lot": "Lot",
            "location": "Location"}.get(subject.kind, "Item")
    return f"{what} {subject.vin or subject.level.path}"


def linkset(resolution: Resolution, vocab: Vocabulary, languages: tuple[str, ...]) -> dict[str, Any]:
    """The RFC 9264 linkset (JSON) of the resolution, as the GS1 linkset schema requires."""
    entry: dict[str, Any] = {"anchor": resolution.anchor, "itemDescription": _description(resolution.subject)}
    for link in resolution.links:
        entry.setdefault(vocab.uri(link.term), []).append(_link_object(link, vocab, languages))
    if resolution.default is not None:
        entry[vocab.uri("defaultLink")] = [_link_object(resolution.default, vocab, languages)]
    return {"linkset": [entry]}


def _quoted(name: str, value: str) -> str:
    """A Link parameter: a quoted string, or RFC 8187 ``name*=UTF-8''…`` for non-ASCII text."""
    if value.isascii():
        return f'{name}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
    return f"{name}*=UTF-8''{quote(value, safe='')}"


def link_header(resolution: Resolution, vocab: Vocabulary, languages: tuple[str, ...]) -> str:
    """The ``Link`` header (RFC 8288): every link of the item, then the ``linkset`` relation (RFC 9264 §6)."""
    parts = [
        f'<{link.href}>; rel="{vocab.uri(link.term)}"; type="{link.media}"; '
        + "".join(f'hreflang="{lang}"; ' for lang in link.hreflang)
        + _quoted("title", _title(link.term, vocab, languages))
        for link in resolution.links
    ]
    parts.append(f'<{resolution.anchor}?linkType=linkset>; rel="linkset"; type="{LINKSET_MEDIA}"')
    return ", ".join(parts)


def description_file(root: str, vocab: Vocabulary) -> dict[str, Any]:
    """The resolver description file served at ``/.well-known/gs1resolver`` (description file schema 1.2.0)."""
    return {
        "name": vocab.description["name"],
        "resolverRoot": root,
        "supportedPrimaryKeys": list(vocab.description["supportedPrimaryKeys"]),
        "supportedLinkType": [{"namespace": vocab.namespace, "prefix": vocab.prefix}],
        "linkTypeDefaultCanBeLinkset": bool(vocab.description["linkTypeDefaultCanBeLinkset"]),
    }
