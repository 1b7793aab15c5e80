"""The passport feature's records as persistence hands them over (plain dataclasses, no storage here).

:mod:`roadpass.store` builds these from its rows and the services turn them into domain objects
(:func:`roadpass.passport.assemble.assemble`). Times are integer microseconds since the epoch, UTC.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Collection",
    "DynamicRow",
    "ModelRow",
    "NewDynamic",
    "NewPassport",
    "NewVersion",
    "OriginalPassport",
    "PackFact",
    "PassportHead",
    "PassportSummary",
    "Placement",
    "RecyclingRecord",
    "Registration",
    "SiteInfo",
    "SoldLink",
    "StoredPassport",
    "VersionRow",
    "new_op_id",
]


def new_op_id() -> str:
    """A fresh write identifier: every row one write stores carries it, and its ledger entry names it."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class ModelRow:
    """A battery model version as stored."""

    id: int
    key: str
    version: int
    category: str
    gtin: str | None
    mass_kg: float
    materials: dict[str, float]
    sections: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewPassport:
    """What a new passport row and its first version hold."""

    passport_id: str
    battery_id: str
    category: str
    status: str
    sections: Mapping[Any, Any]
    unit_id: int | None = None
    model_id: int | None = None
    predecessor_id: str | None = None
    reason: str = "issue"
    event_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewVersion:
    """The next version of a passport: its status, own sections and lifecycle facts."""

    status: str
    sections: Mapping[Any, Any]
    reason: str
    ceased_at: int | None = None
    successor_id: str | None = None
    event_id: str | None = None
    location: str | None = None


@dataclass(frozen=True, slots=True)
class NewDynamic:
    """A dynamic value to append: where it goes, what it is, when it was reported and by whom."""

    passport_pk: int
    section: str
    path: str
    value: Any
    last_update: int
    source: str | None


@dataclass(frozen=True, slots=True)
class PassportHead:
    """What identifies the current state of a passport: the cache key of its rendered views."""

    pk: int
    version_id: int
    dynamic_id: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One stored version of a passport."""

    id: int
    version: int
    status: str
    ceased_at: int | None
    successor_id: str | None
    sections: dict[str, Any]
    reason: str
    event_id: str | None
    location: str | None
    created_at: int
    actor: str


@dataclass(frozen=True, slots=True)
class DynamicRow:
    """One stored dynamic value."""

    id: int
    section: str
    path: str
    value: Any
    last_update: int
    source: str | None


@dataclass(frozen=True, slots=True)
class StoredPassport:
    """A passport as stored: identity, its model's sections, every version and dynamic value."""

    pk: int
    passport_id: str
    battery_id: str
    category: str
    unit_id: int | None
    unit_key: str | None
    predecessor_id: str | None
    created_at: int
    model: ModelRow | None
    versions: tuple[VersionRow, ...]
    dynamics: tuple[DynamicRow, ...]

    @property
    def current(self) -> VersionRow:
        """The latest version."""
        return self.versions[-1]


@dataclass(frozen=True, slots=True)
class PassportSummary:
    """A line of the passport list: identity, category, current status, when it ceased and was issued."""

    passport_id: str
    battery_id: str
    category: str
    status: str
    ceased_at: int | None
    created_at: int


@dataclass(frozen=True, slots=True)
class PackFact:
    """A battery unit and its commissioning event as captured."""

    unit_id: int
    key: str
    event_time: int
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SoldLink:
    """A unit's containment in a sold vehicle: ``[valid_from, valid_to)``, and the vehicle's market and
    the time it was sold or registered there."""

    unit_id: int
    valid_from: int
    valid_to: int
    market: str
    market_time: int


@dataclass(frozen=True, slots=True)
class OriginalPassport:
    """An original (not second-life) passport of a traced battery, with its model's key and mass."""

    passport_pk: int
    unit_id: int
    model_key: str
    mass_kg: float


@dataclass(frozen=True, slots=True)
class Placement:
    """A passport's battery first made available in ``country`` at ``at`` (UTC µs)."""

    passport_pk: int
    model_key: str
    mass_kg: float
    country: str
    at: int


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection of a passport's battery: its model, mass, the collecting event's time and place."""

    passport_pk: int
    model_key: str
    mass_kg: float
    at: int
    location: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class RecyclingRecord:
    """A recycling TransformationEvent as captured: its time, document, site and the site's country."""

    at: int
    doc: dict[str, Any]
    location: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class SiteInfo:
    """A business location from the captured master data: name, country, site role."""

    name: str | None
    country: str | None
    role: str | None


@dataclass(frozen=True, slots=True)
class Registration:
    """A producer's registration in one member state (Art. 55)."""

    producer_key: str
    member_state: str
    registration_number: str
    categories: tuple[str, ...]
    models: tuple[str, ...]
    pro: str | None

    def to_json(self) -> dict[str, Any]:
        """The registration as the API and CLI report it."""
        return {"producer": self.producer_key, "memberState": self.member_state,
                "registrationNumber": self.registration_number, "categories": list(self.categories),
                "models": list(self.models), "pro": self.pro}
