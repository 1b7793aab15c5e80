"""From stored rows to the domain's :class:`BatteryPassport`, and the access levels callers ask for.

A passport is its model's sections, with the battery's latest version over them, with every dynamic value
written in time order (so each value's ``lastUpdate`` is the one it was reported with, and the history
keeps all of them). The version row is authoritative for the lifecycle state (status, successor, ceased).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from roadpass.passport.access import AccessPolicy, Role
from roadpass.passport.domain import GPI, BatteryCategory, BatteryPassport, BatteryStatus, DynamicUpdate
from roadpass.passport.issuing import merge_sections
from roadpass.passport.jsondata import JsonObject, set_value
from roadpass.passport.longlist import AnnexXIIIPoint
from roadpass.passport.records import StoredPassport
from roadpass.passport.schemas import SECTION_NAMES, SectionName
from roadpass.trace.timeutil import from_us

__all__ = ["LEVELS", "SERVICE_POLICY", "assemble", "parse_level", "stamp"]

P = AnnexXIIIPoint

# The rule is "an authority gets everything": notified bodies and market surveillance authorities
# see point 3 (Art. 77(2)(c)); the Commission also holds points 2 and 4 under Art. 77(2)(b), so an
# authority caller (the Commission among them) is given all four points. The legitimate-interest group
# sees points 1, 2 and 4 (Art. 77(2)(b)); the public point 1 (Art. 77(2)(a)).
SERVICE_POLICY = AccessPolicy(
    role_points={
        Role.PUBLIC: frozenset({P.PUBLIC}),
        Role.LEGITIMATE_INTEREST: frozenset({P.PUBLIC, P.LEGITIMATE_INTEREST_AND_COMMISSION, P.LEGITIMATE_INTEREST}),
        Role.AUTHORITY: frozenset(P),
    }
)

#: The names callers use for levels (CLI ``--role``, API ``?level=``), and the role each stands for.
LEVELS: dict[str, Role] = {
    "public": Role.PUBLIC,
    "legitimate": Role.LEGITIMATE_INTEREST,
    "legitimate_interest": Role.LEGITIMATE_INTEREST,
    "authority": Role.AUTHORITY,
}


def parse_level(value: str) -> Role:
    """A level name (``public``, ``legitimate``, ``authority``) as a role; :class:`ValueError` names it."""
    role = LEVELS.get(value.strip().lower())
    if role is None:
        raise ValueError(f"level: {value!r} is not one of public, legitimate, authority")
    return role


def stamp(at_us: int) -> str:
    """UTC µs as an RFC 3339 time with offset (the schemas' ``lastUpdate`` form)."""
    return from_us(at_us).isoformat(timespec="milliseconds")


def assemble(stored: StoredPassport) -> BatteryPassport:
    """The domain passport from its stored model, latest version and dynamic values."""
    current = stored.current
    model_sections: dict[str, Any] = stored.model.sections if stored.model is not None else {}
    sections = merge_sections(model_sections, current.sections)
    history: list[DynamicUpdate] = []
    for row in stored.dynamics:
        section: SectionName = row.section  # type: ignore[assignment]
        if section not in SECTION_NAMES:
            continue
        sections[section] = set_value(sections.get(section, {}), row.path, row.value)
        history.append(
            DynamicUpdate(section=section, path=row.path, value=row.value, last_update=stamp(row.last_update),
                          source=row.source)
        )
    gpi: JsonObject = sections.get(GPI, {})
    if gpi:
        # The version row is authoritative for the status (Annex XIII (4)(c)).
        sections[GPI] = {**gpi, "batteryStatus": current.status}
    ceased_at: datetime | None = from_us(current.ceased_at) if current.ceased_at is not None else None
    return BatteryPassport(
        passport_id=stored.passport_id,
        battery_id=stored.battery_id,
        category=BatteryCategory(stored.category),
        status=BatteryStatus(current.status),
        predecessor_passport_ids=(stored.predecessor_id,) if stored.predecessor_id else (),
        successor_passport_id=current.successor_id,
        ceased=ceased_at is not None,
        ceased_at=ceased_at,
        sections=sections,
        history=tuple(history),
    )
