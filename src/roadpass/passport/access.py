"""Who may see which part of a passport: Reg. (EU) 2023/1542 Art. 77(2) and Annex XIII.

Art. 77(2): Annex XIII point 1 is public (a); points 2 and 4 are for persons with a legitimate interest
and the Commission (b); point 3 for notified bodies, market surveillance authorities and the Commission
(c). Each long-list attribute states its access right; ``attribute_paths`` says where it lives, so every
schema property gets the Annex XIII point(s) of the attributes that cover it (the deepest covering
path wins; where several attributes cover the same path, the caller must be allowed all of them).

A view leaves out what the caller may not see: the keys are absent, not blanked. A property no
attribute covers (an extra field beside the schema) is left out of every view.

Which kinds of party have a legitimate interest is still to be laid down by the Commission (Art. 77(9)),
so it is configuration (:class:`AccessPolicy`), as is which Annex XIII points each role sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from roadpass.passport.attribute_paths import attribute_paths, paths_for, unattributed_paths
from roadpass.passport.domain import BatteryPassport, DynamicUpdate
from roadpass.passport.jsondata import JsonObject, JsonValue, join_pattern, parse_pattern
from roadpass.passport.longlist import AnnexXIIIPoint
from roadpass.passport.schemas import SECTION_NAMES, SectionName

__all__ = ["DEFAULT_POLICY", "AccessPolicy", "PassportView", "Role", "access_of", "view", "view_for_party"]

P = AnnexXIIIPoint


class Role(StrEnum):
    """The three audiences of Art. 77(2)."""

    PUBLIC = "public"
    LEGITIMATE_INTEREST = "legitimate_interest"
    AUTHORITY = "authority"


class AccessPolicy(BaseModel):
    """Configurable access: which Annex XIII points a role sees, which party kinds hold which role."""

    model_config = ConfigDict(frozen=True)

    role_points: Mapping[Role, frozenset[AnnexXIIIPoint]] = Field(
        default_factory=lambda: {
            Role.PUBLIC: frozenset({P.PUBLIC}),  # Art. 77(2)(a)
            # Art. 77(2)(b): points 2 and 4.
            Role.LEGITIMATE_INTEREST: frozenset(
                {P.PUBLIC, P.LEGITIMATE_INTEREST_AND_COMMISSION, P.LEGITIMATE_INTEREST}
            ),
            # Art. 77(2)(c) gives point 3 to notified bodies, market surveillance authorities and the
            # Commission; point 2 is also the Commission's under (b). (Point 4 is the Commission's too
            # under (b); add it here for a Commission-only deployment.)
            Role.AUTHORITY: frozenset({P.PUBLIC, P.LEGITIMATE_INTEREST_AND_COMMISSION, P.AUTHORITIES}),
        }
    )
    # Parties that repair, prepare for re-use or repurposing, remanufacture or recycle batteries; the
    # Commission's implementing act on legitimate interest (Art. 77(9)) may change the list.
    legitimate_interest_parties: frozenset[str] = frozenset(
        {"repairer", "remanufacturer", "second_life_operator", "recycler"}
    )
    authority_parties: frozenset[str] = frozenset(
        {"notified_body", "market_surveillance_authority", "commission"}
    )

    def role_of(self, party_kind: str | None) -> Role:
        """The role a kind of party holds; anyone not listed is the public."""
        if party_kind in self.authority_parties:
            return Role.AUTHORITY
        if party_kind in self.legitimate_interest_parties:
            return Role.LEGITIMATE_INTEREST
        return Role.PUBLIC

    def points(self, role: Role) -> frozenset[AnnexXIIIPoint]:
        """The Annex XIII points ``role`` may see."""
        return self.role_points.get(role, frozenset())


DEFAULT_POLICY = AccessPolicy()


@dataclass(slots=True)
class _Node:
    points: frozenset[AnnexXIIIPoint] | None = None
    children: dict[str, _Node] = field(default_factory=dict)


@cache
def _tree(section: SectionName) -> _Node:
    root = _Node()

    def mark(path: str, points: frozenset[AnnexXIIIPoint]) -> None:
        node = root
        for part in parse_pattern(path):
            node = node.children.setdefault(part, _Node())
        node.points = points if node.points is None else node.points | points

    for mapping in attribute_paths():
        for ref in mapping.paths:
            if ref.section == section:
                mark(ref.path, frozenset({mapping.attribute.access}))
                # The property a `where` selects items by (labelingSubject, lifecycleStage...) says what
                # the value is; it goes wherever the value goes.
                parts = ref.parts
                cut = len(parts) - parts[::-1].index("[*]") if ref.where else 0
                for key in ref.where:
                    mark(join_pattern((*parts[:cut], key)), frozenset({mapping.attribute.access}))
    for extra in unattributed_paths():
        if extra.ref.section == section:
            mark(extra.ref.path, frozenset({extra.access}))
    return root


def access_of(section: SectionName, path: str) -> frozenset[AnnexXIIIPoint] | None:
    """The Annex XIII point(s) governing a concrete path (``None``: no attribute covers it)."""
    node: _Node | None = _tree(section)
    points: frozenset[AnnexXIIIPoint] | None = None
    for part in parse_pattern(path):
        if node is None:
            break
        node = node.children.get("[*]" if part.startswith("[") else part)
        if node is not None and node.points is not None:
            points = node.points
    return points


def _filter(
    value: JsonValue, node: _Node | None, inherited: frozenset[AnnexXIIIPoint] | None, seen: frozenset[P]
) -> tuple[bool, JsonValue]:
    points = node.points if node is not None and node.points is not None else inherited
    allowed = points is not None and points <= seen
    if isinstance(value, dict):
        kept: JsonObject = {}
        for key, child in value.items():
            keep, filtered = _filter(child, node.children.get(key) if node else None, points, seen)
            if keep:
                kept[key] = filtered
        return bool(kept) or (allowed and not value), kept
    if isinstance(value, list):
        item_node = node.children.get("[*]") if node else None
        items = [f for keep, f in (_filter(v, item_node, points, seen) for v in value) if keep]
        return bool(items) or (allowed and not value), items
    return allowed, value


@dataclass(frozen=True, slots=True)
class PassportView:
    """What one role may see of a passport; anything else is absent."""

    role: Role
    fields: JsonObject
    sections: dict[SectionName, JsonObject]
    history: tuple[DynamicUpdate, ...]

    def consortium_json(self) -> JsonObject:
        """The visible sections as one consortium-format object."""
        out: JsonObject = {}
        for name in SECTION_NAMES:
            out.update(self.sections.get(name, {}))
        return out

    def to_json(self) -> JsonObject:
        """The whole view as JSON: passport fields, visible sections, visible history."""
        history: list[JsonValue] = [u.model_dump(mode="json") for u in self.history]
        sections: JsonObject = {}
        for name, payload in self.sections.items():
            sections[name] = payload
        return {"role": self.role.value, **self.fields, "sections": sections, "history": history}


# Passport-level fields and the long-list attribute whose access right they follow.
_FIELD_ATTRIBUTE: Mapping[str, int] = {
    "passportId": 1,  # Battery passport identifier
    "batteryId": 2,  # Battery identifier
    "batteryCategory": 9,  # Battery category
    "batteryStatus": 11,  # Battery status, Annex XIII (4)(c)
    "predecessorPassportIds": 11,  # the lineage tells the status (Art. 77(7))
    "successorPassportId": 11,
    "ceased": 1,  # the public learns that the passport identifier no longer leads to a live battery
    "ceasedAt": 1,
}


def _fields(passport: BatteryPassport) -> JsonObject:
    return {
        "passportId": passport.passport_id,
        "batteryId": passport.battery_id,
        "batteryCategory": passport.category.value,
        "batteryStatus": passport.status.value,
        "predecessorPassportIds": list(passport.predecessor_passport_ids),
        "successorPassportId": passport.successor_passport_id,
        "ceased": passport.ceased,
        "ceasedAt": passport.ceased_at.isoformat() if passport.ceased_at else None,
    }


def view(passport: BatteryPassport, role: Role, policy: AccessPolicy = DEFAULT_POLICY) -> PassportView:
    """The passport as ``role`` may see it (Art. 77(2)): fields above the role's level are absent."""
    seen = policy.points(role)
    fields: JsonObject = {
        key: value
        for key, value in _fields(passport).items()
        if value is not None and paths_for(_FIELD_ATTRIBUTE[key]).attribute.access in seen
    }
    sections: dict[SectionName, JsonObject] = {}
    for name, payload in passport.sections.items():
        keep, filtered = _filter(payload, _tree(name), None, seen)
        if keep and isinstance(filtered, dict):
            sections[name] = filtered
    history = tuple(u for u in passport.history if _visible(u, seen))
    return PassportView(role=role, fields=fields, sections=sections, history=history)


def _visible(update: DynamicUpdate, seen: frozenset[AnnexXIIIPoint]) -> bool:
    points = access_of(update.section, update.path)
    return points is not None and points <= seen


def view_for_party(
    passport: BatteryPassport, party_kind: str | None, policy: AccessPolicy = DEFAULT_POLICY
) -> PassportView:
    """The view for a kind of party (``"recycler"``, ``"market_surveillance_authority"``, ``None``...)."""
    return view(passport, policy.role_of(party_kind), policy)
