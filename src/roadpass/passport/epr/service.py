"""Producer responsibility on the trace record: registrations, collection, recycling, reports.

Collection and recycling are captured as real EPCIS documents (``roadpass.passport.epr.events``) through
the trace service, then applied to the batteries' passports: collection makes a battery waste and records
where (Annex XIII (4)(c)); recycling makes its passport cease (Art. 77(8)). Reports read the events back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, text

from roadpass.passport.assemble import assemble
from roadpass.passport.epr.events import RECYCLING, collection_document, recycling_document
from roadpass.passport.epr.report import ELEMENTS, EprReport, RecyclerFigures
from roadpass.passport.lifecycle import TransitionRefused, mark_waste, recycle
from roadpass.passport.service import PassportNotFound, PassportService
from roadpass.store import passport_reads as reads
from roadpass.store import passport_tables as pt
from roadpass.store import passports as repo
from roadpass.trace.identifiers import canonical_id
from roadpass.trace.timeutil import from_us

__all__ = ["EprService", "Registration"]


@dataclass(frozen=True, slots=True)
class Registration:
    """A producer's registration in one member state (Art. 55)."""

    producer_key: str
    member_state: str
    registration_number: str
    categories: tuple[str, ...]
    models: tuple[str, ...]
    pro: str | None


class EprService:
    """Extended producer responsibility (see module docstring)."""

    def __init__(self, passports: PassportService) -> None:
        self.passports = passports
        self.uow = passports.uow
        self.trace = passports.trace

    def register_producer(
        self, producer_key: str, member_state: str, registration_number: str, *, models: Sequence[str],
        categories: Sequence[str] = ("ev",), pro: str | None = None, actor: str,
    ) -> Registration:
        """Record a registration in a member state's register of producers (Art. 55), ledgered."""
        reg = Registration(producer_key, member_state.upper(), registration_number, tuple(categories),
                           tuple(models), pro)
        with self.uow.write() as conn:
            t = pt.producer_registration
            exists = conn.execute(select(t.c.id).where(
                t.c.producer_key == producer_key, t.c.member_state == reg.member_state,
                t.c.registration_number == registration_number)).first()
            if exists is None:
                op_id = repo.new_op_id()
                conn.execute(t.insert().values(
                    producer_key=producer_key, member_state=reg.member_state, registration_number=registration_number,
                    categories=orjson.dumps(list(categories)).decode(), models=orjson.dumps(list(models)).decode(),
                    pro=pro, registered_at=repo.now_us(), op_id=op_id))
                repo.ledgered(conn, actor=actor, action="epr.producer.register", rule="Reg. (EU) 2023/1542 Art. 55",
                              op_id=op_id, tables=["producer_registration"])
        return reg

    def registrations(self, producer_key: str | None = None) -> list[Registration]:
        """Registrations, optionally of one producer."""
        t = pt.producer_registration
        query = select(t).order_by(t.c.producer_key, t.c.member_state)
        if producer_key:
            query = query.where(t.c.producer_key == producer_key)
        with self.uow.read() as conn:
            return [Registration(r.producer_key, r.member_state, r.registration_number,
                                 tuple(orjson.loads(r.categories)), tuple(orjson.loads(r.models)), r.pro)
                    for r in conn.execute(query)]

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
        with self.uow.read() as conn:
            keys = {ident: canonical_id(ident) for ident in identifiers}
            units = reads.unit_ids_for_keys(conn, list(keys.values()))
            models = reads.model_of_passports(conn, list(units.values()))
        input_kg = 0.0
        contained: dict[str, float] = {}
        for key in keys.values():
            found = models.get(units.get(key, -1))
            if found is None:
                continue
            input_kg += found[1]
            for element, kg in orjson.loads(found[2]).items():
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
        with self.uow.read() as conn:
            name = conn.execute(text("SELECT name FROM party WHERE key = :k"), {"k": producer_key}).scalar()
            placements = reads.placed_on_market(conn, models)
            collected = reads.collections(conn)
            recycled = reads.recycling_events(conn, RECYCLING)
            places = reads.location_countries(conn)
            unit_materials = {
                int(u): orjson.loads(m) for u, m in conn.execute(text(
                    "SELECT p.unit_id, m.materials FROM passport p JOIN passport_model m ON m.id = p.model_id "
                    "WHERE p.unit_id IS NOT NULL"))
            }
            unit_of_pk: dict[int, int] = dict(conn.execute(text("SELECT id, unit_id FROM passport")).all())
            keys_of_units: dict[str, int] = dict(conn.execute(text(
                "SELECT u.key, u.id FROM unit u JOIN passport p ON p.unit_id = u.id")).all())
        report = EprReport(
            producer_key=producer_key, producer_name=str(name or producer_key), member_state=member_state, year=year,
            registration_number=regs[0].registration_number if regs else None, pro=regs[0].pro if regs else None,
            models=models, chemistry="lithium",
            category=regs[0].categories[0] if regs and regs[0].categories else "ev",
        )
        ours: set[int] = set()
        for p in placements:
            if p.country != member_state:
                continue
            ours.add(p.passport_pk)
            placed_year = from_us(p.at).year
            report.placed_kg_by_year[placed_year] = report.placed_kg_by_year.get(placed_year, 0.0) + p.mass_kg
            if placed_year == year:
                report.placed_count += 1
                report.placed_kg += p.mass_kg
        collected_units: set[int] = set()
        for pk, model_key, mass, at, _location, country in collected:
            if model_key in models and country == member_state and from_us(at).year == year:
                report.collected_count += 1
                report.collected_kg += mass
                collected_units.add(int(unit_of_pk.get(pk) or -1))
        by_site: dict[str, RecyclerFigures] = {}
        for at, doc, location, country in recycled:
            if from_us(at).year != year:
                continue
            inputs = [keys_of_units.get(canonical_id(e)) for e in doc.get("inputEPCList", [])]
            mine = [u for u in inputs if u is not None and u in collected_units]
            if not mine or not inputs:
                continue
            share = len(mine) / len(inputs)
            label = places.get(str(location), (None, None, None))[0]
            site = by_site.setdefault(str(location), RecyclerFigures(str(location), label, country))
            site.batteries += len(mine)
            site.input_kg += float(_ext(doc, "inputMassKg") or 0.0) * share
            site.recycled_kg += float(_ext(doc, "recycledMassKg") or 0.0) * share
            for element, kg in (_ext(doc, "recoveredKg") or {}).items():
                site.recovered_kg[element] = site.recovered_kg.get(element, 0.0) + float(kg) * share
            for element in ELEMENTS:
                total = sum(float(unit_materials.get(u, {}).get(element, 0.0)) for u in mine)
                site.contained_kg[element] = site.contained_kg.get(element, 0.0) + total
        report.recyclers = sorted(by_site.values(), key=lambda r: r.location)
        return report


def _ext(doc: Mapping[str, Any], name: str) -> Any:
    """A roadpass extension field of a stored event, compact (``rp:x``) or full IRI."""
    return doc.get(f"rp:{name}", doc.get(f"https://roadpass.dev/ns/epcis/{name}"))

