"""The recall campaign's plain data: its scope, defect, remedy and dates, the vehicles it reaches, and what
each vehicle's remedy state is.

Calendar dates (determined on, notices sent on, remedy due on) are ISO 8601 dates (``YYYY-MM-DD``), as the
authorities' forms ask for them; instants (created, checked, remedied) are UTC microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from roadpass.trace.query import Visibility

__all__ = [
    "AffectedVehicle",
    "Campaign",
    "CampaignDraft",
    "Defect",
    "Notice",
    "OpenRecall",
    "ProductionWindow",
    "RecallInvalid",
    "RecallProblem",
    "Remedy",
    "RemedyState",
    "Scope",
    "SerialRange",
    "ServiceEvidence",
    "VehicleState",
    "Viewer",
]


@dataclass(frozen=True, slots=True)
class RecallProblem:
    """One thing wrong with a campaign request: the JSON path of the field and the reason."""

    path: str
    reason: str

    def as_json(self) -> dict[str, str]:
        """As an RFC 7807 ``errors`` item."""
        return {"instance": self.path, "title": self.reason}


class RecallInvalid(ValueError):
    """A campaign request that cannot be accepted; ``problems`` name each field and why."""

    def __init__(self, problems: list[RecallProblem]) -> None:
        self.problems = problems
        first = problems[0] if problems else RecallProblem("$", "invalid")
        super().__init__(f"{first.path}: {first.reason}")


@dataclass(frozen=True, slots=True)
class SerialRange:
    """Serialised units of one product (GTIN-14) whose numeric serials lie in ``[first, last]``."""

    gtin: str
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class ProductionWindow:
    """Units commissioned (EPCIS bizStep ``commissioning``) in ``[start, end)`` UTC µs, of one product when
    ``gtin`` is given."""

    start: int
    end: int
    gtin: str | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """What the defect is in: lots (cell or part lots, canonical class keys), single units, serial ranges,
    a production window and/or a supplier (GS1 company prefix, narrowing the window or standing alone)."""

    lots: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    serial_ranges: tuple[SerialRange, ...] = ()
    production_window: ProductionWindow | None = None
    supplier: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The scope as stored and reported."""
        window = self.production_window
        return {
            "lots": list(self.lots),
            "units": list(self.units),
            "serialRanges": [{"gtin": r.gtin, "first": r.first, "last": r.last} for r in self.serial_ranges],
            "productionWindow": None if window is None else {"start": window.start, "end": window.end,
                                                             "gtin": window.gtin},
            "supplier": self.supplier,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scope:
        """The scope back from :meth:`as_json`."""
        window = data.get("productionWindow")
        return cls(
            lots=tuple(data.get("lots", ())),
            units=tuple(data.get("units", ())),
            serial_ranges=tuple(SerialRange(r["gtin"], int(r["first"]), int(r["last"]))
                                for r in data.get("serialRanges", ())),
            production_window=None if not window else ProductionWindow(int(window["start"]), int(window["end"]),
                                                                       window.get("gtin")),
            supplier=data.get("supplier"),
        )


@dataclass(frozen=True, slots=True)
class Defect:
    """The defect as the manufacturer determined it (49 CFR 573.6(c)(5): description; the safety risk)."""

    description: str
    risk: str
    component: str | None = None
    determined_on: str | None = None
    chronology: str | None = None
    noncompliance: str | None = None  # the safety standard not met, when the recall is for a noncompliance

    def as_json(self) -> dict[str, Any]:
        """As stored and reported."""
        return {"description": self.description, "risk": self.risk, "component": self.component,
                "determinedOn": self.determined_on, "chronology": self.chronology,
                "noncompliance": self.noncompliance}


@dataclass(frozen=True, slots=True)
class Remedy:
    """What fixes a vehicle: parts to fit (GTIN-14, each at least once) and operations to perform."""

    description: str
    parts: tuple[str, ...] = ()
    operations: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """As stored and reported."""
        return {"description": self.description, "parts": list(self.parts), "operations": list(self.operations)}


@dataclass(frozen=True, slots=True)
class CampaignDraft:
    """A campaign as asked for, before its scope is resolved."""

    campaign_key: str
    title: str
    manufacturer: str
    defect: Defect
    remedy: Remedy
    scope: Scope
    dates: dict[str, str] = field(default_factory=dict)  # dealerNoticeOn, ownerNoticeOn, remedyDueOn, …
    market_due: dict[str, str] = field(default_factory=dict)  # remedy due per market, overriding remedyDueOn
    references: dict[str, str] = field(default_factory=dict)  # numbers authorities gave (nhtsaCampaign, …)
    contact: dict[str, str] = field(default_factory=dict)  # the official the authority contacts


@dataclass(frozen=True, slots=True)
class Campaign:
    """A stored campaign: the draft, who opened it and when."""

    id: int
    draft: CampaignDraft
    owner: str  # the party key of the manufacturer that opened it ("" with authorisation switched off)
    created_at: int
    created_by: str

    @property
    def key(self) -> str:
        """The campaign key service records reference."""
        return self.draft.campaign_key


@dataclass(frozen=True, slots=True)
class AffectedVehicle:
    """A vehicle the defect's scope reached: ``carries_now`` is False when the defective unit left it (the
    recall moved on with the unit; the vehicle is told it is no longer affected)."""

    vin: str
    unit_key: str
    market: str | None
    carries_now: bool
    via: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceEvidence:
    """A service record that references a campaign: for which VIN, when, and the parts it fitted."""

    record_key: str
    vin: str
    performed_at: int
    fitted: tuple[str, ...]


class RemedyState(StrEnum):
    """Where a vehicle stands in a campaign."""

    OPEN = "open"  # carries the defective unit, not remedied
    REMEDIED = "remedied"  # a service record references the campaign and fitted the remedy parts
    NO_LONGER_FITTED = "no_longer_fitted"  # the defective unit left the vehicle without a remedy record


@dataclass(frozen=True, slots=True)
class VehicleState:
    """One vehicle's state in a campaign, with the record that completed its remedy."""

    vin: str
    market: str
    state: RemedyState
    remedied_at: int | None = None
    record_key: str | None = None


@dataclass(frozen=True, slots=True)
class OpenRecall:
    """A campaign that concerns a vehicle or unit: what parts checks, the resolver and the repairer's VIN
    page show. ``vin`` is the vehicle concerned (None: a unit in scope that no vehicle carries now)."""

    campaign_id: str
    title: str
    vin: str | None
    remedied: bool
    remedy: str = ""
    state: str = "open"  # a RemedyState value


@dataclass(frozen=True, slots=True)
class Notice:
    """A campaign's notice to one dealer or repairer of a market, naming that market's vehicles only."""

    campaign_key: str
    title: str
    market: str
    party_key: str
    role: str
    vehicles: int
    created_at: int


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who reads a campaign: party key, role, country and trace visibility (None: unrestricted)."""

    party_key: str | None = None
    role: str | None = None
    country: str | None = None
    visibility: Visibility | None = None
