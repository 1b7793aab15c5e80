"""What the recall service needs from persistence and from other features, as protocols.

``store/aftermarket_recalls.py`` implements :class:`RecallRecords`; bootstrap hands the service the trace
service (where-used) and a directory of each market's dealers and repairers (the access feature's parties,
passed in as :class:`Recipients` so that this feature does not import another one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from roadpass.aftermarket.recalls.model import (
    AffectedVehicle,
    Campaign,
    CampaignDraft,
    Notice,
    ProductionWindow,
    SerialRange,
    ServiceEvidence,
)
from roadpass.ledger import LedgerEntry

__all__ = ["RecallRecords", "Recipient", "Recipients", "UnitRecall"]


class Recipient(NamedTuple):
    """A dealer or repairer a campaign's notice goes to: party key, role, country (its market)."""

    party_key: str
    role: str
    country: str


class Recipients(Protocol):
    """The dealers and repairers of the given markets."""

    def __call__(self, markets: Sequence[str]) -> Iterable[Recipient]:
        """Every dealer and repairer party whose country is one of ``markets``."""
        ...


class UnitRecall(NamedTuple):
    """A unit named by a campaign: as scope, or as the unit that carried it into a vehicle (``vin``)."""

    campaign: Campaign
    vin: str | None
    carries_now: bool


class RecallRecords(Protocol):
    """Recall campaigns, their vehicles, units and notices, inside one transaction."""

    def lock_writer(self) -> None:
        """Take the single-writer lock before reading what a write depends on."""
        ...

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> LedgerEntry:
        """Append the ledger entry of write ``op_id`` covering its rows in ``tables``."""
        ...

    def insert_campaign(self, draft: CampaignDraft, *, owner: str, created_at: int, created_by: str,
                        op_id: str) -> Campaign:
        """Store a campaign; the stored campaign."""
        ...

    def campaign(self, key: str) -> Campaign | None:
        """The campaign with this key."""
        ...

    def campaigns(self) -> list[Campaign]:
        """Every campaign, newest first."""
        ...

    def vehicles(self, campaign_id: int) -> list[AffectedVehicle]:
        """The campaign's vehicles in VIN order."""
        ...

    def save_vehicles(self, campaign_id: int, vehicles: Sequence[AffectedVehicle], *, at: int, op_id: str) -> int:
        """Add vehicles not yet in the campaign and set ``carries_now`` of those that are; how many were new."""
        ...

    def save_units(self, campaign_id: int, units: Iterable[tuple[str, str | None, bool]], *, op_id: str) -> None:
        """Replace the units the campaign names: (unit key, VIN carrying it or None, carries now)."""
        ...

    def insert_notices(self, campaign_id: int, notices: Sequence[Notice], *, op_id: str) -> None:
        """Store notices to dealers and repairers."""
        ...

    def notified(self, campaign_id: int) -> set[tuple[str, str]]:
        """(market, party key) pairs already notified for the campaign."""
        ...

    def notices_for(self, party_key: str) -> list[Notice]:
        """The notices addressed to a party, newest first."""
        ...

    def evidence(self, campaign_key: str, vin: str | None = None) -> list[ServiceEvidence]:
        """Service records that reference the campaign (for one VIN, if given), with the parts each fitted."""
        ...

    def campaigns_for_vin(self, vin: str) -> list[tuple[Campaign, AffectedVehicle]]:
        """The campaigns that reached a vehicle, with its row in each."""
        ...

    def campaigns_for_unit(self, key: str) -> list[UnitRecall]:
        """The campaigns that name a unit (canonical key)."""
        ...

    def units_in_range(self, r: SerialRange, *, limit: int) -> list[str]:
        """Keys of stored serialised units of ``r.gtin`` whose numeric serial lies in the range."""
        ...

    def lots(self, *, limit: int) -> list[str]:
        """Keys of stored lots (class-level units), in key order."""
        ...

    def units_produced(self, window: ProductionWindow | None, supplier: str | None, *, limit: int) -> list[str]:
        """Keys of units commissioned in ``window`` (of its GTIN, if any) and/or under a company prefix."""
        ...
