"""Where each long-list attribute lives in the v1.2 section schemas.

Two sources, in this order: a name match (the attribute's normalised name equals a schema property's,
at any depth) and the explicit table in ``attribute-paths.yaml`` for the rest, which also lists the
attributes v1.2 cannot carry and the schema properties no attribute names. The loader refuses a table
that disagrees with the long-list or the schemas, naming the entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal

import yaml

from roadpass.passport.jsondata import JsonValue, iter_pattern, join_pattern, parse_pattern
from roadpass.passport.longlist import AnnexXIIIPoint, LongListAttribute, load_longlist
from roadpass.passport.schemas import SECTION_NAMES, SchemaField, SectionName, schema_fields

__all__ = [
    "AttributePaths",
    "MappingError",
    "PathRef",
    "UnattributedPath",
    "attribute_paths",
    "normalise_name",
    "paths_for",
    "unattributed_paths",
]

TABLE_FILE = "attribute-paths.yaml"


class MappingError(ValueError):
    """``attribute-paths.yaml`` disagrees with the long-list or the schemas (names the entry)."""


@dataclass(frozen=True, slots=True)
class PathRef:
    """A place in a section payload; ``where`` filters the items of the last ``[*]`` by property value."""

    section: SectionName
    path: str
    where: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def parts(self) -> tuple[str, ...]:
        """The path split into property names and ``[*]``."""
        return parse_pattern(self.path)

    def values(self, payload: JsonValue) -> list[JsonValue]:
        """The values this reference reaches in a section payload (after the ``where`` filter)."""
        parts = self.parts
        if not self.where:
            return list(iter_pattern(payload, parts))
        cut = len(parts) - 1 - parts[::-1].index("[*]")
        found: list[JsonValue] = []
        for item in iter_pattern(payload, parts[: cut + 1]):
            if isinstance(item, dict) and all(item.get(k) == v for k, v in self.where.items()):
                found.extend(iter_pattern(item, parts[cut + 1 :]))
        return found

    @property
    def jsonpath(self) -> str:
        """The path with its ``where`` as an RFC 9535 filter: ``$.labels[?@.labelingSubject=='X'].y``."""
        if not self.where:
            return self.path
        cond = " && ".join(f"@.{k}=={v!r}" for k, v in self.where.items())
        head, _, tail = self.path.rpartition("[*]")
        return f"{head}[?{cond}]{tail}"

    def __str__(self) -> str:
        return f"{self.section} {self.jsonpath}"


@dataclass(frozen=True, slots=True)
class AttributePaths:
    """A long-list attribute and the schema places that carry it (none when not represented)."""

    attribute: LongListAttribute
    how: Literal["name", "table", "not_represented"]
    paths: tuple[PathRef, ...]
    why: str


@dataclass(frozen=True, slots=True)
class UnattributedPath:
    """A schema property no long-list attribute names, with the access right the table gives it."""

    ref: PathRef
    access: AnnexXIIIPoint
    why: str


def normalise_name(text: str) -> str:
    """``"State of certified energy (SOCE)"`` -> ``"stateofcertifiedenergy"`` (also for property names)."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"\([^)]*\)", "", text).lower())


@cache
def _all_fields() -> dict[tuple[SectionName, str], SchemaField]:
    return {(f.section, f.path): f for name in SECTION_NAMES for f in schema_fields(name)}


def _name_matches(attribute: LongListAttribute) -> tuple[PathRef, ...]:
    wanted = normalise_name(attribute.name)
    return tuple(
        PathRef(f.section, f.path) for f in _all_fields().values() if normalise_name(f.name) == wanted
    )


def _parse_ref(spec: object, where_ctx: str) -> PathRef:
    where: dict[str, str] = {}
    if isinstance(spec, dict):
        raw_where = spec.get("where", {})
        if not isinstance(raw_where, dict):
            raise MappingError(f"{TABLE_FILE} {where_ctx}: 'where' must be a mapping")
        where = {str(k): str(v) for k, v in raw_where.items()}
        spec = spec.get("at")
    if not isinstance(spec, str) or " " not in spec:
        raise MappingError(f"{TABLE_FILE} {where_ctx}: expected '<Section> $.path', found {spec!r}")
    section, path = spec.split(" ", 1)
    if section not in SECTION_NAMES:
        raise MappingError(f"{TABLE_FILE} {where_ctx}: unknown section {section!r}")
    ref = PathRef(section, path.strip(), MappingProxyType(where))
    known = _all_fields().get((ref.section, ref.path))
    if known is None:
        raise MappingError(f"{TABLE_FILE} {where_ctx}: {ref.section} declares no {ref.path}")
    if where:
        if "[*]" not in ref.parts:
            raise MappingError(f"{TABLE_FILE} {where_ctx}: 'where' needs a [*] in the path")
        cut = len(ref.parts) - 1 - ref.parts[::-1].index("[*]")
        array = _all_fields().get((ref.section, join_pattern(ref.parts[:cut])))
        if array is None or not set(where) <= array.item_properties:
            raise MappingError(f"{TABLE_FILE} {where_ctx}: 'where' names properties the array items lack")
    return ref


def _load_table() -> dict[str, object]:
    text = resources.files("roadpass.passport").joinpath(TABLE_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise MappingError(f"{TABLE_FILE}: expected a mapping at the top")
    return data


def _entries(data: dict[str, object], key: str) -> dict[int, dict[str, object]]:
    raw = data.get(key) or {}
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise MappingError(f"{TABLE_FILE}: '{key}' must map attribute numbers to entries")
    return {int(k): v for k, v in raw.items()}


@cache
def attribute_paths() -> tuple[AttributePaths, ...]:
    """Every long-list attribute with its schema places, in long-list order; raises :class:`MappingError`."""
    data = _load_table()
    table, absent = _entries(data, "table"), _entries(data, "not_represented")
    by_number = {a.number: a for a in load_longlist()}
    for number, entry in {**table, **absent}.items():
        attribute = by_number.get(number)
        if attribute is None:
            raise MappingError(f"{TABLE_FILE}: attribute {number} is not in the long-list")
        if str(entry.get("attribute", "")) != attribute.name:
            raise MappingError(f"{TABLE_FILE}: attribute {number} is {attribute.name!r} in the long-list")
    if both := sorted(set(table) & set(absent)):
        raise MappingError(f"{TABLE_FILE}: attributes {both} are both mapped and not represented")
    result: list[AttributePaths] = []
    unresolved: list[int] = []
    for attribute in load_longlist():
        number = attribute.number
        matched = _name_matches(attribute)
        if matched and (number in table or number in absent):
            raise MappingError(f"{TABLE_FILE}: attribute {number} already matches by name: {matched[0]}")
        if matched:
            result.append(AttributePaths(attribute, "name", matched, "property name equals attribute name"))
        elif number in table:
            specs = table[number].get("paths")
            if not isinstance(specs, list) or not specs:
                raise MappingError(f"{TABLE_FILE}: attribute {number} needs a non-empty 'paths' list")
            refs = tuple(_parse_ref(s, f"attribute {number}") for s in specs)
            result.append(AttributePaths(attribute, "table", refs, str(table[number].get("why", ""))))
        elif number in absent:
            why = str(absent[number].get("why", ""))
            result.append(AttributePaths(attribute, "not_represented", (), why))
        else:
            unresolved.append(number)
    if unresolved:
        raise MappingError(f"{TABLE_FILE}: long-list attributes {unresolved} are neither matched nor listed")
    return tuple(result)


@cache
def unattributed_paths() -> tuple[UnattributedPath, ...]:
    """Schema properties no attribute names, with the Annex XIII point the table assigns them."""
    raw = _load_table().get("unattributed") or []
    if not isinstance(raw, list):
        raise MappingError(f"{TABLE_FILE}: 'unattributed' must be a list")
    out: list[UnattributedPath] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise MappingError(f"{TABLE_FILE}: unattributed[{i}] must be a mapping")
        ref = _parse_ref({"at": entry.get("at")}, f"unattributed[{i}]")
        try:
            access = AnnexXIIIPoint(int(str(entry.get("access"))))
        except ValueError:
            raise MappingError(f"{TABLE_FILE}: unattributed[{i}] access must be 1, 2, 3 or 4") from None
        out.append(UnattributedPath(ref, access, str(entry.get("why", ""))))
    return tuple(out)


def paths_for(number: int) -> AttributePaths:
    """The mapping of long-list attribute ``number``; :class:`KeyError` if the long-list has none."""
    for mapping in attribute_paths():
        if mapping.attribute.number == number:
            return mapping
    raise KeyError(f"long-list attribute {number} does not exist")
