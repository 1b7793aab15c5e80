"""The software-update demo: the demo fleet's vehicle type, baseline reports, and one campaign with vehicles in
every state, including a vehicle whose "success" message installed nothing.

Every part number, version and RXSWIN here is FICTIONAL. Reports go through the same path as MQTT reports
(:meth:`SoftwareUpdateService.mqtt_handler`): the unit is mapped to its vehicle by the as-built genealogy.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson

from roadpass.telematics.software.reports import ReportRejected
from roadpass.telematics.software.service import SoftwareUpdateService, UnitNotFitted
from roadpass.trace.timeutil import iso_utc, to_us

__all__ = ["DEMO_ACTOR", "DEMO_CAMPAIGN", "load_software_demo"]

DEMO_ACTOR = "demo:software-updates"
COCKPIT = "HX-CCU3-101"
DEMO_CAMPAIGN: dict[str, Any] = {
    "key": "CCU3-3.2", "name": "Cockpit software 3.2 (voice control and eCall fixes)", "vehicle_type": "aurora",
    "variants": ["LR", "AWD"], "part_number": COCKPIT, "from_versions": ["3.1.0"], "target_version": "3.2.0",
    "target_rxswin": ["R10SWIN-AUR-0003"],
}
# What each offered vehicle does, in turn: the claims it sends and the cockpit version it then reports.
_SCRIPT: tuple[tuple[tuple[str | None, str, str], ...], ...] = (
    (),                                                                              # stays offered
    (("downloaded", "3.1.0", "R10SWIN-AUR-0002"),),                                  # downloaded
    (("downloaded", "3.1.0", "R10SWIN-AUR-0002"), ("success", "3.2.0", "R10SWIN-AUR-0003")),  # installed
    (("downloaded", "3.1.0", "R10SWIN-AUR-0002"), ("failed", "3.1.0", "R10SWIN-AUR-0002")),   # failed
    (("success", "3.2.0", "R10SWIN-AUR-0003"), (None, "3.1.0", "R10SWIN-AUR-0002")),          # rolled back
    (("downloaded", "3.1.0", "R10SWIN-AUR-0002"), ("success", "3.1.0", "R10SWIN-AUR-0002")),  # "success", nothing
    (("success", "3.2.0", "R10SWIN-AUR-0003"),),                                     # installed
)


def _payload(at: int, cockpit: str, rxswin: str, claim: str | None = None) -> bytes:
    body: dict[str, Any] = {"reported_at": iso_utc(at), "ecus": [
        {"ecu": "cockpit", "part_number": COCKPIT, "software_version": cockpit, "rxswin": [rxswin]},
        {"ecu": "vcu", "part_number": "SD-VCU-121", "software_version": "1.4.2", "rxswin": ["R79SWIN-AUR-0001"]},
        {"ecu": "adas_camera", "part_number": "RW-ADAS-161", "software_version": "7.0.1",
         "rxswin": ["R152SWIN-AUR-0001"]},
    ]}
    if claim is not None:
        body["campaign"] = {"id": DEMO_CAMPAIGN["key"], "status": claim}
    return orjson.dumps(body)


def _send(service: SoftwareUpdateService, unit: str, at: int, cockpit: str, rxswin: str,
          claim: str | None = None) -> bool:
    try:
        service.mqtt_handler(unit, _payload(at, cockpit, rxswin, claim), at + 1_000_000)
    except (ReportRejected, UnitNotFitted):  # a unit swapped out by a workshop: its vehicle is skipped
        return False
    return True


def load_software_demo(
    service: SoftwareUpdateService, vehicle_type: dict[str, Any], vehicles: Sequence[tuple[str, str]],
    *, now: dt.datetime | None = None,
) -> dict[str, int]:
    """Register ``vehicle_type``, send baseline reports from each (VIN, unit), open the demo campaign and
    play each offered vehicle's script; the campaign's vehicles by state."""
    start = to_us(now or dt.datetime.now(dt.UTC))
    if not any(t.key == vehicle_type["key"] for t in service.vehicle_types()):
        service.add_vehicle_type(vehicle_type, actor=DEMO_ACTOR)
    units: dict[str, str] = {}
    for i, (vin, unit) in enumerate(vehicles):
        # One vehicle in eight still runs an older cockpit release: the campaign does not apply to it.
        version = "3.0.4" if i % 8 == 7 else "3.1.0"
        if _send(service, unit, start - 86_400_000_000 + i * 1_000_000, version, "R10SWIN-AUR-0002"):
            units[vin] = unit
    if any(c.key == DEMO_CAMPAIGN["key"] for c in service.campaigns()):
        return service.campaign_status(DEMO_CAMPAIGN["key"]).by_state
    status = service.create_campaign(DEMO_CAMPAIGN, actor=DEMO_ACTOR)
    at = to_us(dt.datetime.now(dt.UTC))
    for n, offered in enumerate(status.vehicles):
        script = _SCRIPT[n] if n < len(_SCRIPT) else _SCRIPT[-1]
        for claim, cockpit, rxswin in script:
            at += 1_000_000
            _send(service, units[offered.vin], at, cockpit, rxswin, claim)
    return service.campaign_status(DEMO_CAMPAIGN["key"]).by_state
