"""What the passport and producer-responsibility services need from persistence (implemented by
:mod:`roadpass.store.passports` and :mod:`roadpass.store.epr`).

Each write stamps its rows with one ``op_id`` (:func:`roadpass.passport.records.new_op_id`) and ends with
one :meth:`PassportRecords.ledgered` entry naming the tables it wrote: a bulk issue of thousands of
passports is one ledger entry, and ``ledger verify`` still re-hashes every row it covers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from roadpass.ledger import LedgerEntry
from roadpass.passport.records import (
    Collection,
    ModelRow,
    NewDynamic,
    NewPassport,
    NewVersion,
    OriginalPassport,
    PackFact,
    PassportHead,
    PassportSummary,
    RecyclingRecord,
    Registration,
    SiteInfo,
    SoldLink,
    StoredPassport,
)

__all__ = ["ChangeProbe", "EprRecords", "PassportRecords"]


class PassportRecords(Protocol):
    """The passports' rows inside one transaction."""

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> LedgerEntry:
        """Append the ledger entry of write ``op_id``, covering its rows in ``tables``."""
        ...

    def latest_model(self, key: str) -> ModelRow | None:
        """The latest stored version of battery model ``key``."""
        ...

    def add_model(
        self, *, key: str, version: int, category: str, gtin: str | None, mass_kg: float,
        materials: Mapping[str, float], sections: Mapping[Any, Any], op_id: str,
    ) -> ModelRow:
        """Store a battery model version."""
        ...

    def insert_passports(self, items: Sequence[NewPassport], *, actor: str, op_id: str) -> list[int]:
        """Store passports with their first versions; their row ids in input order."""
        ...

    def append_version(self, passport_pk: int, version: NewVersion, *, actor: str, op_id: str) -> int:
        """Store the next version of a passport; its row id."""
        ...

    def append_dynamic(self, rows: Sequence[NewDynamic], *, op_id: str) -> int:
        """Store dynamic values; how many."""
        ...

    def insert_normalisations(
        self, version_pk: int, changes: Sequence[tuple[str, str, str, str, str]], *, op_id: str
    ) -> int:
        """Store import normalisations ``(section, path, old, new, rule)`` against a version; how many."""
        ...

    def record_denial(self, *, passport_id: str, role: str, requested: str, actor: str, op_id: str) -> None:
        """Store a refused read (not ledgered here)."""
        ...

    def head(self, passport_id: str) -> PassportHead | None:
        """The passport's row id, latest version id and latest dynamic value id."""
        ...

    def load(self, pks: Sequence[int]) -> list[StoredPassport]:
        """Passports by row id (unknown ids skipped), with model, versions and dynamic values."""
        ...

    def latest_passport_of_unit(self, unit_id: int) -> int | None:
        """The row id of the unit's most recent passport."""
        ...

    def summaries(self, *, limit: int, offset: int, query: str | None) -> list[PassportSummary]:
        """Passports newest first, optionally those whose passport or battery id contains ``query``."""
        ...

    def pack_facts(self, gtin: str, *, unit_ids: Sequence[int] | None) -> list[PackFact]:
        """Battery units of GTIN ``gtin`` without a passport (of ``unit_ids`` only, when given), each with
        its first commissioning event."""
        ...

    def sold_links(self, unit_ids: Sequence[int]) -> list[SoldLink]:
        """The units' containments in vehicles that have been sold."""
        ...


class EprRecords(Protocol):
    """Producer registrations and the trace record's collection and recycling facts, in one transaction."""

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> LedgerEntry:
        """Append the ledger entry of write ``op_id``, covering its rows in ``tables``."""
        ...

    def has_registration(self, producer_key: str, member_state: str, registration_number: str) -> bool:
        """True when this registration is already stored."""
        ...

    def add_registration(self, registration: Registration, *, op_id: str) -> None:
        """Store a registration (not ledgered here)."""
        ...

    def registrations(self, producer_key: str | None) -> list[Registration]:
        """Registrations by producer and member state, optionally of one producer."""
        ...

    def producer_name(self, producer_key: str) -> str | None:
        """The registered party's name."""
        ...

    def unit_ids_for_keys(self, keys: Sequence[str]) -> dict[str, int]:
        """``{canonical key: unit id}`` of the keys that are known."""
        ...

    def passport_models(self, unit_ids: Sequence[int]) -> dict[int, tuple[str, float, dict[str, float]]]:
        """``{unit_id: (model key, mass kg, {element: kg})}`` of each unit's passport that has a model."""
        ...

    def original_passports(self, model_keys: Sequence[str]) -> list[OriginalPassport]:
        """The original passports of traced batteries of ``model_keys``."""
        ...

    def sold_links(self, unit_ids: Sequence[int]) -> list[SoldLink]:
        """The units' containments in vehicles that have been sold."""
        ...

    def collections(self) -> list[Collection]:
        """One collection per passport's battery, with the collecting event's time and place."""
        ...

    def recycling_events(self, biz_step: str) -> list[RecyclingRecord]:
        """Recycling TransformationEvents of ``biz_step``, in event time order."""
        ...

    def sites(self) -> dict[str, SiteInfo]:
        """``{location key: site}`` from the captured master data (latest version)."""
        ...

    def unit_materials(self) -> dict[int, dict[str, float]]:
        """``{unit_id: {element: kg}}`` of the traced batteries whose passport has a model."""
        ...

    def passport_units(self) -> dict[int, int | None]:
        """``{passport row id: unit id}`` of every passport."""
        ...

    def battery_units(self) -> dict[str, int]:
        """``{unit key: unit id}`` of every unit that has a passport."""
        ...


class ChangeProbe(Protocol):
    """A cheap, engine-level answer to "has anything been committed since?" for the rendered-view cache."""

    def data_version(self) -> int | None:
        """A number that changes whenever any connection commits to the database; ``None`` when the store
        has no such proof (then a cached view is never trusted without reading the passport's head)."""
        ...
