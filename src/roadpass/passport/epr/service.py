"""Producer responsibility on the trace record: registrations, collection, recycling, reports.

Collection and recycling are captured as real EPCIS documents (``roadpass.passport.epr.events``) through
the trace service, then applied to the batteries' passports: collection makes a battery waste and records
where (Annex XIII (4)(c)); recycling makes its passport cease (Art. 77(8)). Reports read the events back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from roadpass.passport.assemble import assemble
from roadpass.passport.epr.events import RECYCLING, collection_document, recycling_document
from roadpass.passport.epr.report import ELEMENTS, EprReport, RecyclerFigures
from roadpass.passport.lifecycle import TransitionRefused, mark_waste, recycle
from roadpass.passport.market import first_sale, placements
from roadpass.passport.ports import EprRecords
from roadpass.passport.records import Registration, new_op_id
from roadpass.passport.service import PassportNotFound, PassportService
from roadpass.ports import Transactions
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.service import TraceService
from roadpass.trace.timeutil import from_us

__all__ = ["EprService"]

RULE_REGISTER = "Reg. (EU) 2023/1542 Art. 55"


class EprService:
    """Extended producer responsibility (see module docstring)."""

    def __init__(self, records: Transactions[EprRecords], passports: PassportService, trace: TraceService) -> None:
        self.records = records
        self.passports = passports
        self.trace = trace

    def register_producer(
        self, producer_key: str, member_state: str, registration_number: str, *, models: Sequence[str],
        categories: Sequence[str] = ("ev",), pro: str | None = None, actor: str,
    ) -> Registration:
        """Record a registration in a member state's register of producers (Art. 55), ledgered; a
        registration already recorded is not recorded twice."""
        reg = Registration(producer_key, member_state.upper(), registration_number, tuple(categories),
                           tuple(models), pro)
        with self.records.write() as records:
            if not records.has_registration(producer_key, reg.member_state, registration_number):
                op_id = new_op_id()
                records.add_registration(reg, op_id=op_id)
                records.ledgered(actor=actor, action="epr.producer.register", rule=RULE_REGISTER, op_id=op_id,
                                 tables=["producer_registration"])
        return reg

    def registrations(self, producer_key: str | None = None) -> list[Registration]:
        """Registrations, optionally of one producer."""
        with self.records.read() as records:
            return records.registrations(producer_key)

    # ------------------------------------------------------------------------------------ events

    def collect(
        self, identifiers: Sequence[str], *, location: str, at: datetime, actor: str,
        master: Sequence[dict[str, Any]] = (), collector: str | None = None,
    ) -> tuple[str, list[str]]:
        """Capture a collecting event for the batteries and make each one's passport waste; returns the
        event ID and the passports changed."""
        document = collection_document(identifiers, location=location, at=at, master=master, collector=collector)
        event_id = f"urn:uuid:{uuid.uuid4()}"
        document["epcisBody"]["eventList"][0]["eventID"] = event_id
        self.trace.capture(document, actor=actor)
        changed: list[str] = []
        where = canonical_id(location)
        for ident in identifiers:
            try:
                stored = self.passports.stored(self.passports.resolve(ident))
                outcome = mark_waste(assemble(stored), at, source=event_id)
            except (PassportNotFound, TransitionRefused):
                continue
            self.passports.store_outcome(stored, outcome, at=at, actor=actor, reason="collected",
                                         event_id=event_id, location=where)
            changed.append(stored.passport_id)
        return event_id, changed

    def recycle(
        self, identifiers: Sequence[str], *, location: str, at: datetime, actor: str,
        recovery: Mapping[str, float], efficiency: float, output_classes: Mapping[str, str],
        master: Sequence[dict[str, Any]] = (),
    ) -> tuple[str, list[str]]:
        """Capture a recycling TransformationEvent (inputs: the batteries; outputs: recovered materials,
        ``recovery[element]`` of the contained mass; ``efficiency`` of the input mass counted as recycling)
        and make each battery's passport cease (Art. 77(8))."""
        keys = {ident: canonical_id(ident) for ident in identifiers}
        with self.records.read() as records:
            units = records.unit_ids_for_keys(list(keys.values()))
            models = records.passport_models(list(units.values()))
        input_kg = 0.0
        contained: dict[str, float] = {}
        for key in keys.values():
            found = models.get(units.get(key, -1))
            if found is None:
                continue
            input_kg += found[1]
            for element, kg in found[2].items():
                contained[element] = contained.get(element, 0.0) + float(kg)
        outputs = {e: (output_classes[e], contained.get(e, 0.0) * recovery.get(e, 0.0))
                   for e in ELEMENTS if e in output_classes and contained.get(e, 0.0) > 0}
        document = recycling_document(identifiers, location=location, at=at, outputs=outputs, input_mass_kg=input_kg,
                                      recycled_mass_kg=input_kg * efficiency, master=master)
        event_id = f"urn:uuid:{uuid.uuid4()}"
        document["epcisBody"]["eventList"][0]["eventID"] = event_id
        self.trace.capture(document, actor=actor)
        ceased: list[str] = []
        for ident in identifiers:
            try:
                stored = self.passports.stored(self.passports.resolve(ident))
                outcome = recycle(assemble(stored), at)
            except (PassportNotFound, TransitionRefused):
                continue
            self.passports.store_outcome(stored, outcome, at=at, actor=actor, reason="recycled",
                                         event_id=event_id, location=canonical_id(location))
            ceased.append(stored.passport_id)
        return event_id, ceased

    # ------------------------------------------------------------------------------------ report

    def report(self, producer_key: str, member_state: str, year: int) -> EprReport:
        """The Art. 75 report of a producer in a member state for a calendar year."""
        member_state = member_state.upper()
        regs = [r for r in self.registrations(producer_key) if r.member_state == member_state]
        models = sorted({m for r in regs for m in r.models})
        with self.records.read() as records:
            name = records.producer_name(producer_key)
            originals = records.original_passports(models)
            placed = placements(originals, first_sale(records.sold_links([o.unit_id for o in originals])))
            collected = records.collections()
            recycled = records.recycling_events(RECYCLING)
            sites = records.sites()
            unit_materials = records.unit_materials()
            unit_of_pk = records.passport_units()
            battery_units = records.battery_units()
        report = EprReport(
            producer_key=producer_key, producer_name=name or producer_key, member_state=member_state, year=year,
            registration_number=regs[0].registration_number if regs else None, pro=regs[0].pro if regs else None,
            models=models, chemistry="lithium",
            category=regs[0].categories[0] if regs and regs[0].categories else "ev",
        )
        for p in placed:
            if p.country != member_state:
                continue
            placed_year = from_us(p.at).year
            report.placed_kg_by_year[placed_year] = report.placed_kg_by_year.get(placed_year, 0.0) + p.mass_kg
            if placed_year == year:
                report.placed_count += 1
                report.placed_kg += p.mass_kg
        collected_units: set[int] = set()
        for c in collected:
            if c.model_key in models and c.country == member_state and from_us(c.at).year == year:
                report.collected_count += 1
                report.collected_kg += c.mass_kg
                collected_units.add(int(unit_of_pk.get(c.passport_pk) or -1))
        by_site: dict[str, RecyclerFigures] = {}
        for event in recycled:
            if from_us(event.at).year != year:
                continue
            inputs = [battery_units.get(canonical_id(e)) for e in event.doc.get("inputEPCList", [])]
            mine = [u for u in inputs if u is not None and u in collected_units]
            if mine:
                site = sites.get(str(event.location))
                figures = by_site.setdefault(str(event.location), RecyclerFigures(
                    str(event.location), site.name if site else None, event.country))
                _add_recycling(figures, event.doc, mine, len(mine) / len(inputs), unit_materials)
        report.recyclers = sorted(by_site.values(), key=lambda r: r.location)
        return report


def _add_recycling(
    site: RecyclerFigures, doc: Mapping[str, Any], mine: Sequence[int], share: float,
    unit_materials: Mapping[int, Mapping[str, float]],
) -> None:
    """Add a recycling event's figures for the producer's batteries ``mine`` (``share`` of its inputs)."""
    site.batteries += len(mine)
    site.input_kg += float(_ext(doc, "inputMassKg") or 0.0) * share
    site.recycled_kg += float(_ext(doc, "recycledMassKg") or 0.0) * share
    for element, kg in (_ext(doc, "recoveredKg") or {}).items():
        site.recovered_kg[element] = site.recovered_kg.get(element, 0.0) + float(kg) * share
    for element in ELEMENTS:
        total = sum(float(unit_materials.get(u, {}).get(element, 0.0)) for u in mine)
        site.contained_kg[element] = site.contained_kg.get(element, 0.0) + total


def _ext(doc: Mapping[str, Any], name: str) -> Any:
    """A roadpass extension field of a stored event, compact (``rp:x``) or full IRI."""
    return doc.get(f"rp:{name}", doc.get(f"https://roadpass.dev/ns/epcis/{name}"))

