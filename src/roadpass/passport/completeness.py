"""Which attributes a passport still lacks, by the long-list's rules for its battery category.

The long-list marks each attribute per category as mandatory (``x``), voluntary (``o``) or not
applicable; ``attribute_paths`` says where it lives. An attribute is present when every path it maps to
holds a value (a non-blank string, a number, a boolean, or a container, even an empty one: an empty
``hazardousSubstances`` list states that there are none). An attribute the v1.2 schemas cannot carry is
reported as missing with ``representable=False``: no payload can satisfy it.
"""

from __future__ import annotations

from dataclasses import dataclass

from roadpass.passport.attribute_paths import AttributePaths, PathRef, attribute_paths
from roadpass.passport.domain import BatteryCategory, BatteryPassport
from roadpass.passport.jsondata import JsonObject, JsonValue
from roadpass.passport.longlist import Requirement
from roadpass.passport.schemas import SectionName

__all__ = ["MissingAttribute", "is_complete", "missing_attributes", "missing_in_sections"]


@dataclass(frozen=True, slots=True)
class MissingAttribute:
    """A long-list attribute (one of its paths) the passport does not yet hold."""

    number: int
    attribute: str
    section: SectionName | None
    path: str | None  # JSON path, with an RFC 9535 filter where the attribute is one item of a list
    regulation_reference: str
    din_chapter: str
    requirement: Requirement
    representable: bool
    reason: str


def _present(value: JsonValue) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _held(ref: PathRef, sections: dict[SectionName, JsonObject]) -> bool:
    payload = sections.get(ref.section)
    return payload is not None and any(_present(v) for v in ref.values(payload))


def _entry(
    mapping: AttributePaths, category: BatteryCategory, ref: PathRef | None, reason: str
) -> MissingAttribute:
    attribute = mapping.attribute
    return MissingAttribute(
        number=attribute.number,
        attribute=attribute.name,
        section=ref.section if ref else None,
        path=ref.jsonpath if ref else None,
        regulation_reference=attribute.regulation_reference,
        din_chapter=attribute.din_chapter,
        requirement=attribute.requirement(category),
        representable=ref is not None,
        reason=reason,
    )


def _missing(
    mapping: AttributePaths, sections: dict[SectionName, JsonObject], category: BatteryCategory
) -> list[MissingAttribute]:
    if mapping.how == "not_represented":
        return [_entry(mapping, category, None, f"not representable in the v1.2 schemas: {mapping.why}")]
    return [
        _entry(mapping, category, ref, "section missing" if ref.section not in sections else "no value here")
        for ref in mapping.paths
        if not _held(ref, sections)
    ]


def missing_in_sections(
    sections: dict[SectionName, JsonObject], category: BatteryCategory, *, include_voluntary: bool = False
) -> list[MissingAttribute]:
    """The attributes the long-list requires of ``category`` (and, optionally, those it invites) that
    ``sections`` do not hold, in long-list order."""
    wanted = {Requirement.MANDATORY, Requirement.VOLUNTARY} if include_voluntary else {Requirement.MANDATORY}
    out: list[MissingAttribute] = []
    for mapping in attribute_paths():
        if mapping.attribute.requirement(category) in wanted:
            out.extend(_missing(mapping, sections, category))
    return out


def missing_attributes(
    passport: BatteryPassport, *, include_voluntary: bool = False
) -> list[MissingAttribute]:
    """What the passport still lacks for its own battery category (Annex XIII via the long-list)."""
    return missing_in_sections(passport.sections, passport.category, include_voluntary=include_voluntary)


def is_complete(passport: BatteryPassport) -> bool:
    """True when no mandatory attribute that the v1.2 schemas can carry is missing."""
    return not any(m.representable for m in missing_attributes(passport))
