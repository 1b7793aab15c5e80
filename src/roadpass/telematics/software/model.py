"""The software-update records: what a vehicle reports, vehicle types, campaigns and each vehicle's state.

Plain frozen dataclasses in the words of UN Regulation No. 156 (RXSWIN, para. 2.2; software update, para. 2.3;
execution, para. 2.4) and of the update systems that feed them (an ECU's part number and software version as
an Uptane ECU Version Report carries them). The rules that make and change them are in
:mod:`roadpass.telematics.software.reports` and :mod:`roadpass.telematics.software.campaigns`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "STATES",
    "Campaign",
    "CampaignVehicle",
    "Claim",
    "EcuSoftware",
    "SoftwareReport",
    "State",
    "StoredReport",
    "VehicleType",
]

State = Literal["offered", "downloaded", "installed", "failed", "rolled_back"]
#: Every campaign state, in the order a campaign's status lists them.
STATES: tuple[State, ...] = ("offered", "downloaded", "installed", "failed", "rolled_back")


@dataclass(frozen=True, slots=True)
class EcuSoftware:
    """One ECU as the vehicle reads it: its part number, the software version it runs, and the RXSWINs its
    software contributes to (UN R156 para. 2.2: one RXSWIN per regulation X, defined by the manufacturer)."""

    part_number: str
    software_version: str
    rxswin: tuple[str, ...] = ()
    ecu: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The ECU as the report payload spells it."""
        out: dict[str, Any] = {"part_number": self.part_number, "software_version": self.software_version,
                               "rxswin": list(self.rxswin)}
        if self.ecu is not None:
            out["ecu"] = self.ecu
        return out


@dataclass(frozen=True, slots=True)
class Claim:
    """What a vehicle says about a campaign (``downloaded``, ``failed``, ``rolled_back``, ``installed``,
    ``success``): a claim, recorded as said; only an inventory proves an installation."""

    campaign: str
    status: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class SoftwareReport:
    """A parsed report: when the vehicle read its ECUs, what they run, and an optional claim."""

    reported_at: int
    ecus: tuple[EcuSoftware, ...]
    claim: Claim | None = None

    @property
    def rxswin(self) -> tuple[str, ...]:
        """The vehicle's RXSWINs: every ECU's, once each, sorted."""
        return tuple(sorted({r for ecu in self.ecus for r in ecu.rxswin}))

    def version_of(self, part_number: str) -> str | None:
        """The software version the ECU with ``part_number`` runs (None when the report has no such ECU)."""
        for ecu in self.ecus:
            if ecu.part_number == part_number:
                return ecu.software_version
        return None


@dataclass(frozen=True, slots=True)
class StoredReport:
    """A report as kept for a vehicle: the report, which unit sent it, over which channel, when it arrived."""

    id: int
    vin: str
    unit: str | None
    channel: str
    received_at: int
    report: SoftwareReport
    actor: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleType:
    """A vehicle type (UN R156 para. 2.1) and its variants, each recognised by a VIN pattern (``?`` one
    character, ``*`` any run; ISO 3779 positions 1-3 WMI, 4-9 VDS) as the manufacturer designates them."""

    key: str
    name: str
    variants: dict[str, str]
    product_key: str | None = None

    def variant_of(self, vin: str) -> str | None:
        """The variant whose VIN pattern ``vin`` matches first (None: not a vehicle of this type)."""
        for code, pattern in self.variants.items():
            if fnmatch.fnmatchcase(vin, pattern):
                return code
        return None

    def vin_patterns(self, variants: tuple[str, ...] = ()) -> list[str]:
        """The VIN patterns of ``variants`` (every variant when empty)."""
        return [p for code, p in self.variants.items() if not variants or code in variants]


@dataclass(frozen=True, slots=True)
class Campaign:
    """An update campaign: the target software on one ECU (by part number) and the vehicles it applies to
    (vehicle type, variants, installed versions; empty tuples mean every variant and every other version)."""

    key: str
    name: str
    vehicle_type: str
    part_number: str
    target_version: str
    variants: tuple[str, ...] = ()
    from_versions: tuple[str, ...] = ()
    target_rxswin: tuple[str, ...] = ()
    id: int = 0
    opened_at: int = 0
    actor: str = ""

    def as_json(self) -> dict[str, Any]:
        """The campaign as the API answers it."""
        return {"key": self.key, "name": self.name, "vehicle_type": self.vehicle_type,
                "variants": list(self.variants), "part_number": self.part_number,
                "from_versions": list(self.from_versions), "target_version": self.target_version,
                "target_rxswin": list(self.target_rxswin)}


@dataclass(frozen=True, slots=True)
class CampaignVehicle:
    """One vehicle's state in a campaign, since when, why (the rule and the facts), and the report behind it."""

    campaign: str
    vin: str
    state: State
    at: int
    reason: str
    report_id: int | None = None
    history: tuple[tuple[State, int, str], ...] = field(default=())
