"""The software-update service: reports in (MQTT or HTTP), campaigns, per-vehicle history, R156 evidence.

A report names the telematics unit that sent it, never the vehicle: the vehicle is the one the unit is fitted
in at the report's own time, from the trace feature's as-built genealogy (a unit moved to another car reports
for the new car from the swap on). Each report, and every state change it causes, is written in one unit of
work with its ledger entry (who, what, when, under which clause of UN R156). Rules are in
:mod:`roadpass.telematics.software.campaigns` (states), :mod:`~roadpass.telematics.software.reports` (payload)
and :mod:`~roadpass.telematics.software.history` (history and the per-type record).
"""

from __future__ import annotations

import collections
import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from roadpass.ledger.chain import Subject
from roadpass.telematics.software import campaigns as rules
from roadpass.telematics.software.history import changes, evidence_item, rxswin_changes, type_record
from roadpass.telematics.software.model import (
    STATES,
    Campaign,
    CampaignVehicle,
    SoftwareReport,
    StoredReport,
    VehicleType,
)
from roadpass.telematics.software.ports import SoftwareRecords, SoftwareStore
from roadpass.telematics.software.r156 import r156
from roadpass.telematics.software.reports import ReportRejected, parse_report, payload_digest, report_json
from roadpass.trace.query import Visibility
from roadpass.trace.service import Hidden, TraceService, UnitNotFound
from roadpass.trace.timeutil import iso_utc, to_us

__all__ = [
    "AlreadyExists",
    "CampaignStatus",
    "NotFound",
    "ReportOutcome",
    "SoftwareUpdateService",
    "UnitNotFitted",
]

log = logging.getLogger(__name__)


class NotFound(LookupError):
    """No campaign or vehicle type with this key."""


class AlreadyExists(ValueError):
    """A campaign or vehicle type with this key already exists."""


class UnitNotFitted(ValueError):
    """The reporting unit is unknown, or fitted in no vehicle at the report's time."""


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What a report did: the vehicle it was kept for, whether it was a duplicate, the state changes."""

    vin: str
    report_id: int | None
    duplicate: bool = False
    transitions: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The outcome as the API answers it."""
        return {"vin": self.vin, "report": self.report_id, "duplicate": self.duplicate,
                "transitions": self.transitions, "notes": self.notes}


@dataclass(frozen=True, slots=True)
class CampaignStatus:
    """A campaign, its vehicles' current states, and the claims of installation no inventory confirmed."""

    campaign: Campaign
    vehicles: list[CampaignVehicle]
    unconfirmed: list[StoredReport]

    @property
    def by_state(self) -> dict[str, int]:
        """Vehicles per state (every state named, zeros included)."""
        counts = collections.Counter(v.state for v in self.vehicles)
        return {s: counts.get(s, 0) for s in STATES}

    def as_json(self) -> dict[str, Any]:
        """The status as the API answers it."""
        total = len(self.vehicles)
        return {
            "campaign": {**self.campaign.as_json(), "opened": iso_utc(self.campaign.opened_at),
                         "actor": self.campaign.actor},
            "vehicles": total, "by_state": self.by_state,
            "completion": round(self.by_state["installed"] / total, 4) if total else None,
            "states": [{"vin": v.vin, "state": v.state, "since": iso_utc(v.at), "reason": v.reason,
                        "report": v.report_id} for v in self.vehicles],
            "unconfirmed_claims": [{"vin": r.vin, "report": r.id, "reported_at": iso_utc(r.report.reported_at),
                                    "note": r.note} for r in self.unconfirmed],
        }


def _now() -> int:
    return to_us(dt.datetime.now(dt.UTC))


class SoftwareUpdateService:
    """Software reports, vehicle types, update campaigns and their evidence for one database."""

    def __init__(self, store: SoftwareStore, trace: TraceService, *, actor: str = "roadpass") -> None:
        self.store = store
        self.trace = trace
        self.actor = actor
        # MQTT refusals, counted by reason with the last few kept (the ingester also dead-letters each one).
        self.refused: collections.Counter[str] = collections.Counter()
        self.last_refusals: collections.deque[tuple[str, str]] = collections.deque(maxlen=50)
        self._lock = threading.Lock()

    # --- vehicle types --------------------------------------------------------------------------------
    def add_vehicle_type(self, body: Any, *, actor: str) -> VehicleType:
        """Register a vehicle type (UN R156 para. 2.1) and its variants' VIN patterns (ledgered)."""
        vtype = rules.parse_vehicle_type(body)
        with self.store.write() as records:
            row = records.add_vehicle_type(vtype, actor=actor, at=_now())
            if row is None:
                raise AlreadyExists(f"vehicle type {vtype.key!r} exists")
            records.append_ledger(actor, "software.vehicle_type.create", r156().cite("vehicle_type"),
                                  (Subject("software_vehicle_type", "id", row),))
        return vtype

    def vehicle_types(self) -> list[VehicleType]:
        """Every registered vehicle type."""
        with self.store.read() as records:
            return records.vehicle_types()

    # --- reports --------------------------------------------------------------------------------------
    def vehicle_for_unit(self, unit: str, at: int) -> str:
        """The VIN of the vehicle ``unit`` is fitted in at ``at`` (the as-built genealogy);
        :class:`UnitNotFitted` otherwise."""
        try:
            _, hits = self.trace.where_used(unit, at)
        except UnitNotFound:
            raise UnitNotFitted(f"no unit is known as {unit!r}") from None
        fitted = [h.vin for h in hits if h.vin and any(span.contains(at) for span in h.spans)]
        if not fitted:
            raise UnitNotFitted(f"unit {unit!r} is fitted in no vehicle at {iso_utc(at)}")
        return fitted[0]

    def report(self, unit: str, payload: bytes, received_at: int, *, actor: str, channel: str,
               visibility: Visibility | None = None) -> ReportOutcome:
        """Keep a unit's report for the vehicle it is fitted in and apply it to that vehicle's campaigns.

        Raises :class:`ReportRejected` (every problem by JSON path) or :class:`UnitNotFitted`; with
        ``visibility`` (a party reporting over HTTP), :class:`~roadpass.trace.service.Hidden` unless it sees the
        unit or that vehicle: a vehicle counts as updated only on its own report, not on another party's word."""
        parsed = parse_report(payload, received_at)
        vin = self.vehicle_for_unit(unit, parsed.reported_at)
        if visibility is not None and not (self._sees(unit, visibility) or self._sees(vin, visibility)):
            raise Hidden(unit)
        with self.store.write() as records:
            return _apply_report(records, vin, parsed, unit=unit, channel=channel, digest=payload_digest(payload),
                                 received_at=received_at, actor=actor)

    def mqtt_handler(self, unit: str, payload: bytes, received_us: int) -> None:
        """The handler the telematics ingester calls for ``roadpass/units/{unit}/software``: keeps the report,
        or counts the refusal and raises it (:class:`ReportRejected`, :class:`UnitNotFitted`) with its reason,
        which the ingester dead-letters without stopping."""
        try:
            self.report(unit, payload, received_us, actor=f"unit:{unit}", channel="mqtt")
        except (ReportRejected, UnitNotFitted) as exc:
            reason = "bad payload" if isinstance(exc, ReportRejected) else "unit not fitted"
            with self._lock:
                self.refused[reason] += 1
                self.last_refusals.append((unit, str(exc)))
            log.info("software report from %s refused: %s", unit, exc)
            raise

    # --- campaigns ------------------------------------------------------------------------------------
    def create_campaign(self, body: Any, *, actor: str, visibility: Visibility | None = None) -> CampaignStatus:
        """Create a campaign and offer it to every vehicle it applies to by its latest report (ledgered); with
        ``visibility``, only to the vehicles the creating party sees (it updates no one else's fleet)."""
        with self.store.write() as records:
            types = {t.key: t for t in records.vehicle_types()}
            campaign = rules.parse_campaign(body, types)
            at = _now()
            row = records.add_campaign(campaign, actor=actor, at=at)
            if row is None:
                raise AlreadyExists(f"campaign {campaign.key!r} exists")
            records.append_ledger(actor, "software.campaign.create", r156().cite("software_update"),
                                  (Subject("software_campaign", "id", row),))
            vtype = types[campaign.vehicle_type]
            like = [rules.like_pattern(p) for p in vtype.vin_patterns(campaign.variants)]
            for latest in records.latest_reports(like):
                reason = rules.applies(campaign, vtype, latest.vin, latest.report)
                if reason is not None and (visibility is None or self._sees(latest.vin, visibility)):
                    _set_state(records, row, campaign.key, latest.vin, rules.Transition("offered", reason),
                               at=at, report_id=latest.id, actor=actor)
            stored = records.campaign(campaign.key)
        if stored is None:  # pragma: no cover - written in this transaction
            raise NotFound(campaign.key)
        return self.campaign_status(stored.key, visibility=visibility)

    def campaigns(self) -> list[Campaign]:
        """Every campaign, oldest first."""
        with self.store.read() as records:
            return records.campaigns()

    def campaign_status(self, key: str, *, claims_limit: int = 100,
                        visibility: Visibility | None = None) -> CampaignStatus:
        """A campaign's vehicles by state and the installation claims no inventory confirmed; with
        ``visibility``, of the vehicles it sees only (a VIN is another party's data)."""
        with self.store.read() as records:
            campaign = records.campaign(key)
            if campaign is None:
                raise NotFound(f"no campaign {key!r}")
            states = records.current_states(campaign.id)
            claims = records.claims(key, limit=claims_limit)
        if visibility is not None:
            seen = {v for v in {*states, *(c.vin for c in claims)} if self._sees(v, visibility)}
            states = {vin: state for vin, state in states.items() if vin in seen}
            claims = [c for c in claims if c.vin in seen]
        return CampaignStatus(campaign, sorted(states.values(), key=lambda v: v.vin), claims)

    def _sees(self, identifier: str, visibility: Visibility) -> bool:
        """Whether ``visibility`` sees the unit or vehicle (the access policy's rule, applied by the trace)."""
        try:
            self.trace.resolve(identifier, visibility=visibility)
        except (Hidden, UnitNotFound):
            return False
        return True

    # --- history --------------------------------------------------------------------------------------
    def vehicle_history(self, identifier: str, *, visibility: Visibility | None, limit: int = 200) -> dict[str, Any]:
        """A vehicle's reports, software and RXSWIN changes and campaign states, if ``visibility`` sees it
        (:class:`~roadpass.trace.service.Hidden` otherwise; VIN, EPC or Digital Link)."""
        unit = self.trace.resolve(identifier, visibility=visibility)
        if unit.vin is None:
            raise NotFound(f"{identifier!r} is not a vehicle")
        with self.store.read() as records:
            reports = records.reports(unit.vin, limit=limit)
            states = records.vehicle_states(unit.vin)
            types = records.vehicle_types()
        vtype = next(((t.key, v) for t in types if (v := t.variant_of(unit.vin)) is not None), None)
        return {
            "vin": unit.vin, "vehicle_type": vtype[0] if vtype else None, "variant": vtype[1] if vtype else None,
            "installed": [e.as_json() for e in reports[0].report.ecus] if reports else [],
            "rxswin": list(reports[0].report.rxswin) if reports else [],
            "changes": changes(reports), "rxswin_changes": rxswin_changes(reports),
            "campaigns": [{"campaign": s.campaign, "state": s.state, "at": iso_utc(s.at), "reason": s.reason,
                           "report": s.report_id} for s in states],
            "reports": [{"id": r.id, "unit": r.unit, "channel": r.channel, "received_at": iso_utc(r.received_at),
                         "note": r.note, **report_json(r.report),
                         "reported_at": iso_utc(r.report.reported_at)} for r in reports],
        }

    # --- R156 evidence --------------------------------------------------------------------------------
    def evidence_for(self, product_key: str, on: dt.date) -> list[Mapping[str, Any]]:
        """Evidence items for the R156 requirement of the vehicle types whose technical file is
        ``product_key``: their RXSWIN history, campaigns and completion up to ``on``."""
        out: list[Mapping[str, Any]] = []
        with self.store.read() as records:
            for vtype in records.vehicle_types():
                if vtype.product_key != product_key:
                    continue
                like = [rules.like_pattern(p) for p in vtype.vin_patterns()]
                campaigns = [(c, collections.Counter[str](v.state for v in records.current_states(c.id).values()))
                             for c in records.campaigns(vtype.key)]
                item = evidence_item(type_record(vtype, on, records.report_facts(like), campaigns))
                if item is not None:
                    out.append(item)
        return out


def _set_state(records: SoftwareRecords, campaign_id: int, campaign_key: str, vin: str, change: rules.Transition,
               *, at: int, report_id: int | None, actor: str) -> dict[str, Any]:
    row = records.add_state(campaign_id, vin, change.state, reason=change.reason, at=at, report_id=report_id,
                            actor=actor)
    rule = r156().cite("execution" if change.state == "installed" else "software_update")
    records.append_ledger(actor, f"software.campaign.{change.state}", rule,
                          (Subject("software_campaign_state", "id", row),))
    return {"campaign": campaign_key, "state": change.state, "reason": change.reason}


def _apply_report(records: SoftwareRecords, vin: str, report: SoftwareReport, *, unit: str | None, channel: str,
                  digest: str, received_at: int, actor: str) -> ReportOutcome:
    previous = records.latest_report(vin)
    late = previous is not None and previous.report.reported_at > report.reported_at
    vtype = next((t for t in records.vehicle_types() if t.variant_of(vin) is not None), None)
    campaigns = records.campaigns(vtype.key) if vtype is not None else []
    notes = [n for c in campaigns if (n := rules.unconfirmed_claim(c, report)) is not None]
    if late:  # placed in the history by its own time; the state follows the vehicle's newest inventory
        notes.append(f"reported {iso_utc(report.reported_at)}, before the vehicle's newest report: history only")
    row = records.add_report(vin, report, unit=unit, channel=channel, digest=digest, received_at=received_at,
                             actor=actor, note="; ".join(notes) or None)
    if row is None:
        return ReportOutcome(vin, None, duplicate=True)
    records.append_ledger(actor, "software.report", r156().cite("rxswin"), (Subject("software_report", "id", row),))
    transitions: list[dict[str, Any]] = []
    if vtype is None or late:
        return ReportOutcome(vin, row, transitions=transitions, notes=notes)
    for campaign in campaigns:
        current = records.current_states(campaign.id, [vin]).get(vin)
        state = current.state if current is not None else None
        if state is None:  # a vehicle first heard of after the campaign opened: offered if it applies
            basis = previous.report if previous is not None else report
            reason = rules.applies(campaign, vtype, vin, basis)
            if reason is None:
                continue
            transitions.append(_set_state(records, campaign.id, campaign.key, vin, rules.Transition("offered", reason),
                                          at=report.reported_at, report_id=row, actor=actor))
            state = "offered"
        change = rules.next_state(campaign, state, report)
        if change is not None:
            transitions.append(_set_state(records, campaign.id, campaign.key, vin, change, at=report.reported_at,
                                          report_id=row, actor=actor))
    return ReportOutcome(vin, row, transitions=transitions, notes=notes)
