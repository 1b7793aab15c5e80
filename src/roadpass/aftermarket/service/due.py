"""What is due for a vehicle, as the repairer's VIN page shows it: open recalls, warranty state, service
history and the traction battery's state of health from its passport.

Each part comes from the service that owns it; recalls and passports are optional (a deployment without
them shows that they are not available rather than nothing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from roadpass.aftermarket.recalls.model import OpenRecall
from roadpass.aftermarket.service.ports import ChangeProbe, PassportSource, RecallSource, ServiceRecordRow
from roadpass.aftermarket.service.service import ServiceRecordService
from roadpass.aftermarket.warranty.coverage import coverage_state
from roadpass.aftermarket.warranty.model import ClaimRow
from roadpass.aftermarket.warranty.service import WarrantyService
from roadpass.trace.query import Visibility
from roadpass.trace.service import Hidden
from roadpass.trace.timeutil import iso_utc

__all__ = ["BatteryHealth", "DueForVin", "RepairerDesk", "record_json"]

# Battery Pass data model v1.2 (DIN DKE SPEC 99100), Performance and Durability: the state of certified
# energy is the EV battery's state of health figure (Reg. (EU) 2023/1542 Annex VII Part B point 1).
_SECTION = "PerformanceAndDurability"
_SOCE = "$.batteryCondition.stateOfCertifiedEnergy.stateOfCertifiedEnergyValue"
_SOCE_AT = "$.batteryCondition.stateOfCertifiedEnergy.lastUpdate"
#: How long a kept answer may be reused when nothing was committed (coverage runs out with time), and how
#: many VINs are kept at most.
_KEEP_SECONDS = 60.0
_KEEP_MOST = 20_000


@dataclass(frozen=True, slots=True)
class BatteryHealth:
    """The traction battery's passport and its latest state of health (state of certified energy, %)."""

    battery: str
    passport_id: str
    state_of_health: float | None
    last_update: str | None


@dataclass(slots=True)
class DueForVin:
    """Everything the VIN page shows."""

    vin: str
    vehicle: str
    market: str | None
    delivered_at: int | None
    open_recalls: list[dict[str, Any]] | None  # None: recall campaigns not available here
    coverage: list[dict[str, Any]]
    claims: list[ClaimRow]
    history: list[ServiceRecordRow]
    battery: BatteryHealth | None
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The page's content as the API answers it."""
        return {
            "vin": self.vin, "vehicle": self.vehicle, "market": self.market,
            "deliveredAt": None if self.delivered_at is None else iso_utc(self.delivered_at),
            "openRecalls": self.open_recalls, "coverage": self.coverage,
            "claims": [c.as_json() for c in self.claims],
            "history": [record_json(r) for r in self.history],
            "battery": None if self.battery is None else {
                "battery": self.battery.battery, "passportId": self.battery.passport_id,
                "stateOfHealth": self.battery.state_of_health, "lastUpdate": self.battery.last_update},
            "notes": self.notes,
        }


def record_json(row: ServiceRecordRow) -> dict[str, Any]:
    """A service record as the API answers it."""
    return {"recordKey": row.record_key, "performedAt": iso_utc(row.performed_at), "odometerKm": row.odometer_km,
            "technician": row.technician, "operations": row.operations, "removed": list(row.removed),
            "fitted": list(row.fitted), "campaigns": list(row.campaigns), "recordedBy": row.recorded_by}


def _recall_json(item: OpenRecall) -> dict[str, Any]:
    return {"campaign": item.campaign_id, "title": item.title, "vin": item.vin, "remedied": item.remedied,
            "remedy": item.remedy}


class RepairerDesk:
    """Answers "what is due for this VIN" for a signed-in repairer."""

    def __init__(
        self, service_records: ServiceRecordService, warranty: WarrantyService, *,
        recalls: RecallSource | None = None, passports: PassportSource | None = None,
        changes: ChangeProbe | None = None,
    ) -> None:
        self.service_records = service_records
        self.warranty = warranty
        self.trace = service_records.trace
        self.recalls = recalls
        self.passports = passports
        self.changes = changes
        self._kept: dict[str, tuple[int, float, DueForVin]] = {}  # VIN -> (data version, when, answer)

    def due(self, vin: str, *, visibility: Visibility | None = None) -> DueForVin:
        """The VIN page's content; ``Hidden`` when ``visibility`` does not see the vehicle, ``UnitNotFound``
        when no vehicle has that VIN.

        Answers are kept per VIN until anything is committed to the database (``changes``) or a minute has
        passed (coverage runs out with time); the caller's visibility is applied to every answer, kept or
        not, with the rule the trace service applies (:meth:`roadpass.trace.query.Visibility.sees_unit` on
        the vehicle's key and market). Treat the answer as read-only: it may be shared."""
        return self.kept(vin, visibility=visibility) or self.compute(vin, visibility=visibility)

    def compute(self, vin: str, *, visibility: Visibility | None = None) -> DueForVin:
        """The answer worked out now (and kept), whether or not one is kept: :meth:`due` after
        :meth:`kept` found nothing."""
        key = vin.strip().upper()
        version = self.changes.data_version() if self.changes is not None else None
        answer = self._compute(key)
        if version is not None:
            if len(self._kept) >= _KEEP_MOST:
                self._kept.clear()
            self._kept[key] = (version, time.monotonic(), answer)
        return self._seen_by(answer, vin, visibility)

    def kept(self, vin: str, *, visibility: Visibility | None = None) -> DueForVin | None:
        """The kept answer for ``vin`` when nothing has been committed since it was computed (None
        otherwise: ask :meth:`due`). It reads no table, only the change probe, so a server may answer it
        without a worker thread; ``Hidden`` as :meth:`due`."""
        if self.changes is None:
            return None
        kept = self._kept.get(vin.strip().upper())
        if kept is None or time.monotonic() - kept[1] >= _KEEP_SECONDS or kept[0] != self.changes.data_version():
            return None
        return self._seen_by(kept[2], vin, visibility)

    @staticmethod
    def _seen_by(answer: DueForVin, vin: str, visibility: Visibility | None) -> DueForVin:
        if visibility is not None and not visibility.sees_unit(answer.vehicle, answer.market):
            raise Hidden(vin)
        return answer

    def _compute(self, vin: str) -> DueForVin:
        vehicle = self.trace.resolve(vin)
        vin = vehicle.vin or vin
        market = self.trace.unit_market(vehicle.id)
        history = self.service_records.history(vin, limit=20)
        delivered = self.warranty.delivered_at(vehicle)
        odometer = history[0].odometer_km if history else None
        due = DueForVin(
            vin=vin, vehicle=vehicle.key, market=market, delivered_at=delivered, open_recalls=None,
            coverage=coverage_state(self.warranty.table, market, delivered, odometer, time.time_ns() // 1000),
            claims=self.warranty.claims_for(vin, limit=20), history=history, battery=None,
        )
        if self.recalls is not None:
            due.open_recalls = [_recall_json(r) for r in self.recalls.open_recalls_for(vin) if not r.remedied]
        else:
            due.notes.append("recall campaigns are not available on this node")
        if self.passports is not None:
            due.battery = self._battery(vehicle.key)
        if delivered is None:
            due.notes.append("no retail sale is recorded for this vehicle: warranty has not started")
        return due

    def _battery(self, vehicle_key: str) -> BatteryHealth | None:
        """The passport of the traction battery now in the vehicle: the first direct part that is itself an
        assembly (a pack holds modules) and has a passport."""
        assert self.passports is not None
        for child in self.trace.as_built(vehicle_key).children:
            if not child.children:
                continue
            try:
                passport_id = self.passports.resolve(child.key)
            except LookupError:
                continue
            passport = self.passports.get(passport_id)
            value = passport.value_at(_SECTION, _SOCE)
            at = passport.value_at(_SECTION, _SOCE_AT)
            return BatteryHealth(child.key, passport_id, None if value is None else float(value),
                                 None if at is None else str(at))
        return None
