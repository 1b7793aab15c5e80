"""A small world for the software-update tests: Aurora vehicles with a telematics unit each, captured through
the real capture path, the Aurora vehicle type, and report payloads."""

from __future__ import annotations

from typing import Any

import orjson

from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet_model import vin_check_digit
from roadpass.trace.timeutil import parse_time

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
AURORA = {"key": "aurora", "name": "Lanxing Aurora", "product_key": "aurora-ev-my27",
          "variants": {"SR": "LNXES1AB*", "LR": "LNXES2AB*", "AWD": "LNXES3AB*"}}
CAMPAIGN = {"key": "CCU3-3.2", "name": "Cockpit software 3.2 (voice control fix)", "vehicle_type": "aurora",
            "variants": ["LR", "AWD"], "part_number": "HX-CCU3-101", "from_versions": ["3.1.0"],
            "target_version": "3.2.0", "target_rxswin": ["R10SWIN-AUR-0003"]}


def vin(variant_digit: str, serial: int) -> str:
    """A valid Aurora VIN of the variant with VDS digit ``variant_digit``."""
    raw = f"LNXES{variant_digit}AB0TA{serial:06d}"
    return raw[:8] + vin_check_digit(raw) + raw[9:]


def vehicle_epc(v: str) -> str:
    """The vehicle's GIAI (roadpass identifies vehicles by a GIAI carrying the VIN)."""
    return f"urn:epc:id:giai:6951234.{v}"


def unit_epc(n: int) -> str:
    """A telematics unit's SGTIN."""
    return f"urn:epc:id:sgtin:6951234.011100.{n}"


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": list(events)}}


def fit(app: Roadpass, v: str, unit: str, when: str, action: str = "ADD") -> None:
    """Fit (ADD) or remove (DELETE) a unit in a vehicle at ``when``, through capture."""
    step = "assembling" if action == "ADD" else "disassembling"
    event = {"type": "AggregationEvent", "eventTime": when, "eventTimeZoneOffset": "+00:00",
             "parentID": vehicle_epc(v), "childEPCs": [unit], "action": action, "bizStep": step}
    outcome = app.trace.capture(_doc(event), actor="plant")
    assert outcome.stored == 1


def payload(version: str | None, at: str, *, rxswin: str = "R10SWIN-AUR-0002", claim: str | None = None) -> bytes:
    """A report: the cockpit (when ``version``) and the VCU, with an optional claim on the campaign."""
    ecus: list[dict[str, Any]] = [{"ecu": "vcu", "part_number": "SV-VCU-121", "software_version": "1.4",
                                   "rxswin": ["R79SWIN-AUR-0001"]}]
    if version is not None:
        ecus.insert(0, {"ecu": "cockpit", "part_number": "HX-CCU3-101", "software_version": version,
                        "rxswin": [rxswin]})
    body: dict[str, Any] = {"reported_at": at, "ecus": ecus}
    if claim is not None:
        body["campaign"] = {"id": CAMPAIGN["key"], "status": claim}
    return orjson.dumps(body)


def received(at: str) -> int:
    """A report's arrival: a second after it was made."""
    return parse_time(at) + 1_000_000
