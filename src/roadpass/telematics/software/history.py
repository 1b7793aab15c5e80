"""What the reports add up to: a vehicle's software and RXSWIN history, and a vehicle type's R156 record.

UN R156 asks the manufacturer to know, per vehicle type (para. 2.1), which software and which RXSWIN
(para. 2.2) its vehicles run before and after each update, and which vehicles an update reached (the records of
the SUMS, para. 7.1; sub-paragraph to confirm, see r156.yaml). These functions compute that from the reports
as the vehicles sent them, in the order of their own time (a late report lands where it belongs), and from
the campaigns' states. Pure functions: the service reads the rows and hands them here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from roadpass.telematics.software.model import STATES, Campaign, StoredReport, VehicleType
from roadpass.telematics.software.r156 import r156
from roadpass.trace.timeutil import from_us, iso_utc

__all__ = ["TypeRecord", "changes", "evidence_item", "rxswin_changes", "type_record"]


def changes(reports: Sequence[StoredReport]) -> list[dict[str, Any]]:
    """Each ECU software change, in the vehicles' own time order: (at, part number, from, to)."""
    out: list[dict[str, Any]] = []
    last: dict[str, str] = {}
    for stored in sorted(reports, key=lambda r: (r.report.reported_at, r.id)):
        for ecu in stored.report.ecus:
            before = last.get(ecu.part_number)
            if before != ecu.software_version:
                out.append({"at": iso_utc(stored.report.reported_at), "part_number": ecu.part_number,
                            "ecu": ecu.ecu, "from": before, "to": ecu.software_version, "report": stored.id})
            last[ecu.part_number] = ecu.software_version
    return out


def rxswin_changes(reports: Sequence[StoredReport]) -> list[dict[str, Any]]:
    """Each change of the vehicle's RXSWIN set (UN R156 para. 2.2), in the vehicles' own time order."""
    out: list[dict[str, Any]] = []
    last: tuple[str, ...] | None = None
    for stored in sorted(reports, key=lambda r: (r.report.reported_at, r.id)):
        now = stored.report.rxswin
        if now != last:
            before = set(last or ())
            out.append({"at": iso_utc(stored.report.reported_at), "rxswin": list(now),
                        "added": sorted(set(now) - before), "removed": sorted(before - set(now)),
                        "report": stored.id})
        last = now
    return out


@dataclass(frozen=True, slots=True)
class TypeRecord:
    """A vehicle type's software-update record up to a day: RXSWINs seen, campaigns and their completion."""

    vehicle_type: VehicleType
    until: dt.date
    first_report: int | None
    vehicles: int
    rxswin: list[dict[str, Any]]
    campaigns: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """The record as canonical JSON content (what the evidence digest is taken over)."""
        return {"vehicle_type": self.vehicle_type.key, "name": self.vehicle_type.name,
                "until": self.until.isoformat(), "vehicles_reporting": self.vehicles,
                "first_report": None if self.first_report is None else iso_utc(self.first_report),
                "rxswin": self.rxswin, "campaigns": self.campaigns,
                "clauses": {k: r156().clauses[k]["para"] for k in ("vehicle_type", "rxswin", "execution", "records")}}


def type_record(
    vtype: VehicleType, until: dt.date, reports: Iterable[tuple[str, int, tuple[str, ...]]],
    campaigns: Iterable[tuple[Campaign, Mapping[str, int]]],
) -> TypeRecord:
    """The record of ``vtype`` from ``reports`` (VIN, reported at, RXSWINs; those up to ``until`` count) and
    ``campaigns`` (each with its vehicles by current state)."""
    end = _end_of(until)
    seen: dict[str, dict[str, Any]] = {}
    latest: dict[str, tuple[int, tuple[str, ...]]] = {}
    first: int | None = None
    for vin, at, rxswin in reports:
        if at >= end:
            continue
        first = at if first is None else min(first, at)
        if vin not in latest or latest[vin][0] <= at:
            latest[vin] = (at, rxswin)
        for r in rxswin:
            entry = seen.setdefault(r, {"rxswin": r, "first_reported": at, "last_reported": at})
            entry["first_reported"] = min(entry["first_reported"], at)
            entry["last_reported"] = max(entry["last_reported"], at)
    now: dict[str, int] = {}
    for _, rx in latest.values():
        for r in rx:
            now[r] = now.get(r, 0) + 1
    rows = [{**e, "first_reported": iso_utc(e["first_reported"]), "last_reported": iso_utc(e["last_reported"]),
             "vehicles_now": now.get(e["rxswin"], 0)} for _, e in sorted(seen.items())]
    return TypeRecord(vtype, until, first, len(latest), rows, [_campaign_row(c, s) for c, s in campaigns
                                                               if c.opened_at < end])


def _campaign_row(campaign: Campaign, by_state: Mapping[str, int]) -> dict[str, Any]:
    total = sum(by_state.values())
    installed = by_state.get("installed", 0)
    return {"key": campaign.key, "part_number": campaign.part_number, "target_version": campaign.target_version,
            "target_rxswin": list(campaign.target_rxswin), "opened": iso_utc(campaign.opened_at),
            "vehicles": total, "by_state": {s: by_state.get(s, 0) for s in STATES},
            "completion": round(installed / total, 4) if total else None}


def _end_of(day: dt.date) -> int:
    moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=1)
    return int(moment.timestamp()) * 1_000_000


def evidence_item(record: TypeRecord) -> dict[str, Any] | None:
    """The record as an evidence item for the R156 requirement of the vehicle type's product (a
    ``documentation`` item on UN-R156: the RXSWIN documentation the packs ask for with the approval), or None
    when the type names no product or no vehicle of it has reported by then."""
    vtype = record.vehicle_type
    if vtype.product_key is None or record.first_report is None:
        return None
    content = orjson.dumps(record.as_json(), option=orjson.OPT_SORT_KEYS)
    done = [f"{c['key']} {c['by_state']['installed']}/{c['vehicles']}" for c in record.campaigns]
    return {
        "key": f"SWR-{vtype.key}-{record.until.isoformat()}",
        "kind": "documentation",
        "title": (f"RXSWIN and software update record of vehicle type {vtype.name} to {record.until.isoformat()}: "
                  f"{record.vehicles} vehicles reporting, {len(record.rxswin)} RXSWINs, campaigns "
                  f"{', '.join(done) or 'none'} installed (as reported by the vehicles)"),
        "sha256": hashlib.sha256(content).hexdigest(),
        "standards": [r156().standard_id],
        "issuer_role": "self",
        "issuer": "roadpass software update records",
        "scope": f"vehicle type {vtype.key} ({r156().cite('vehicle_type')}; {r156().cite('records')})",
        "issued_on": from_us(record.first_report).date().isoformat(),
        "products": [vtype.product_key],
    }
