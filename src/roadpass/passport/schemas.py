"""The seven Battery Pass v1.2.0 section schemas (DIN DKE SPEC 99100:2025-02), read in place, and validation.

The schemas are JSON Schema draft-04 as the consortium generated them from its SAMM aspect models; they
are read from the conformance folder (``roadpass.conformance``), never copied. A passport in the
consortium format is the union of the seven sections: one JSON object whose top-level properties each
belong to exactly one section (no property name is shared between sections in v1.2.0).

Validation asserts ``format`` (draft-04 §7 makes that optional; roadpass opts in). jsonschema only checks
``uri`` and ``date-time`` when optional third-party packages are installed, so both are checked here with
the grammar of their RFCs, the same on every installation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Final, Literal, TypeAlias, get_args

from jsonschema import Draft4Validator, FormatChecker  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped, unused-ignore]

from roadpass.conformance import conformance_path
from roadpass.passport.jsondata import JsonObject, JsonValue, format_path, load_json_file

__all__ = [
    "SECTION_NAMES",
    "SchemaField",
    "SchemaIssue",
    "SectionName",
    "format_checker",
    "schema_fields",
    "schema_properties",
    "section_for_properties",
    "section_of_property",
    "section_schema",
    "split_passport",
    "validate_passport",
    "validate_section",
    "validate_sections",
]

SectionName: TypeAlias = Literal[
    "GeneralProductInformation",
    "CarbonFootprintForBatteries",
    "SupplyChainDueDiligence",
    "MaterialComposition",
    "Circularity",
    "Labeling",
    "PerformanceAndDurability",
]
SECTION_NAMES: Final[tuple[SectionName, ...]] = get_args(SectionName)


@dataclass(frozen=True, slots=True)
class SchemaIssue:
    """One way a payload breaks its schema: where (JSON path), why, and which schema keyword said so.

    For a missing required property the path names the property that is missing, not its parent.
    ``section`` is ``None`` for a top-level property no v1.2 section declares.
    """

    section: SectionName | None
    path: str
    reason: str
    keyword: str

    def __str__(self) -> str:
        where = f"{self.section}: " if self.section else ""
        return f"{where}{self.path}: {self.reason}"


# RFC 3339 §5.6 date-time (upper/lower-case T and Z, as the ABNF's case-insensitivity allows).
_DATE_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)
# RFC 3986 §3: scheme ":" hier-part [ "?" query ] [ "#" fragment ], every character from §2's sets
# (unreserved, reserved, "%" HEXDIG HEXDIG). Whitespace and other characters make it not a URI.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")


def _is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True  # draft-04 §7.1: format applies to strings only
    match = _DATE_TIME.match(instance)
    if not match:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        # RFC 3339 §5.7 allows second 60 (a leap second); datetime does not, so check it as 59.
        datetime(year, month, day, hour, minute, min(second, 59))
    except ValueError:
        return False
    if match.group(9) is not None and (int(match.group(9)) > 23 or int(match.group(10)) > 59):
        return False
    return second <= 60


def _is_uri(instance: object) -> bool:
    return not isinstance(instance, str) or bool(_URI.match(instance))


@cache
def format_checker() -> FormatChecker:
    """Draft-04 format checker with ``date-time`` (RFC 3339) and ``uri`` (RFC 3986) always asserted."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(Draft4Validator.FORMAT_CHECKER.checkers)
    checker.checks("date-time")(_is_date_time)
    checker.checks("uri")(_is_uri)
    return checker


@cache
def section_schema(name: SectionName) -> JsonObject:
    """The section's JSON Schema as published (``<name>-schema.json``), decoded whatever its encoding."""
    if name not in SECTION_NAMES:
        raise KeyError(f"unknown Battery Pass section {name!r}; expected one of {', '.join(SECTION_NAMES)}")
    schema = load_json_file(conformance_path("batterypass", f"{name}-schema.json"))
    if not isinstance(schema, dict):
        raise ValueError(f"{name}-schema.json: expected a JSON object at $")
    return schema


@cache
def _validator(name: SectionName) -> Draft4Validator:
    schema = section_schema(name)
    # A broken artefact fails here, once, naming the schema keyword, rather than validating wrongly.
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=format_checker())


@cache
def schema_properties(name: SectionName) -> frozenset[str]:
    """The top-level property names the section schema declares."""
    properties = section_schema(name).get("properties")
    return frozenset(properties) if isinstance(properties, dict) else frozenset()


@dataclass(frozen=True, slots=True)
class SchemaField:
    """A property a section schema declares, at any depth; ``[*]`` in ``path`` stands for array items."""

    section: SectionName
    path: str
    name: str
    type: str | None
    pattern: str | None
    format: str | None
    item_properties: frozenset[str]  # for an array of objects (or an object): the properties it declares


def _resolve(node: JsonValue, root: JsonObject) -> JsonObject:
    """Follow local ``$ref`` chains and merge ``allOf`` parts (the shapes the v1.2 generator emits)."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        ref = str(node["$ref"])
        if not ref.startswith("#/") or ref in seen:
            raise ValueError(f"unsupported or cyclic $ref {ref!r}")
        seen.add(ref)
        target: JsonValue = root
        for step in ref[2:].split("/"):
            target = target.get(step) if isinstance(target, dict) else None
        node = target
    if not isinstance(node, dict):
        return {}
    parts = node.get("allOf")
    if not isinstance(parts, list):
        return node
    merged: JsonObject = {k: v for k, v in node.items() if k != "allOf"}
    properties: JsonObject = dict(_properties(merged))
    for part in parts:
        resolved = _resolve(part, root)
        properties.update(_properties(resolved))
        for key, value in resolved.items():
            merged.setdefault(key, value)
    merged["properties"] = properties
    return merged


def _properties(node: JsonObject) -> JsonObject:
    props = node.get("properties")
    return props if isinstance(props, dict) else {}


def _walk(section: SectionName, node: JsonObject, root: JsonObject, prefix: str) -> list[SchemaField]:
    fields: list[SchemaField] = []
    for name, child in _properties(node).items():
        resolved = _resolve(child, root)
        path = f"{prefix}.{name}"
        items = _resolve(resolved.get("items"), root) if resolved.get("type") == "array" else {}
        inner = items if items else resolved
        fields.append(
            SchemaField(
                section=section,
                path=path,
                name=name,
                type=str(resolved["type"]) if "type" in resolved else None,
                pattern=str(resolved["pattern"]) if "pattern" in resolved else None,
                format=str(resolved["format"]) if "format" in resolved else None,
                item_properties=frozenset(_properties(inner)),
            )
        )
        if items:
            fields.extend(_walk(section, items, root, f"{path}[*]"))
        elif _properties(resolved):
            fields.extend(_walk(section, resolved, root, path))
    return fields


@cache
def schema_fields(section: SectionName) -> tuple[SchemaField, ...]:
    """Every property the section schema declares, depth first, with its resolved type and constraints."""
    root = section_schema(section)
    return tuple(_walk(section, _resolve(root, root), root, "$"))


def section_of_property(prop: str) -> SectionName | None:
    """The section whose schema declares top-level property ``prop``, if any."""
    for name in SECTION_NAMES:
        if prop in schema_properties(name):
            return name
    return None


def section_for_properties(keys: set[str]) -> SectionName | None:
    """The single section a payload's top-level keys belong to, or ``None`` if none or several do."""
    owners = {section_of_property(key) for key in keys} - {None}
    if len(owners) != 1:
        return None
    (owner,) = owners
    return owner


def _issue(section: SectionName, error: ValidationError) -> SchemaIssue:
    parts: list[str | int] = list(error.absolute_path)
    required = error.validator_value
    if error.validator == "required" and isinstance(error.instance, dict) and isinstance(required, list):
        # draft-04 reports a missing property at its parent; name the property itself.
        missing = [p for p in required if p not in error.instance and repr(p) in error.message]
        if missing:
            parts.append(missing[0])
            return SchemaIssue(section, format_path(parts), "required property is missing", "required")
    return SchemaIssue(section, format_path(parts), error.message, str(error.validator))


def validate_section(name: SectionName, payload: JsonValue) -> list[SchemaIssue]:
    """Every way ``payload`` breaks section ``name``'s schema (empty when valid), ordered by JSON path."""
    issues = [_issue(name, e) for e in _validator(name).iter_errors(payload)]
    return sorted(issues, key=lambda i: (i.path, i.keyword, i.reason))


def validate_sections(sections: Mapping[SectionName, JsonValue]) -> list[SchemaIssue]:
    """Validate each given section payload against its own schema."""
    issues: list[SchemaIssue] = []
    for name in SECTION_NAMES:
        if name in sections:
            issues.extend(validate_section(name, sections[name]))
    return issues


def split_passport(document: Mapping[str, JsonValue]) -> tuple[dict[SectionName, JsonObject], list[str]]:
    """Split a consortium-format passport (union of sections) into section payloads.

    Returns the sections that have at least one property, in :data:`SECTION_NAMES` order, and the
    top-level keys no section declares.
    """
    sections: dict[SectionName, JsonObject] = {}
    unknown: list[str] = []
    for key, value in document.items():
        owner = section_of_property(key)
        if owner is None:
            unknown.append(key)
        else:
            sections.setdefault(owner, {})[key] = value
    ordered = {name: sections[name] for name in SECTION_NAMES if name in sections}
    return ordered, unknown


def validate_passport(passport_json: JsonValue, *, require_all_sections: bool = False) -> list[SchemaIssue]:
    """Validate a whole passport in consortium format (the union of the seven sections).

    Each section with at least one property present is validated against its schema; a top-level
    property no section declares is reported, as is (with ``require_all_sections``) a missing section.
    """
    if not isinstance(passport_json, dict):
        return [SchemaIssue(None, "$", "a passport must be a JSON object", "type")]
    sections, unknown = split_passport(passport_json)
    issues = [
        SchemaIssue(None, format_path([key]), "not a property of any Battery Pass v1.2 section", "properties")
        for key in unknown
    ]
    if require_all_sections:
        issues.extend(
            SchemaIssue(name, "$", "section missing: none of its properties is present", "required")
            for name in SECTION_NAMES
            if name not in sections
        )
    issues.extend(validate_sections(sections))
    return issues
