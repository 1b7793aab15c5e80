"""Import and export in the Battery Pass consortium's JSON format (data model v1.2.0).

An import is a whole passport (the union of the seven sections' properties, or an object keyed by
section name) or ONE section, such as each of the consortium's sample payloads; the section is found from
the top-level property names. Before validation, surrounding whitespace is trimmed from identifier-like
strings (see :func:`identifier_paths`) and every such change is reported with its JSON path, old and new
value: real supplier data carries e.g. the CAS number ``"7439-93-2 "``, and roadpass accepts it only
openly. What still breaks the schema after that is refused with JSON path and reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from roadpass.passport.domain import BatteryPassport
from roadpass.passport.jsondata import JsonObject, JsonValue, dumps, format_path, join_pattern, loads
from roadpass.passport.schemas import (
    SECTION_NAMES,
    SchemaIssue,
    SectionName,
    schema_fields,
    section_of_property,
    validate_sections,
)

__all__ = [
    "ImportRefused",
    "ImportResult",
    "Normalisation",
    "export_consortium",
    "export_json",
    "identifier_paths",
    "import_consortium",
]

_ID_NAME = re.compile(r"(Identifier|identifier|Id|Number)$")
Shape = Literal["section", "passport"]


@dataclass(frozen=True, slots=True)
class Normalisation:
    """One change made to an imported value before validation (never silent: always reported)."""

    section: SectionName
    path: str
    old: str
    new: str
    rule: str = "surrounding whitespace trimmed from an identifier-like field"


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import produced: valid section payloads and the normalisations applied to get them."""

    kind: Shape
    sections: dict[SectionName, JsonObject]
    changes: tuple[Normalisation, ...] = field(default=())

    def passport(self, **overrides: object) -> BatteryPassport:
        """A :class:`BatteryPassport` from the imported sections (identity from GeneralProductInformation)."""
        return BatteryPassport.from_sections(self.sections, **overrides)


class ImportRefused(ValueError):
    """The document cannot be imported; ``issues`` name each JSON path and reason."""

    def __init__(self, issues: list[SchemaIssue], changes: tuple[Normalisation, ...] = ()) -> None:
        self.issues = tuple(issues)
        self.changes = changes
        super().__init__("import refused: " + "; ".join(str(i) for i in issues))

    def issues_json(self) -> list[JsonValue]:
        """Each issue as ``{"section", "path", "reason"}`` (the API's and CLI's answer)."""
        return [{"section": i.section, "path": i.path, "reason": i.reason} for i in self.issues]


@cache
def identifier_paths(section: SectionName) -> frozenset[str]:
    """Schema paths whose strings are identifier-like, so surrounding whitespace cannot be meant.

    That is a string property whose form the schema constrains (``pattern``, ``format``: CAS numbers,
    URNs, e-mail addresses, URIs, timestamps) or whose name says it is an identifier (``...Identifier``,
    ``...Id``, ``...Number``). Free text (names, addresses, descriptions) is never touched.
    """
    return frozenset(
        f.path
        for f in schema_fields(section)
        if f.type == "string" and (f.pattern or f.format or _ID_NAME.search(f.name))
    )


def _trim(
    value: JsonValue, section: SectionName, parts: list[str | int], changes: list[Normalisation]
) -> JsonValue:
    if isinstance(value, dict):
        return {k: _trim(v, section, [*parts, k], changes) for k, v in value.items()}
    if isinstance(value, list):
        return [_trim(v, section, [*parts, i], changes) for i, v in enumerate(value)]
    if isinstance(value, str) and value != value.strip():
        pattern = join_pattern("[*]" if isinstance(p, int) else p for p in parts)
        if pattern in identifier_paths(section):
            changes.append(Normalisation(section, format_path(parts), value, value.strip()))
            return value.strip()
    return value


def _refused(section: SectionName | None, parts: list[str | int], reason: str, keyword: str) -> ImportRefused:
    return ImportRefused([SchemaIssue(section, format_path(parts), reason, keyword)])


def _split(document: JsonObject, section: SectionName | None) -> tuple[Shape, dict[SectionName, JsonObject]]:
    if section is not None:
        return "section", {section: document}
    if document and all(key in SECTION_NAMES for key in document):
        sections: dict[SectionName, JsonObject] = {}
        for name in SECTION_NAMES:
            payload = document.get(name)
            if name in document and not isinstance(payload, dict):
                raise _refused(name, [name], "a section must be a JSON object", "type")
            if isinstance(payload, dict):
                sections[name] = payload
        return "passport", sections
    owners = {key: section_of_property(key) for key in document}
    found = {owner for owner in owners.values() if owner is not None}
    if not found:
        raise _refused(None, [], "no property of any Battery Pass v1.2 section", "properties")
    if len(found) == 1:
        (only,) = found
        return "section", {only: document}  # undeclared properties stay with it, as extras
    unknown = [key for key, owner in owners.items() if owner is None]
    if unknown:
        raise ImportRefused(
            [
                SchemaIssue(None, format_path([key]), "no section declares it; cannot place it", "properties")
                for key in unknown
            ]
        )
    split: dict[SectionName, JsonObject] = {}
    for key, owner in owners.items():
        if owner is not None:
            split.setdefault(owner, {})[key] = document[key]
    return "passport", {name: split[name] for name in SECTION_NAMES if name in split}


def import_consortium(
    document: bytes | str | JsonValue, *, section: SectionName | None = None
) -> ImportResult:
    """Import a consortium-format passport or section: detect, normalise (reported), validate.

    ``document`` may be the file's bytes (any BOM/encoding the consortium uses), JSON text, or parsed
    JSON. ``section`` forces the section instead of detecting it. Raises :class:`ImportRefused`.
    """
    parsed = loads(document) if isinstance(document, bytes | str) else document
    if not isinstance(parsed, dict):
        raise ImportRefused([SchemaIssue(section, "$", "expected a JSON object", "type")])
    kind, sections = _split(parsed, section)
    changes: list[Normalisation] = []
    normalised: dict[SectionName, JsonObject] = {}
    for name, payload in sections.items():
        trimmed = _trim(payload, name, [], changes)
        normalised[name] = trimmed if isinstance(trimmed, dict) else payload
    issues = validate_sections(normalised)
    if issues:
        raise ImportRefused(issues, tuple(changes))
    return ImportResult(kind=kind, sections=normalised, changes=tuple(changes))


def export_consortium(
    source: BatteryPassport | Mapping[SectionName, JsonObject], *, section: SectionName | None = None
) -> JsonObject:
    """The consortium JSON of one section, or of the whole passport (union of its sections)."""
    sections = source.sections if isinstance(source, BatteryPassport) else source
    if section is not None:
        if section not in sections:
            raise KeyError(f"the passport has no {section} section")
        return sections[section]
    out: JsonObject = {}
    for name in SECTION_NAMES:
        out.update(sections.get(name, {}))
    return out


def export_json(
    source: BatteryPassport | Mapping[SectionName, JsonObject], *, section: SectionName | None = None
) -> bytes:
    """:func:`export_consortium` as UTF-8 JSON bytes without BOM (RFC 8259 §8.1); big integers stay exact."""
    return dumps(export_consortium(source, section=section)).encode("utf-8")
