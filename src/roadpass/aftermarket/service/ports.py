"""What the service-record feature needs from persistence and from other features.

:class:`ServiceRecords` is implemented by :mod:`roadpass.store.aftermarket_service`; it reads and writes
rows and decides nothing. :class:`RecallSource` and :class:`PassportSource` are what the repairer's VIN page
asks of the recall campaigns and of the battery passports; bootstrap passes those services in when they
exist (this package imports neither).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from roadpass.aftermarket.recalls.model import OpenRecall
from roadpass.aftermarket.service.model import WorkOrder

__all__ = ["ChangeProbe", "PassportSource", "RecallSource", "ServiceRecordRow", "ServiceRecords"]


@dataclass(frozen=True, slots=True)
class ServiceRecordRow:
    """A stored service record with its parts and campaigns."""

    id: int
    record_key: str
    vin: str
    repairer_party_id: int | None
    performed_at: int
    odometer_km: int
    technician: str
    operations: list[dict[str, Any]]
    recorded_at: int
    recorded_by: str
    removed: tuple[str, ...] = ()
    fitted: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()


class ServiceRecords(Protocol):
    """The service-record tables inside one transaction."""

    def by_keys(self, keys: Sequence[str]) -> dict[str, ServiceRecordRow]:
        """Stored records by record key (those that exist)."""
        ...

    def insert(self, orders: Sequence[WorkOrder], *, actor: str) -> int:
        """Store the work orders with their parts and campaigns, all stamped with one ``recorded_at`` that
        no earlier write used; that stamp."""
        ...

    def ledgered(self, *, actor: str, action: str, rule: str, recorded_at: int) -> int:
        """Append the ledger entry covering the records stamped ``recorded_at``; its sequence number."""
        ...

    def history(self, vin: str, *, limit: int) -> list[ServiceRecordRow]:
        """The vehicle's records, latest work first."""
        ...


class RecallSource(Protocol):
    """The recall campaigns, as the VIN page needs them."""

    def open_recalls_for(self, identifier: str) -> Sequence[OpenRecall]:
        """Campaigns not yet remedied on the vehicle (or part) ``identifier``."""
        ...


class PassportSource(Protocol):
    """The battery passports, as the VIN page needs them (:class:`roadpass.passport.service.PassportService`)."""

    def resolve(self, identifier: str) -> str:
        """The live passport id of a battery; a :class:`LookupError` when it has none."""
        ...

    def get(self, passport_id: str) -> Any:
        """The whole passport (read with ``value_at(section, path)``)."""
        ...


class ChangeProbe(Protocol):
    """A cheap answer to "has anything been committed since?" (:class:`roadpass.store.passports.DataVersionProbe`)."""

    def data_version(self) -> int | None:
        """A number that changes whenever any connection commits; ``None`` when the store has no such proof
        (then nothing is kept)."""
        ...
