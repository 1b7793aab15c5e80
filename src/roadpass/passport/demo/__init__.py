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

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from roadpass.passport.epr.service import EprService
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
from roadpass.passport.service import PassportNotFound, PassportService
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.query import parse_event_query
from roadpass.trace.service import TraceService
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


def _events(trace: TraceService, params: dict[str, list[str]]) -> Iterator[dict[str, Any]]:
    """Every event the query matches, page by page."""
    while True:
        events, _, token = trace.events(parse_event_query(params, max_per_page=1000))
        yield from events
        if token is None:
            return
        params = {**params, "nextPageToken": [token.encode()]}


def _removed_packs(svc: PassportService, trace: TraceService) -> list[tuple[str, int, str]]:
    """Packs with a passport that a workshop took out of a vehicle: key, removal time (UTC µs), workshop;
    the first removal of each, in time order."""
    removals: dict[str, tuple[int, str]] = {}
    query = {"eventType": ["AggregationEvent"], "EQ_action": ["DELETE"], "EQ_bizStep": ["repairing"],
             "perPage": ["1000"]}
    for event in _events(trace, query):
        workshop = (event.get("bizLocation") or {}).get("id")
        if workshop is None:
            continue
        at = parse_time(event["eventTime"])
        for child in event.get("childEPCs", []):
            key = canonical_id(child)
            if key not in removals or at < removals[key][0]:
                removals[key] = (at, workshop)
    packs: list[tuple[str, int, str]] = []
    for key, (at, workshop) in removals.items():
        try:
            svc.resolve(key)
        except PassportNotFound:
            continue  # not a battery, or one without a passport
        packs.append((key, at, workshop))
    return sorted(packs, key=lambda p: (p[1], p[0]))


def _event(trace: TraceService, key: str, step: str) -> dict[str, Any] | None:
    events = trace.events(parse_event_query({"MATCH_epc": [key], "EQ_bizStep": [step], "perPage": ["5"]}))[0]
    return events[0] if events else None


def _output_classes(gln: str, company_prefixes: Mapping[str, str]) -> dict[str, str]:
    """LGTIN classes of a recycler's recovered fractions, under the recycler's GS1 company prefix."""
    gcp = company_prefixes.get(gln, gln[:7])
    digits = 13 - len(gcp)
    items = {"lithium": 901, "copper": 902, "cobalt": 903, "nickel": 904, "lead": 905}
    return {e: f"urn:epc:class:lgtin:{gcp}.{i:0{digits}d}.RC{gln[-4:]}" for e, i in items.items()}


def load_passport_demo(
    passports: PassportService, epr: EprService, trace: TraceService, *, company_prefixes: Mapping[str, str],
    telemetry_every: int = 3,
) -> PassportDemo:
    """Issue, monitor, collect and recycle on the loaded demo fleet (see module docstring).

    ``company_prefixes`` maps the fleet's sites' GLNs to their parties' GS1 company prefixes (the
    recyclers' recovered fractions are classes under their own prefix)."""
    result = PassportDemo()
    issued = passports.issue_from_trace(actor=DEMO_ACTOR)
    result.issued = len(issued.issued)
    models = [m.key for m in battery_models()]
    for n, market in enumerate(EU_MARKETS):
        epr.register_producer(PRODUCER, market, f"{market}-BATT-{2025000 + 17 * (n + 1)}", models=models,
                              pro=None if market != "FR" else "Batribox (demo)", actor=DEMO_ACTOR)
    for n, passport_id in enumerate(issued.issued):
        if n % telemetry_every:
            continue
        start = passports.get(passport_id).sections.get("GeneralProductInformation", {}).get("puttingIntoService")
        if isinstance(start, str):
            result.telemetry += _telemetry(passports, passport_id, parse_time(start), n)
    years: dict[int, int] = {}
    by_recycler: dict[str, list[tuple[str, int]]] = {}
    for key, removed_at, workshop in _removed_packs(passports, trace):
        at = from_us(removed_at) + timedelta(hours=2)
        _, changed = epr.collect([key], location=workshop, at=at, actor=DEMO_ACTOR)
        result.collected += len(changed)
        years[at.year] = years.get(at.year, 0) + len(changed)
        received = _event(trace, key, "receiving")
        site = (received or {}).get("bizLocation", {}).get("id")
        if site and received is not None:
            when = max(parse_time(received["eventTime"]), removed_at) + 21 * 86_400_000_000
            by_recycler.setdefault(site, []).append((key, when))
    for site, packs in by_recycler.items():
        gln = canonical_id(site).rsplit("/", 1)[-1]
        at = from_us(max(t for _, t in packs))
        _, ceased = epr.recycle([k for k, _ in packs], location=site, at=at, actor=DEMO_ACTOR, recovery=RECOVERY,
                                efficiency=EFFICIENCY, output_classes=_output_classes(gln, company_prefixes))
        result.recycled += len(ceased)
    result.report_year = max(years, key=lambda y: years[y]) if years else None
    return result
