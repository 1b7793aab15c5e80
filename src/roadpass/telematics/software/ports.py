"""What the software-update service needs from persistence (implemented by
:mod:`roadpass.store.software_updates`), and from the trace feature.

The records read and append rows inside one transaction and decide nothing: whether a campaign applies,
which state a report moves a vehicle to and what a ledger entry names are decided in
:mod:`roadpass.telematics.software.campaigns` and the service. Every row is append-only (a state change is a
new row), so a ledger entry's content hash never goes stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.telematics.software.model import (
    Campaign,
    CampaignVehicle,
    SoftwareReport,
    State,
    StoredReport,
    VehicleType,
)

__all__ = ["SoftwareRecords", "SoftwareStore"]


class SoftwareRecords(Protocol):
    """The software-update tables inside one transaction."""

    # --- vehicle types --------------------------------------------------------------------------------
    def vehicle_types(self) -> list[VehicleType]:
        """Every registered vehicle type, by key."""
        ...

    def add_vehicle_type(self, vtype: VehicleType, *, actor: str, at: int) -> int | None:
        """Store a vehicle type; its row id, or None when the key is taken."""
        ...

    # --- reports --------------------------------------------------------------------------------------
    def add_report(
        self, vin: str, report: SoftwareReport, *, unit: str | None, channel: str, digest: str, received_at: int,
        actor: str, note: str | None,
    ) -> int | None:
        """Keep a report; its row id, or None when this vehicle's report with that digest is already kept."""
        ...

    def latest_report(self, vin: str) -> StoredReport | None:
        """The vehicle's report with the latest ``reported_at`` (the vehicle's own time)."""
        ...

    def reports(self, vin: str, *, limit: int) -> list[StoredReport]:
        """The vehicle's reports, newest (by the vehicle's own time) first."""
        ...

    def latest_reports(self, vin_like: Sequence[str]) -> list[StoredReport]:
        """The latest report of every vehicle whose VIN matches one of the SQL ``LIKE`` patterns."""
        ...

    def report_facts(self, vin_like: Sequence[str]) -> list[tuple[str, int, tuple[str, ...]]]:
        """(VIN, reported at, RXSWINs) of every report of the vehicles whose VIN matches a pattern."""
        ...

    def claims(self, campaign_key: str, *, limit: int) -> list[StoredReport]:
        """Reports that carry a note about a claim on ``campaign_key`` (unconfirmed installations), newest
        first."""
        ...

    # --- campaigns ------------------------------------------------------------------------------------
    def campaigns(self, vehicle_type: str | None = None) -> list[Campaign]:
        """Campaigns (of one vehicle type, or all), oldest first."""
        ...

    def campaign(self, key: str) -> Campaign | None:
        """The campaign called ``key``."""
        ...

    def add_campaign(self, campaign: Campaign, *, actor: str, at: int) -> int | None:
        """Store a campaign; its row id, or None when the key is taken."""
        ...

    def current_states(self, campaign_id: int, vins: Sequence[str] | None = None) -> dict[str, CampaignVehicle]:
        """Each vehicle's latest state in the campaign (of ``vins`` only, unless None)."""
        ...

    def vehicle_states(self, vin: str) -> list[CampaignVehicle]:
        """Every state row of the vehicle in every campaign, oldest first."""
        ...

    def add_state(
        self, campaign_id: int, vin: str, state: State, *, reason: str, at: int, report_id: int | None, actor: str,
    ) -> int:
        """Append a state change; its row id."""
        ...

    # --- ledger ---------------------------------------------------------------------------------------
    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...


class SoftwareStore(Transactions[SoftwareRecords], Protocol):
    """Transactions on the software-update tables."""
