"""Master data: vocabulary elements (products, sites, read points, parties) and their version history.

Capture keeps every version of an element that a document's ``epcisHeader.epcisMasterData`` brought
(:func:`roadpass.trace.capture_plan.plan_master_data`; EPCIS 2.0 §6.5 lets master data change over time).
The rules here are pure: which version stood at an instant, which attribute names an element, which
elements can name an identifier seen in an event or a tree, and what a list query asks for. The EPCIS 2.0
REST bindings have no master data resource; roadpass offers one under its own namespace (``/masterdata``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.query import QueryError, decode_token, encode_token, fingerprint, parse_page_size
from roadpass.trace.timeutil import from_us

__all__ = [
    "NAME_ATTRIBUTES",
    "VOCABULARY_TYPES",
    "MasterDataPage",
    "MasterDataQuery",
    "MasterDataVersion",
    "VocabularyElement",
    "canonical_key",
    "display_name",
    "element_json",
    "name_keys",
    "parse_master_data_query",
    "pick_names",
    "version_at",
    "version_json",
    "vocabulary_type",
]

_VTYPE = "urn:epcglobal:epcis:vtype:"
_MDA = "urn:epcglobal:cbv:mda#"

#: The vocabulary types roadpass names things from, by short name (EPCIS 2.0 §6.5 and CBV 2.0 §8: EPC
#: classes (trade items by GTIN), business locations and read points (GLN / SGLN), parties (PGLN)).
VOCABULARY_TYPES: dict[str, str] = {
    name: _VTYPE + name for name in ("EPCClass", "BusinessLocation", "ReadPoint", "Party")
}

#: Attributes that name an element, in order of preference. CBV 2.0 §8 gives locations and parties
#: ``#name``; a trade item has no ``#name`` but a short description (at most 35 characters, what a point of
#: sale shows), a full description and a regulated product name. Compact ``cbvmda:`` forms are accepted as
#: documents write them.
NAME_ATTRIBUTES: tuple[str, ...] = tuple(
    form
    for local in ("name", "descriptionShort", "tradeItemDescription", "regulatedProductName", "functionalName")
    for form in (_MDA + local, "cbvmda:" + local)
)

_GTIN_PREFIX = "https://id.gs1.org/01/"
_GLN_PREFIX = "https://id.gs1.org/414/"


@dataclass(frozen=True, slots=True)
class MasterDataVersion:
    """One version of an element: its number (1, 2, …), when it was recorded (UTC µs: the time of the
    capture that brought it), the name capture read from it, and all its attributes as captured."""

    version: int
    recorded_at: int
    name: str | None
    attributes: dict[str, Any]

    @property
    def display_name(self) -> str | None:
        """The name to show beside the element's identifier (see :func:`display_name`)."""
        return display_name(self.attributes, self.name)


@dataclass(frozen=True, slots=True)
class VocabularyElement:
    """A vocabulary element (type and canonical key) with the versions held of it, oldest first."""

    vocabulary_type: str
    key: str
    versions: tuple[MasterDataVersion, ...]

    @property
    def current(self) -> MasterDataVersion:
        """The latest version."""
        return self.versions[-1]

    def at(self, instant: int | None) -> MasterDataVersion | None:
        """The version that stood at ``instant`` (None: now); None when none had been recorded yet."""
        return self.current if instant is None else version_at(self.versions, instant)


def version_at(versions: Sequence[MasterDataVersion], instant: int) -> MasterDataVersion | None:
    """The version standing at ``instant``: the newest of those recorded at or before it.

    A version replaces its predecessor from the moment it is recorded (EPCIS 2.0 §6.5: master data may change
    over time, and an event is read against the master data of its time); before the first, none stood.
    Numbers, not times, order the versions: a wall clock set back between two captures changes nothing."""
    return max((v for v in versions if v.recorded_at <= instant), key=lambda v: v.version, default=None)


def display_name(attributes: Mapping[str, Any], name: str | None = None) -> str | None:
    """The first non-empty string among ``name`` and the :data:`NAME_ATTRIBUTES` (None if there is none)."""
    if name:
        return name
    for attribute in NAME_ATTRIBUTES:
        value = attributes.get(attribute)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def canonical_key(value: str) -> str:
    """An element key in the canonical form capture stores (GS1 Digital Link); other URIs as given."""
    try:
        return canonical_id(value.strip())
    except IdentifierError:
        return value.strip()


def vocabulary_type(value: str) -> str:
    """A vocabulary type given by its short name (``EPCClass``) or full URI; other URIs as given."""
    value = value.strip()
    return VOCABULARY_TYPES.get(value, value)


def name_keys(key: str) -> tuple[str, ...]:
    """The element keys that can name the identifier ``key`` (canonical), most specific first.

    A serial or lot of a trade item (``/01/{gtin}/21/…``, ``/01/{gtin}/10/…``) is named by its own element if
    there is one, else by its product, the EPC class of its GTIN. A sub-site location or read point
    (``/414/{gln}/254/{extension}``) is named by its own element, else by its site (CBV 2.0 §8: a sub-site's
    ``site`` attribute is the GLN of the SGLN)."""
    keys = [key]
    if key.startswith(_GTIN_PREFIX):
        keys.append(key[: len(_GTIN_PREFIX) + 14])
    elif key.startswith(_GLN_PREFIX) and "/254/" in key:
        keys.append(key.split("/254/", 1)[0])
    return tuple(dict.fromkeys(keys))


def pick_names(
    keys: Iterable[str], elements: Iterable[VocabularyElement], at: int | None = None
) -> dict[str, str]:
    """For each of ``keys``, the name of the most specific element naming it (:func:`name_keys`), as it
    stood at ``at`` (None: now). Keys no element names are left out."""
    named: dict[str, str] = {}
    for element in elements:
        version = element.at(at)
        name = version.display_name if version is not None else None
        if name and element.key not in named:
            named[element.key] = name
    out: dict[str, str] = {}
    for key in keys:
        found = next((named[k] for k in name_keys(key) if k in named), None)
        if found is not None:
            out[key] = found
    return out


@dataclass(frozen=True, slots=True)
class MasterDataQuery:
    """A list query: filters (each optional), page size and where the previous page ended."""

    vocabulary_type: str | None = None
    key: str | None = None
    key_prefix: str | None = None
    name: str | None = None
    per_page: int = 100
    after: tuple[str, str] | None = None

    @property
    def fingerprint(self) -> str:
        """A digest of the filters: a page token is good only for the question it was issued on."""
        return fingerprint([self.vocabulary_type, self.key, self.key_prefix, self.name])

    def matches(self, element: VocabularyElement) -> bool:
        """True when the element's current name contains the name text (case-insensitive), or no name text
        was asked for (the store applies the other filters and may over-approximate this one)."""
        if not self.name:
            return True
        shown = element.current.display_name
        return shown is not None and self.name.casefold() in shown.casefold()

    def token_after(self, element: VocabularyElement) -> str:
        """The ``nextPageToken`` of a page that ended with ``element``."""
        return encode_token([element.vocabulary_type, element.key, self.fingerprint])


@dataclass(slots=True)
class MasterDataPage:
    """One page of a list query, and the token of the next page (None on the last)."""

    elements: list[VocabularyElement] = field(default_factory=list)
    next_token: str | None = None


def parse_master_data_query(
    params: Mapping[str, str | None], *, default_per_page: int, max_per_page: int
) -> MasterDataQuery:
    """A list query from request parameters (``type``, ``key``, ``keyPrefix``, ``name``, ``perPage``,
    ``nextPageToken``); :class:`QueryError` names a malformed one."""
    text = (params.get("name") or "").strip() or None
    raw_type = params.get("type")
    raw_key = params.get("key")
    size = params.get("perPage")
    query = MasterDataQuery(
        vocabulary_type=vocabulary_type(raw_type) if raw_type else None,
        key=canonical_key(raw_key) if raw_key else None,
        key_prefix=params.get("keyPrefix") or None,
        name=text,
        per_page=parse_page_size("perPage", size, max_per_page) if size is not None else default_per_page,
    )
    token = params.get("nextPageToken")
    if not token:
        return query
    vtype, key, digest = decode_token(token, 3)
    if digest != query.fingerprint or not isinstance(vtype, str) or not isinstance(key, str):
        raise QueryError("nextPageToken", "issued for a master data query with other filters")
    return MasterDataQuery(query.vocabulary_type, query.key, query.key_prefix, query.name, query.per_page, (vtype, key))


# --- JSON views (API and CLI) ---------------------------------------------------------------------------------


def version_json(version: MasterDataVersion) -> dict[str, Any]:
    """One version as JSON: number, when it was recorded, its name and attributes as captured."""
    # Microseconds, not the milliseconds of iso_utc: ``at=recordedAt`` must find this very version.
    recorded = from_us(version.recorded_at).isoformat().replace("+00:00", "Z")
    return {"version": version.version, "recordedAt": recorded, "name": version.display_name,
            "attributes": [{"id": k, "attribute": v} for k, v in version.attributes.items()]}


def element_json(element: VocabularyElement, *, history: bool = False) -> dict[str, Any]:
    """An element as JSON: its type, key and latest version (with ``history``: every version, oldest first)."""
    body: dict[str, Any] = {"type": element.vocabulary_type, "id": element.key, **version_json(element.current)}
    if history:
        body["versions"] = [version_json(v) for v in element.versions]
    return body
