"""Passports and producer responsibility on the demo fleet (after ``roadpass.demo.load.load_demo``).

:func:`load_passport_demo` issues a passport for every traction pack in the trace record, records state of
health telemetry (SOCE, capacity fade, cycles, the odd negative event, each with its lastUpdate), registers
the EU importer as the packs' producer in each EU market (Art. 55), and for every pack a workshop removed:
a collection at that workshop (a take-back point, CBV ``collecting``; the battery becomes waste) and, once
the market's recycler has received it, a recycling TransformationEvent with the recovered materials (the
passport ceases, Art. 77(8)). Everything goes through the real services, so the ledger records it all.
The battery-model data lives beside this module (``battery_models.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from roadpass.bootstrap import Roadpass
from roadpass.passport.health import (
    BeginningOfLife,
    Measurement,
    NegativeEvent,
    NegativeEventKind,
    assess,
    record_cycles,
    record_negative_event,
    record_state_of_health,
)
from roadpass.passport.issuing import battery_models
from roadpass.passport.service import PassportService
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.query import parse_event_query
from roadpass.trace.timeutil import from_us, parse_time

__all__ = ["DEMO_ACTOR", "PassportDemo", "load_passport_demo"]

DEMO_ACTOR = "demo-generator"
EU_MARKETS = ("DE", "NL", "FR", "BE", "ES")
PRODUCER = "lanxing_europe"
# Share of the contained element a hydrometallurgical LFP line recovers (plausible, fictional figures).
RECOVERY = {"lithium": 0.62, "copper": 0.94, "cobalt": 0.95, "nickel": 0.95, "lead": 0.9}
EFFICIENCY = 0.71  # output counted as recycling over input mass (Annex XII Part A)


@dataclass(slots=True)
class PassportDemo:
    """What the passport demo did."""

    issued: int = 0
    telemetry: int = 0
    collected: int = 0
    recycled: int = 0
    report_year: int | None = None


def _bol(svc: PassportService, passport_id: str) -> tuple[Any, BeginningOfLife]:
    passport = svc.get(passport_id)
    props = passport.sections.get("PerformanceAndDurability", {}).get("batteryTechicalProperties", {})
    props = props if isinstance(props, dict) else {}
    energy = _number(props.get("ratedEnergy"))
    return passport, BeginningOfLife(capacity_ah=_number(props.get("ratedCapacity")) or None,
                                     certified_usable_energy_kwh=energy or None)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _telemetry(svc: PassportService, passport_id: str, start_us: int, n: int) -> int:
    passport, bol = _bol(svc, passport_id)
    if bol.certified_usable_energy_kwh is None:
        return 0
    writes = 0
    for k, days in enumerate((120, 300)):
        at = from_us(start_us) + timedelta(days=days + n % 17)
        fade = 0.006 * (k + 1) + (n % 7) * 0.001  # LFP fades slowly: under 2 % in the first year
        measurement = Measurement(measured_at=at, usable_energy_kwh=bol.certified_usable_energy_kwh * (1 - fade),
                                  capacity_ah=(bol.capacity_ah or 0.0) * (1 - fade) or None)
        state = assess(passport.category, bol, measurement)
        cycles = (days + n % 17) * (0.28 + (n % 5) * 0.04)
        source = f"urn:roadpass:telematics:{passport.battery_id.rsplit('/', 1)[-1]}"

        def change(p: Any, state: Any = state, cycles: float = cycles, at: Any = at, src: str = source) -> Any:
            return record_cycles(record_state_of_health(p, state, source=src), cycles, at, source=src)

        passport = svc.record(passport_id, change, actor=DEMO_ACTOR)
        writes += 1
    if n % 11 == 0:
        event = NegativeEvent(NegativeEventKind.OVERHEATING, from_us(start_us) + timedelta(days=200),
                              "cell temperature 61 °C during DC fast charge; derated")
        svc.record(passport_id, lambda p: record_negative_event(p, event, source="urn:roadpass:telematics:bms"),
                   actor=DEMO_ACTOR)
        writes += 1
    return writes


def _removed_packs(app: Roadpass) -> list[tuple[str, int]]:
    """Pack keys a workshop took out of a vehicle, with the removal time (UTC µs)."""
    sql = (
        "SELECT u.key, MIN(l.valid_to) FROM passport p JOIN unit u ON u.id = p.unit_id "
        "JOIN link l ON l.child_id = u.id AND l.kind = 1 JOIN unit v ON v.id = l.parent_id "
        "WHERE v.vin IS NOT NULL AND l.valid_to < :forever AND p.predecessor_id IS NULL GROUP BY u.key ORDER BY 2"
    )
    with app.uow.read() as conn:
        return [(str(k), int(t)) for k, t in conn.execute(text(sql), {"forever": 2**62})]


def _event(app: Roadpass, key: str, step: str) -> dict[str, Any] | None:
    events = app.trace.events(parse_event_query({"MATCH_epc": [key], "EQ_bizStep": [step], "perPage": ["5"]}))[0]
    return events[0] if events else None


def _output_classes(gln: str) -> dict[str, str]:
    """LGTIN classes of a recycler's recovered fractions (its company prefix from the demo fleet)."""
    from roadpass.demo.fleet_world import World

    gcp = next((s.party.gcp for s in World().sites.values() if s.gln == gln), gln[:7])
    digits = 13 - len(gcp)
    items = {"lithium": 901, "copper": 902, "cobalt": 903, "nickel": 904, "lead": 905}
    return {e: f"urn:epc:class:lgtin:{gcp}.{i:0{digits}d}.RC{gln[-4:]}" for e, i in items.items()}


def load_passport_demo(app: Roadpass, *, telemetry_every: int = 3) -> PassportDemo:
    """Issue, monitor, collect and recycle on the loaded demo fleet (see module docstring)."""
    svc = app.passports
    epr = app.epr
    result = PassportDemo()
    issued = svc.issue_from_trace(actor=DEMO_ACTOR)
    result.issued = len(issued.issued)
    models = [m.key for m in battery_models()]
    for n, market in enumerate(EU_MARKETS):
        epr.register_producer(PRODUCER, market, f"{market}-BATT-{2025000 + 17 * (n + 1)}", models=models,
                              pro=None if market != "FR" else "Batribox (demo)", actor=DEMO_ACTOR)
    with app.uow.read() as conn:
        rows = conn.execute(text(
            "SELECT p.passport_id, p.created_at FROM passport p WHERE p.predecessor_id IS NULL ORDER BY p.id")).all()
    for n, (passport_id, _created) in enumerate(rows):
        if n % telemetry_every:
            continue
        start = svc.get(passport_id).sections.get("GeneralProductInformation", {}).get("puttingIntoService")
        if isinstance(start, str):
            result.telemetry += _telemetry(svc, passport_id, parse_time(start), n)
    years: dict[int, int] = {}
    by_recycler: dict[str, list[tuple[str, int]]] = {}
    for key, removed_at in _removed_packs(app):
        removal = _event(app, key, "repairing")
        workshop = (removal or {}).get("bizLocation", {}).get("id")
        if workshop is None:
            continue
        at = from_us(removed_at) + timedelta(hours=2)
        _, changed = epr.collect([key], location=workshop, at=at, actor=DEMO_ACTOR)
        result.collected += len(changed)
        years[at.year] = years.get(at.year, 0) + len(changed)
        received = _event(app, key, "receiving")
        site = (received or {}).get("bizLocation", {}).get("id")
        if site and received is not None:
            when = max(parse_time(received["eventTime"]), removed_at) + 21 * 86_400_000_000
            by_recycler.setdefault(site, []).append((key, when))
    for site, packs in by_recycler.items():
        gln = canonical_id(site).rsplit("/", 1)[-1]
        at = from_us(max(t for _, t in packs))
        _, ceased = epr.recycle([k for k, _ in packs], location=site, at=at, actor=DEMO_ACTOR, recovery=RECOVERY,
                                efficiency=EFFICIENCY, output_classes=_output_classes(gln))
        result.recycled += len(ceased)
    result.report_year = max(years, key=lambda y: years[y]) if years else None
    return result
