"""The battery passport as roadpass holds it: identity, lifecycle state, the seven section payloads.

The section payloads are kept exactly as the consortium format has them (JSON objects under the upstream
property names), so export is lossless; typed access goes through the generated models
(``roadpass.passport.models``). Values that change during use (long-list "dynamic" attributes) are
written through :meth:`BatteryPassport.with_dynamic`, which also appends them to the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from roadpass.passport.jsondata import JsonObject, JsonValue, iter_pattern, parse_pattern, set_value
from roadpass.passport.schemas import SECTION_NAMES, SectionName

__all__ = [
    "BatteryCategory",
    "BatteryPassport",
    "BatteryStatus",
    "DynamicUpdate",
    "PassportCeased",
    "PassportInconsistent",
]

GPI: SectionName = "GeneralProductInformation"


class BatteryCategory(StrEnum):
    """Battery categories that need a passport (Art. 77(1)); values as the v1.2 schema spells them."""

    EV = "ev"
    LMT = "lmt"
    INDUSTRIAL = "industrial"  # rechargeable industrial battery > 2 kWh
    STATIONARY = "stationary"  # stationary battery energy storage system (a kind of industrial battery)


class BatteryStatus(StrEnum):
    """Annex XIII (4)(c) battery status; values as the v1.2 ``BatteryStatusEnumeration`` spells them."""

    ORIGINAL = "Original"
    REPURPOSED = "Repurposed"
    REUSED = "Reused"
    REMANUFACTURED = "Remanufactured"
    WASTE = "Waste"


class PassportCeased(ValueError):
    """A write to a passport that has ceased to exist (Reg. (EU) 2023/1542 Art. 77(8))."""


class PassportInconsistent(ValueError):
    """The passport's own fields and its GeneralProductInformation payload disagree (names the JSON path)."""


class DynamicUpdate(BaseModel):
    """One recorded value of a dynamic attribute: where it went, what it was, as of when."""

    model_config = ConfigDict(frozen=True)

    section: SectionName
    path: str = Field(description="JSON path inside the section payload, e.g. $.batteryCondition.powerFade")
    value: JsonValue
    last_update: str = Field(description="RFC 3339 time the value refers to (the schema's lastUpdate)")
    source: str | None = Field(default=None, description="who or what reported the value")


# (passport field, GeneralProductInformation property) pairs that must agree when both are present.
_GPI_MIRRORS: tuple[tuple[str, str], ...] = (
    ("passport_id", "batteryPassportIdentifier"),  # DIN DKE SPEC 99100 6.1.2.1
    ("battery_id", "productIdentifier"),  # Art. 77(3); DIN DKE SPEC 99100 6.1.2.2
    ("category", "batteryCategory"),  # Annex VI Part A (2)
    ("status", "batteryStatus"),  # Annex XIII (4)(c)
)


_FIELDS = ("passport_id", "battery_id", "category", "status", "ceased", "ceased_at")


def _text(value: object) -> str:
    return value.value if isinstance(value, StrEnum) else str(value)


def _problem(fields: Mapping[str, object], gpi: JsonObject) -> str | None:
    """Why the passport's own fields and its GeneralProductInformation payload disagree, if they do."""
    if bool(fields.get("ceased")) != (fields.get("ceased_at") is not None):
        return "ceased and ceased_at must be given together (Art. 77(8))"
    for field, prop in _GPI_MIRRORS:
        if prop in gpi and field in fields and gpi[prop] != _text(fields[field]):
            return f"{GPI}: $.{prop} is {gpi[prop]!r} but the passport's {field} is {_text(fields[field])!r}"
    return None


class BatteryPassport(BaseModel):
    """A battery passport (Reg. (EU) 2023/1542 Art. 77) in the Battery Pass v1.2 data model."""

    model_config = ConfigDict(frozen=True)

    # DIN DKE SPEC 99100 6.1.2.1 recommends a passport identifier distinct from the battery identifier:
    # one physical battery may carry several passports over its life (Art. 77(7)).
    passport_id: str
    battery_id: str
    category: BatteryCategory
    status: BatteryStatus = BatteryStatus.ORIGINAL
    # Art. 77(7): the passport of a re-used/repurposed/remanufactured battery is linked to the
    # passport(s) of the original battery or batteries.
    predecessor_passport_ids: tuple[str, ...] = ()
    successor_passport_id: str | None = None
    # Art. 77(8): the passport ceases to exist once the battery is recycled; roadpass keeps it readable.
    ceased: bool = False
    ceased_at: datetime | None = None
    sections: dict[SectionName, JsonObject] = Field(default_factory=dict)
    history: tuple[DynamicUpdate, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problem = _problem({f: getattr(self, f) for f in _FIELDS}, self.sections.get(GPI, {}))
        if problem:
            raise ValueError(problem)  # pydantic reports it as a ValidationError
        return self

    @classmethod
    def from_sections(cls, sections: dict[SectionName, JsonObject], **overrides: object) -> BatteryPassport:
        """A passport whose identity comes from its GeneralProductInformation section.

        ``overrides`` supplies (or replaces) fields the section does not carry, e.g. ``history``.
        """
        gpi = sections.get(GPI, {})
        fields: dict[str, object] = {f: gpi[p] for f, p in _GPI_MIRRORS if p in gpi}
        fields.update(overrides)
        missing = [f"$.{p}" for f, p in _GPI_MIRRORS[:3] if f not in fields]
        if missing:
            raise PassportInconsistent(f"{GPI}: {', '.join(missing)} needed to identify the passport")
        problem = _problem(fields, gpi)
        if problem:
            raise PassportInconsistent(problem)
        return cls.model_validate({**fields, "sections": sections})

    def section(self, name: SectionName) -> JsonObject | None:
        """The section's consortium payload, or ``None`` if the passport has none yet."""
        return self.sections.get(name)

    def consortium_json(self) -> JsonObject:
        """The passport in consortium format: the union of its section payloads, in section order."""
        out: JsonObject = {}
        for name in SECTION_NAMES:
            out.update(self.sections.get(name, {}))
        return out

    def value_at(self, section: SectionName, path: str) -> JsonValue | None:
        """The value at a concrete JSON path of a section, or ``None`` where there is none."""
        found = list(iter_pattern(self.sections.get(section, {}), parse_pattern(path)))
        return found[0] if found else None

    def with_section(self, name: SectionName, payload: JsonObject) -> BatteryPassport:
        """A copy with section ``name`` replaced (refused once the passport has ceased)."""
        self._refuse_if_ceased()
        return self.model_copy(update={"sections": {**self.sections, name: payload}}).revalidated()

    def with_dynamic(
        self, section: SectionName, path: str, value: JsonValue, last_update: str, source: str | None = None
    ) -> BatteryPassport:
        """A copy with a dynamic value written at ``path`` and appended to the history."""
        self._refuse_if_ceased()
        payload = set_value(self.sections.get(section, {}), path, value)
        update = DynamicUpdate(
            section=section, path=path, value=value, last_update=last_update, source=source
        )
        return self.model_copy(
            update={"sections": {**self.sections, section: payload}, "history": (*self.history, update)}
        ).revalidated()

    def history_of(self, section: SectionName, path: str) -> list[DynamicUpdate]:
        """Every recorded value of one dynamic attribute, oldest first."""
        return [u for u in self.history if u.section == section and u.path == path]

    def revalidated(self) -> BatteryPassport:
        """Run the checks again (``model_copy`` does not); :class:`PassportInconsistent` names the path."""
        problem = _problem({f: getattr(self, f) for f in _FIELDS}, self.sections.get(GPI, {}))
        if problem:
            raise PassportInconsistent(problem)
        return type(self).model_validate(self.model_dump())

    def _refuse_if_ceased(self) -> None:
        if self.ceased:
            raise PassportCeased(
                f"passport {self.passport_id} ceased on {self.ceased_at} (Art. 77(8)); it is read-only"
            )
