"""A small connected fleet for the telematics tests: Aurora vehicles, a telematics unit and a traction pack
in each, captured through the real capture path; VSS message builders."""

from __future__ import annotations

from typing import Any

import orjson

from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet_model import vin_check_digit
from roadpass.telematics.topics import topic
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.timeutil import parse_time

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
SOH = "Vehicle.Powertrain.TractionBattery.StateOfHealth"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Current"
SPEED = "Vehicle.Speed"
T0 = "2026-03-01T08:00:00Z"


def vin(serial: int) -> str:
    """A valid Aurora VIN."""
    raw = f"LNXES1AB0TA{serial:06d}"
    return raw[:8] + vin_check_digit(raw) + raw[9:]


def vehicle_epc(serial: int) -> str:
    """The vehicle's GIAI (carrying its VIN)."""
    return f"urn:epc:id:giai:6951234.{vin(serial)}"


def unit_epc(n: int) -> str:
    """A telematics unit's SGTIN."""
    return f"urn:epc:id:sgtin:6951234.011100.{n}"


def pack_epc(n: int) -> str:
    """A traction pack's SGTIN (the demo battery model's GTIN 06944120000318)."""
    return f"urn:epc:id:sgtin:6944120.000031.{n}"


def key(epc: str) -> str:
    """The canonical key."""
    return canonical_id(epc)


def fit(app: Roadpass, vehicle: int, children: list[str], when: str, action: str = "ADD") -> None:
    """Fit (ADD) or remove (DELETE) units in a vehicle at ``when``, through capture."""
    event = {"type": "AggregationEvent", "eventTime": when, "eventTimeZoneOffset": "+00:00",
             "parentID": vehicle_epc(vehicle), "childEPCs": children, "action": action,
             "bizStep": "assembling" if action == "ADD" else "disassembling"}
    doc = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
           "creationDate": "2026-01-01T00:00:00Z", "epcisBody": {"eventList": [event]}}
    assert app.trace.capture(doc, actor="plant").stored == 1


def build(app: Roadpass, vehicles: int = 2) -> None:
    """Vehicle n holds unit n and pack n from T0."""
    for n in range(1, vehicles + 1):
        fit(app, n, [unit_epc(n), pack_epc(n)], T0)


def message(signals: dict[str, Any], at: str | int) -> bytes:
    """A ``vss`` payload."""
    return orjson.dumps({"ts": at, "signals": signals})


def vss_topic(unit: int) -> str:
    """The unit's ``vss`` topic."""
    return topic(key(unit_epc(unit)))


def us(at: str) -> int:
    """UTC µs of an ISO instant."""
    return parse_time(at)
