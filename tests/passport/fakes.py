"""In-memory fakes of the passport ports, so the services' rules can be tested without a database."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from roadpass.ledger import LedgerEntry, Subject
from roadpass.passport.records import (
    DynamicRow,
    ModelRow,
    NewDynamic,
    NewPassport,
    NewVersion,
    PackFact,
    PassportHead,
    PassportSummary,
    SoldLink,
    StoredPassport,
    VersionRow,
)


@dataclass
class FakeProbe:
    """A change probe whose version the fake store moves on every committed write (as SQLite's
    ``data_version`` moves on another connection's commit); ``version=None``: no proof at all."""

    version: int | None = 1
    asked: int = 0

    def data_version(self) -> int | None:
        self.asked += 1
        return self.version


@dataclass
class _Rows:
    passports: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    dynamics: list[DynamicRow] = field(default_factory=list)
    dynamic_pks: list[int] = field(default_factory=list)
    models: list[ModelRow] = field(default_factory=list)
    normalisations: list[tuple[int, tuple[str, str, str, str, str]]] = field(default_factory=list)
    denials: list[dict[str, str]] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)


class FakePassportRecords:
    """:class:`roadpass.passport.ports.PassportRecords` on lists (what the store would keep in tables)."""

    def __init__(self, rows: _Rows) -> None:
        self.rows = rows

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> LedgerEntry:
        seq = len(self.rows.ledger) + 1
        subjects = tuple(Subject(t, "op_id", op_id) for t in tables)
        entry = LedgerEntry(seq, 0, actor, action, rule, subjects, "", "", f"h{seq}")
        self.rows.ledger.append(entry)
        return entry

    def latest_model(self, key: str) -> ModelRow | None:
        found = [m for m in self.rows.models if m.key == key]
        return max(found, key=lambda m: m.version) if found else None

    def add_model(
        self, *, key: str, version: int, category: str, gtin: str | None, mass_kg: float,
        materials: Mapping[str, float], sections: Mapping[Any, Any], op_id: str,
    ) -> ModelRow:
        row = ModelRow(len(self.rows.models) + 1, key, version, category, gtin, mass_kg, dict(materials),
                       copy.deepcopy(dict(sections)))
        self.rows.models.append(row)
        return row

    def insert_passports(self, items: Sequence[NewPassport], *, actor: str, op_id: str) -> list[int]:
        pks = []
        for item in items:
            pk = len(self.rows.passports) + 1
            self.rows.passports.append({"pk": pk, "item": item, "created_at": 0})
            self._version(pk, NewVersion(item.status, item.sections, item.reason, event_id=item.event_id), actor)
            pks.append(pk)
        return pks

    def _version(self, pk: int, version: NewVersion, actor: str) -> int:
        number = 1 + sum(1 for v in self.rows.versions if v["pk"] == pk)
        vid = len(self.rows.versions) + 1
        row = VersionRow(vid, number, version.status, version.ceased_at, version.successor_id,
                         copy.deepcopy(dict(version.sections)), version.reason, version.event_id, version.location,
                         0, actor)
        self.rows.versions.append({"pk": pk, "row": row})
        return vid

    def append_version(self, passport_pk: int, version: NewVersion, *, actor: str, op_id: str) -> int:
        return self._version(passport_pk, version, actor)

    def append_dynamic(self, rows: Sequence[NewDynamic], *, op_id: str) -> int:
        for r in rows:
            did = len(self.rows.dynamics) + 1
            self.rows.dynamics.append(DynamicRow(did, r.section, r.path, copy.deepcopy(r.value), r.last_update,
                                                 r.source))
            self.rows.dynamic_pks.append(r.passport_pk)
        return len(rows)

    def insert_normalisations(
        self, version_pk: int, changes: Sequence[tuple[str, str, str, str, str]], *, op_id: str
    ) -> int:
        self.rows.normalisations.extend((version_pk, c) for c in changes)
        return len(changes)

    def record_denial(self, *, passport_id: str, role: str, requested: str, actor: str, op_id: str) -> None:
        self.rows.denials.append({"passport_id": passport_id, "role": role, "requested": requested, "actor": actor})

    def head(self, passport_id: str) -> PassportHead | None:
        for p in self.rows.passports:
            if p["item"].passport_id == passport_id:
                pk = p["pk"]
                versions = [v["row"].id for v in self.rows.versions if v["pk"] == pk]
                dynamics = [d.id for d, dpk in zip(self.rows.dynamics, self.rows.dynamic_pks, strict=True) if dpk == pk]
                return PassportHead(pk, max(versions, default=0), max(dynamics, default=0))
        return None

    def load(self, pks: Sequence[int]) -> list[StoredPassport]:
        out = []
        for pk in pks:
            if not 0 < pk <= len(self.rows.passports):
                continue
            item: NewPassport = self.rows.passports[pk - 1]["item"]
            versions = tuple(v["row"] for v in self.rows.versions if v["pk"] == pk)
            dynamics = sorted((d for d, dpk in zip(self.rows.dynamics, self.rows.dynamic_pks, strict=True)
                               if dpk == pk), key=lambda d: (d.last_update, d.id))
            model = self.rows.models[item.model_id - 1] if item.model_id else None
            out.append(StoredPassport(pk, item.passport_id, item.battery_id, item.category, item.unit_id, None,
                                      item.predecessor_id, 0, model, versions, tuple(dynamics)))
        return out

    def latest_passport_of_unit(self, unit_id: int) -> int | None:
        pks = [p["pk"] for p in self.rows.passports if p["item"].unit_id == unit_id]
        return max(pks, default=None)

    def summaries(self, *, limit: int, offset: int, query: str | None) -> list[PassportSummary]:
        out = []
        for stored in self.load([p["pk"] for p in reversed(self.rows.passports)]):
            if query and query not in stored.passport_id and query not in stored.battery_id:
                continue
            out.append(PassportSummary(stored.passport_id, stored.battery_id, stored.category,
                                       stored.current.status, stored.current.ceased_at, stored.created_at))
        return out[offset : offset + limit]

    def pack_facts(self, gtin: str, *, unit_ids: Sequence[int] | None) -> list[PackFact]:
        return []

    def sold_links(self, unit_ids: Sequence[int]) -> list[SoldLink]:
        return []


class FakeTransactions:
    """:class:`roadpass.ports.Transactions` over :class:`FakePassportRecords`: a write that raises leaves
    the rows as they were, and a committed write moves the probe (another connection's commit)."""

    def __init__(self, probe: FakeProbe) -> None:
        self.rows = _Rows()
        self.probe = probe
        self.reads = 0

    @contextmanager
    def read(self) -> Iterator[FakePassportRecords]:
        self.reads += 1
        yield FakePassportRecords(copy.deepcopy(self.rows))

    @contextmanager
    def write(self) -> Iterator[FakePassportRecords]:
        draft = copy.deepcopy(self.rows)
        yield FakePassportRecords(draft)
        self.rows = draft
        if self.probe.version is not None:
            self.probe.version += 1
