"""The passport service: issue from the trace record, read by access level, import, export, data carrier,
dynamic values and lifecycle. Every write is one unit of work with one ledger entry.

Reads of a passport go through a cache of rendered views keyed by the passport's head (row id, latest
version id, latest dynamic value id): one indexed query tells whether anything changed, so a cached view is
never stale and the hot path (a public ``GET`` at a recycling outlet) serialises nothing. In front of it, the
store's change probe (:class:`roadpass.passport.ports.ChangeProbe`, SQLite's ``data_version``) proves
without any query that nothing at all was committed since a view was rendered.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import orjson

from roadpass.passport.access import AccessPolicy, PassportView, Role, view
from roadpass.passport.assemble import SERVICE_POLICY, assemble
from roadpass.passport.carrier import DEFAULT_RESOLVER, DigitalLink, qr_png, qr_svg
from roadpass.passport.domain import BatteryPassport, BatteryStatus
from roadpass.passport.import_store import ImportOutcome, store_import
from roadpass.passport.issuing import (
    RULE_ISSUE,
    BatteryModel,
    UnitFacts,
    battery_models,
    match_model,
    unit_sections,
    validate_for_issue,
)
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.lifecycle import LifecycleOutcome, change_status, new_passport_id
from roadpass.passport.market import first_sale
from roadpass.passport.ports import ChangeProbe, PassportRecords
from roadpass.passport.records import ModelRow, NewDynamic, NewPassport, NewVersion, StoredPassport, new_op_id
from roadpass.ports import Transactions
from roadpass.trace.genealogy import WhereUsedHit
from roadpass.trace.identifiers import IdentifierError, parse_gs1
from roadpass.trace.service import TraceService, UnitNotFound
from roadpass.trace.timeutil import iso_utc, parse_time, to_us

__all__ = ["AccessDenied", "IssueResult", "PassportNotFound", "PassportService"]

RULE_ACCESS = "Reg. (EU) 2023/1542 Art. 77(2)"
RULE_MODEL = "Reg. (EU) 2023/1542 Annex XIII (battery model information)"


class PassportNotFound(LookupError):
    """No passport is known under the identifier given."""


class AccessDenied(PermissionError):
    """The caller asked for more than its role may see (Art. 77(2)); the refusal is in the ledger."""

    def __init__(self, passport_id: str, role: Role, requested: Role, ledger_seq: int) -> None:
        super().__init__(f"passport {passport_id}: a {role.value} caller may not read the {requested.value} view")
        self.passport_id = passport_id
        self.role = role
        self.requested = requested
        self.ledger_seq = ledger_seq


@dataclass(slots=True)
class IssueResult:
    """What a bulk issue did: passport ids issued, units refused with the reason."""

    issued: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> JsonObject:
        """``{"issued": [passport id…], "refused": [{"unit", "reason"}…]}`` (the API's and CLI's answer)."""
        return {"issued": list(self.issued), "refused": [{"unit": u, "reason": r} for u, r in self.refused]}


class PassportService:
    """Battery passports on top of the trace record (see module docstring)."""

    def __init__(
        self, records: Transactions[PassportRecords], trace: TraceService, *, changes: ChangeProbe,
        policy: AccessPolicy = SERVICE_POLICY, resolver: str = DEFAULT_RESOLVER, cache_size: int = 200_000,
    ) -> None:
        self.records = records
        self.trace = trace
        self.changes = changes
        self.policy = policy
        self.resolver = resolver
        self._cache: OrderedDict[tuple[int, int, int, Role], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._models: dict[str, ModelRow] = {}
        self._memo: dict[tuple[str, Role], tuple[int, bytes]] = {}

    # ------------------------------------------------------------------------------------ issuing

    def ensure_models(self, *, actor: str) -> dict[str, ModelRow]:
        """Store the battery models' static data (a new, ledgered version only when it changed)."""
        if not self._models:
            with self.records.write() as records:
                for model in battery_models():
                    self._models[model.key] = _ensure_model(records, model, actor=actor)
        return self._models

    def issue_from_trace(self, identifiers: Sequence[str] | None = None, *, actor: str) -> IssueResult:
        """Issue a passport for each battery unit (all known ones without a passport when ``identifiers``
        is ``None``), from its battery model and its trace record; one ledger entry for the batch."""
        models = self.ensure_models(actor=actor)
        unit_ids: list[int] | None = None
        result = IssueResult()
        if identifiers is not None:
            unit_ids = []
            for ident in identifiers:
                try:
                    unit_ids.append(self.trace.resolve(ident).id)
                except UnitNotFound as exc:
                    result.refused.append((ident, str(exc)))
        items: list[NewPassport] = []
        with self.records.read() as records:
            facts = [f for gtin in sorted({m.gtin for m in battery_models()})
                     for f in records.pack_facts(gtin, unit_ids=unit_ids)]
            starts = first_sale(records.sold_links([f.unit_id for f in facts]))
        for fact in facts:
            ilmd = fact.doc.get("ilmd") or {}
            energy = ilmd.get("rp:nominalEnergyKWh", ilmd.get("https://roadpass.dev/ns/epcis/nominalEnergyKWh"))
            gtin = fact.key.split("/01/", 1)[1].split("/", 1)[0]
            model = match_model(battery_models(), gtin, float(energy) if energy is not None else None)
            if model is None:
                result.refused.append((fact.key, "no battery model matches its GTIN and nominal energy"))
                continue
            start = starts.get(fact.unit_id)
            unit = UnitFacts(fact.unit_id, fact.key, str(fact.doc["eventTime"]),
                             iso_utc(start[0]) if start else None)
            item = self._new_item(model, models[model.key], unit)
            if isinstance(item, str):
                result.refused.append((fact.key, item))
            else:
                items.append(item)
        if items:
            op_id = new_op_id()
            with self.records.write() as records:
                records.insert_passports(items, actor=actor, op_id=op_id)
                records.ledgered(actor=actor, action="passport.issue", rule=RULE_ISSUE, op_id=op_id,
                                 tables=["passport", "passport_version"])
            result.issued.extend(i.passport_id for i in items)
        return result

    def _new_item(self, model: BatteryModel, row: ModelRow, unit: UnitFacts) -> NewPassport | str:
        passport_id = new_passport_id()
        own = unit_sections(model, unit, passport_id)
        merged = {name: {**model.sections.get(name, {}), **own.get(name, {})} for name in {*model.sections, *own}}
        issues = validate_for_issue(merged)
        if issues:
            return "; ".join(str(i) for i in issues[:5])
        return NewPassport(passport_id=passport_id, battery_id=unit.battery_id, category=model.category,
                           status=BatteryStatus.ORIGINAL.value, sections=own, unit_id=unit.unit_id, model_id=row.id)

    # ------------------------------------------------------------------------------------ reads

    def stored(self, passport_id: str) -> StoredPassport:
        """The passport's stored records; :class:`PassportNotFound` if unknown."""
        with self.records.read() as records:
            head = records.head(passport_id)
            found = records.load([head.pk]) if head else []
        if not found:
            raise PassportNotFound(f"no passport {passport_id!r}")
        return found[0]

    def get(self, passport_id: str) -> BatteryPassport:
        """The whole passport (every section, every recorded dynamic value)."""
        return assemble(self.stored(passport_id))

    def resolve(self, identifier: str) -> str:
        """A passport id from a passport id, or the current passport of a battery (EPC URN, Digital Link)."""
        with self.records.read() as records:
            if records.head(identifier) is not None:
                return identifier
        try:
            unit = self.trace.resolve(identifier)
        except UnitNotFound as exc:
            raise PassportNotFound(f"no passport {identifier!r} and no battery known by it") from exc
        with self.records.read() as records:
            pk = records.latest_passport_of_unit(unit.id)
            found = records.load([pk]) if pk else []
        if not found:
            raise PassportNotFound(f"battery {unit.key} has no passport yet")
        stored = found[0]
        while stored.current.successor_id:  # Art. 77(7): follow the lineage to the live passport
            stored = self.stored(stored.current.successor_id)
        return stored.passport_id

    def check_level(self, passport_id: str, role: Role, requested: Role | None, *, actor: str) -> Role:
        """The role to render for: ``requested`` if ``role`` may see it; otherwise the refusal is ledgered
        and :class:`AccessDenied` raised (Art. 77(2))."""
        if requested is None or self.policy.points(requested) <= self.policy.points(role):
            return requested or role
        op_id = new_op_id()
        with self.records.write() as records:
            records.record_denial(passport_id=passport_id, role=role.value, requested=requested.value, actor=actor,
                                  op_id=op_id)
            entry = records.ledgered(actor=actor, action="passport.read.denied", rule=RULE_ACCESS, op_id=op_id,
                                     tables=["passport_access_denial"])
        raise AccessDenied(passport_id, role, requested, entry.seq)

    def view(self, passport_id: str, role: Role, *, requested: Role | None = None, actor: str) -> PassportView:
        """What ``role`` may see of the passport (fields above its level absent)."""
        self.stored(passport_id)  # 404 before 403
        level = self.check_level(passport_id, role, requested, actor=actor)
        return view(self.get(passport_id), level, self.policy)

    def _remembered(self, passport_id: str, level: Role, version: int) -> bytes | None:
        memo = self._memo.get((passport_id, level))
        return memo[1] if memo is not None and memo[0] == version else None

    def cached_view_json(self, passport_id: str, role: Role) -> bytes | None:
        """The role's own view as JSON bytes if it is cached and provably current, else ``None``
        (without touching the store beyond its change probe, e.g. SQLite's ``data_version``)."""
        version = self.changes.data_version()
        return None if version is None else self._remembered(passport_id, role, version)

    def view_json(self, passport_id: str, role: Role, *, requested: Role | None = None, actor: str) -> bytes:
        """The view as JSON bytes, cached per passport head and role (the public API's hot path).

        While the store's change probe stands still since the view was rendered (SQLite's
        ``data_version``) the view answers without any query; otherwise one indexed query reads the head,
        and a view is rendered only when the head moved.
        """
        level = role if requested is None else requested
        allowed = self.policy.points(level) <= self.policy.points(role)
        version = self.changes.data_version() if allowed else None
        if version is not None and (cached := self._remembered(passport_id, level, version)) is not None:
            return cached
        body = self._view_json(passport_id, role, requested=requested, actor=actor)
        if version is not None:
            if len(self._memo) > self._cache_size:
                self._memo.clear()
            self._memo[(passport_id, level)] = (version, body)
        return body

    def _view_json(self, passport_id: str, role: Role, *, requested: Role | None, actor: str) -> bytes:
        with self.records.read() as records:
            head = records.head(passport_id)
        if head is None:
            raise PassportNotFound(f"no passport {passport_id!r}")
        level = self.check_level(passport_id, role, requested, actor=actor)
        key = (head.pk, head.version_id, head.dynamic_id, level)
        body = self._cache.get(key)
        if body is None:
            with self.records.read() as records:
                stored = records.load([head.pk])[0]
            passport = assemble(stored)
            body = orjson.dumps({**view(passport, level, self.policy).to_json(), **self._links(passport)})
            self._remember(key, body)
        return body

    def _remember(self, key: tuple[int, int, int, Role], body: bytes) -> None:
        self._cache[key] = body
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _links(self, passport: BatteryPassport) -> JsonObject:
        link = self.digital_link(passport)
        return {"digitalLink": link.uri if link else None}

    def export(self, passport_id: str, role: Role, *, requested: Role | None = None, actor: str) -> JsonObject:
        """The passport in consortium format as ``role`` may see it (an authority: the whole passport)."""
        return self.view(passport_id, role, requested=requested, actor=actor).consortium_json()

    def list_passports(self, *, limit: int = 50, offset: int = 0, query: str | None = None) -> list[dict[str, Any]]:
        """Passports, newest first: id, battery, category, status, ceased, issued."""
        with self.records.read() as records:
            rows = records.summaries(limit=limit, offset=offset, query=query)
        return [
            {"passportId": r.passport_id, "batteryId": r.battery_id, "batteryCategory": r.category,
             "batteryStatus": r.status, "ceasedAt": iso_utc(r.ceased_at) if r.ceased_at else None,
             "issuedAt": iso_utc(r.created_at)}
            for r in rows
        ]

    def installed_in(self, passport: BatteryPassport) -> list[WhereUsedHit]:
        """The vehicles the battery is or was fitted to, from the genealogy (a swapped pack moves)."""
        try:
            return list(self.trace.where_used(passport.battery_id)[1])
        except UnitNotFound:
            return []

    # ------------------------------------------------------------------------------------ data carrier

    def digital_link(self, passport: BatteryPassport) -> DigitalLink | None:
        """The GS1 Digital Link of the passport's battery, when its identifier is a GTIN + serial."""
        try:
            key = parse_gs1(passport.battery_id)
        except (IdentifierError, ValueError):
            return None
        if key.scheme != "sgtin" or not key.serial:
            return None
        gtin, serial = key.key, key.serial
        return DigitalLink(gtin=str(gtin), serial=str(serial), passport_id=passport.passport_id,
                           resolver=self.resolver)

    def qr(self, passport_id: str, fmt: Literal["svg", "png"] = "svg") -> bytes:
        """The QR code of the passport's Digital Link (PNG or SVG)."""
        link = self.digital_link(self.get(passport_id))
        target = link.uri if link else f"{self.resolver.rstrip('/')}/passport/{passport_id}"
        return qr_svg(target) if fmt == "svg" else qr_png(target)

    # ------------------------------------------------------------------------------------ writes

    def import_document(
        self, document: bytes | str | Any, *, actor: str, passport_id: str | None = None
    ) -> ImportOutcome:
        """Import a consortium-format passport or section (see :func:`roadpass.passport.import_store.store_import`)."""
        return store_import(self.records, document, actor=actor, passport_id=passport_id)

    def record(
        self, passport_id: str, change: Callable[[BatteryPassport], BatteryPassport], *, actor: str,
        rule: str = "Reg. (EU) 2023/1542 Art. 77(4), Annex XIII (4)",
    ) -> BatteryPassport:
        """Apply a dynamic change (e.g. ``lambda p: record_state_of_health(p, state)``) and store the new
        history entries it made as dynamic rows, each with its lastUpdate."""
        stored = self.stored(passport_id)
        before = assemble(stored)
        after = change(before)
        new = after.history[len(before.history):]
        rows = [NewDynamic(stored.pk, u.section, u.path, u.value, parse_time(u.last_update, "lastUpdate"), u.source)
                for u in new]
        op_id = new_op_id()
        with self.records.write() as records:
            records.append_dynamic(rows, op_id=op_id)
            records.ledgered(actor=actor, action="passport.dynamic", rule=rule, op_id=op_id,
                             tables=["passport_dynamic"])
        return after

    def change_status(
        self, passport_id: str, target: BatteryStatus, at: datetime, *, actor: str, event_id: str | None = None,
        location: str | None = None, new_battery_id: str | None = None,
    ) -> LifecycleOutcome:
        """A status change (Art. 77(7)-(8)); a second life issues a new passport linked to the original."""
        stored = self.stored(passport_id)
        outcome = change_status(assemble(stored), target, at, battery_id=new_battery_id, source=event_id)
        self.store_outcome(stored, outcome, at=at, actor=actor, event_id=event_id, location=location,
                           reason=target.value.lower() if target is not BatteryStatus.WASTE else "collected")
        return outcome

    def store_outcome(
        self, stored: StoredPassport, outcome: LifecycleOutcome, *, at: datetime, actor: str, reason: str,
        event_id: str | None = None, location: str | None = None,
    ) -> None:
        """Store a lifecycle outcome: a new version (and a new passport for a second life), ledgered."""
        passport = outcome.passport
        own = {**stored.current.sections}
        if "GeneralProductInformation" in own:
            gpi = own["GeneralProductInformation"]
            own["GeneralProductInformation"] = {**gpi, "batteryStatus": passport.status.value}
        version = NewVersion(status=passport.status.value, sections=own, reason=reason,
                             ceased_at=to_us(passport.ceased_at) if passport.ceased_at else None,
                             successor_id=passport.successor_passport_id, event_id=event_id, location=location)
        op_id = new_op_id()
        with self.records.write() as records:
            records.append_version(stored.pk, version, actor=actor, op_id=op_id)
            tables = ["passport_version"]
            if outcome.new_passport is not None:
                new = outcome.new_passport
                gpi_own = {k: v for k, v in new.sections.items() if k in stored.current.sections}
                records.insert_passports([NewPassport(
                    passport_id=new.passport_id, battery_id=new.battery_id, category=new.category.value,
                    status=new.status.value, sections=gpi_own, unit_id=stored.unit_id,
                    model_id=stored.model.id if stored.model else None, predecessor_id=stored.passport_id,
                    reason=reason, event_id=event_id)], actor=actor, op_id=op_id)
                tables.append("passport")
            elif passport.status is not BatteryStatus(stored.current.status):
                records.append_dynamic([NewDynamic(stored.pk, "GeneralProductInformation", "$.batteryStatus",
                                                   passport.status.value, to_us(at), event_id)], op_id=op_id)
                tables.append("passport_dynamic")
            records.ledgered(actor=actor, action=f"passport.{reason}", rule="Reg. (EU) 2023/1542 Art. 77(7)-(8)",
                             op_id=op_id, tables=tables)


def _ensure_model(records: PassportRecords, model: BatteryModel, *, actor: str) -> ModelRow:
    """The latest stored version of ``model`` if its content is unchanged, else a new, ledgered version."""
    latest = records.latest_model(model.key)
    if latest is not None and (latest.category, latest.gtin, latest.mass_kg, latest.materials, latest.sections) == (
        model.category, model.gtin, float(model.mass_kg), dict(model.materials_kg), dict(model.sections)
    ):
        return latest
    op_id = new_op_id()
    row = records.add_model(
        key=model.key, version=1 if latest is None else latest.version + 1, category=model.category,
        gtin=model.gtin, mass_kg=model.mass_kg, materials=model.materials_kg, sections=model.sections, op_id=op_id,
    )
    records.ledgered(actor=actor, action="passport.model", rule=RULE_MODEL, op_id=op_id, tables=["passport_model"])
    return row
