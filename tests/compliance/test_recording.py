"""The compliance write rules and the service over an in-memory records object (no database).

:class:`FakeRecords` implements :class:`roadpass.compliance.ports.ComplianceRecords` with dictionaries and
remembers every ledger draft, so versions, duplicates and ledger subjects are checked without SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

import pytest

from conftest import TODAY, car, make_evidence
from fakes import InMemoryTransactions
from roadpass.compliance.actions import ActionItem, Decision, make_decision
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.ports import ComplianceRecords
from roadpass.compliance.product import BomSummary, ProductError, ProductRow, TechnicalFile
from roadpass.compliance.recording import (
    RULE,
    fresh_gaps,
    missing_links,
    next_version,
    record_assessment,
    record_decision,
    record_evidence,
    record_product,
    record_sbom,
)
from roadpass.compliance.results import Assessment, RequirementResult
from roadpass.compliance.service import ComplianceService, NotFound
from roadpass.ledger import LedgerDraft, Subject


class FakeRecords:
    """Compliance rows in dictionaries; row ids count up per table as a database would number them."""

    def __init__(self) -> None:
        self.products: dict[int, tuple[TechnicalFile, int, str]] = {}
        self.sboms: dict[int, tuple[str, str]] = {}
        self.evidence_items: dict[int, Evidence] = {}
        self.links: dict[int, tuple[int, str, str]] = {}
        self.assessments: dict[int, Assessment] = {}
        self.action_rows: dict[int, tuple[int, ActionItem]] = {}
        self.decision_rows: dict[int, Decision] = {}
        self.ledger: list[LedgerDraft] = []

    @staticmethod
    def _next(rows: dict[int, Any]) -> int:
        return max(rows, default=0) + 1

    def latest_version(self, key: str) -> tuple[int, str] | None:
        found = [(v, h) for tf, v, h in self.products.values() if tf.key == key]
        return max(found) if found else None

    def product(self, key: str, version: int | None = None) -> ProductRow | None:
        found = sorted((v, tf) for tf, v, _ in self.products.values()
                       if tf.key == key and version in (None, v))
        return ProductRow(key, found[-1][0], False, found[-1][1]) if found else None

    def latest_products(self) -> list[ProductRow]:
        keys = sorted({tf.key for tf, _, _ in self.products.values()})
        return [row for key in keys if (row := self.product(key)) is not None]

    def missing_products(self, keys: Sequence[str]) -> list[str]:
        return [k for k in dict.fromkeys(keys) if self.latest_version(k) is None]

    def add_product(self, tf: TechnicalFile, *, version: int, content_hash: str, actor: str) -> Subject:
        row = self._next(self.products)
        self.products[row] = (tf, version, content_hash)
        return Subject("compliance_product", "id", row)

    def sbom(self, product_key: str, sha256: str) -> Subject | None:
        found = [i for i, pair in self.sboms.items() if pair == (product_key, sha256)]
        return Subject("compliance_sbom", "id", found[0]) if found else None

    def add_sbom(self, product_key: str, raw: bytes, summary: BomSummary, *, actor: str) -> Subject:
        row = self._next(self.sboms)
        self.sboms[row] = (product_key, summary.sha256)
        return Subject("compliance_sbom", "id", row)

    def evidence_with_digest(self, sha256: str) -> Subject | None:
        found = [i for i, ev in self.evidence_items.items() if ev.sha256 == sha256]
        return Subject("compliance_evidence", "id", found[0]) if found else None

    def add_evidence(self, ev: Evidence, *, actor: str) -> Subject:
        row = self._next(self.evidence_items)
        self.evidence_items[row] = ev.model_copy(update={"products": (), "requirements": ()})
        return Subject("compliance_evidence", "id", row)

    def evidence_links(self, evidence: Subject) -> set[tuple[str, str]]:
        return {(p, r) for e, p, r in self.links.values() if e == evidence.value}

    def add_evidence_link(self, evidence: Subject, product_key: str, requirement_id: str, *, actor: str) -> Subject:
        row = self._next(self.links)
        self.links[row] = (int(evidence.value), product_key, requirement_id)
        return Subject("compliance_evidence_link", "id", row)

    def evidence(self, evidence: Subject) -> Evidence:
        pairs = self.evidence_links(evidence)
        return self.evidence_items[int(evidence.value)].model_copy(update={
            "products": tuple(sorted({p for p, _ in pairs})),
            "requirements": tuple(sorted({r for _, r in pairs if r})),
        })

    def evidence_by_product(self, product_keys: Iterable[str] | None = None) -> dict[str, list[Evidence]]:
        wanted = set(product_keys) if product_keys is not None else None
        out: dict[str, list[Evidence]] = {}
        for row in self.evidence_items:
            ev = self.evidence(Subject("compliance_evidence", "id", row))
            for key in ev.products:
                if wanted is None or key in wanted:
                    out.setdefault(key, []).append(ev)
        return out

    def last_assessment_version(self, product_key: str, market: str) -> int:
        return max((a.version or 0 for a in self.assessments.values()
                    if (a.product_key, a.market) == (product_key, market)), default=0)

    def assessment(self, product_key: str, market: str, version: int | None = None) -> Assessment | None:
        found = sorted(((a.version or 0), i) for i, a in self.assessments.items()
                       if (a.product_key, a.market) == (product_key, market) and version in (None, a.version))
        return self.assessments[found[-1][1]] if found else None

    def assessment_history(self, product_key: str, market: str) -> list[dict[str, Any]]:
        return [{"version": a.version, "on": a.on.isoformat(), "status": a.status}
                for a in sorted(self.assessments.values(), key=lambda a: a.version or 0)
                if (a.product_key, a.market) == (product_key, market)]

    def add_assessment(self, a: Assessment, *, product_version: int, actor: str) -> Subject:
        row = self._next(self.assessments)
        self.assessments[row] = a
        return Subject("compliance_assessment", "id", row)

    def add_actions(self, assessment: Subject, items: Sequence[ActionItem]) -> Subject:
        for item in items:
            row = self._next(self.action_rows)
            self.action_rows[row] = (int(assessment.value), item)
        return Subject("compliance_action", "assessment_id", assessment.value)

    def actions(self, product_key: str | None = None, market: str | None = None) -> list[ActionItem]:
        return [dataclasses.replace(item, id=row) for row, (_, item) in sorted(self.action_rows.items())
                if product_key in (None, item.product_key) and market in (None, item.market)]

    def add_decision(self, d: Decision) -> Subject:
        if self.assessment(d.product_key, d.market, d.assessment_version) is None:
            raise LookupError(d.assessment_version)
        row = self._next(self.decision_rows)
        self.decision_rows[row] = d
        return Subject("compliance_decision", "id", row)

    def decisions(self, product_key: str | None = None) -> list[dict[str, Any]]:
        return [{**d.to_json(), "id": row} for row, d in sorted(self.decision_rows.items(), reverse=True)
                if product_key in (None, d.product_key)]

    def rows_hash(self, subjects: Sequence[Subject]) -> str:
        return hashlib.sha256(repr(list(subjects)).encode()).hexdigest()

    def append_ledger(self, draft: LedgerDraft) -> None:
        self.ledger.append(draft)


def _result(rid: str, status: str, severity: str = "major") -> RequirementResult:
    return RequirementResult(rid, rid, "cybersecurity", severity, status, f"{rid} is {status}")  # type: ignore[arg-type]


def _assessment(*results: RequirementResult, key: str = "car", market: str = "EU") -> Assessment:
    return Assessment(key, key, market, "2026.1", TODAY, 90, results)


def _action(rid: str, key: str = "car", market: str = "EU") -> ActionItem:
    return ActionItem(key, market, rid, f"Close {rid}", "major", "Homologation", "A. B.", "VP", (), (),
                      TODAY + dt.timedelta(30), "gap")


# --- the pure rules -------------------------------------------------------------------------------------
def test_next_version_is_one_then_counts_up_only_when_the_content_changes() -> None:
    assert next_version(None, "a") == 1
    assert next_version((3, "a"), "a") is None
    assert next_version((3, "a"), "b") == 4


def test_missing_links_ask_for_the_product_and_each_requirement_once_in_order() -> None:
    ev = make_evidence("doc", "declaration", products=["car", "unit", "car"], requirements=["EU-CRA", "EU-CRA"])
    assert missing_links(ev, []) == [("car", ""), ("unit", ""), ("car", "EU-CRA"), ("unit", "EU-CRA")]
    assert missing_links(ev, [("car", ""), ("unit", "EU-CRA")]) == [("unit", ""), ("car", "EU-CRA")]


def test_fresh_gaps_leave_out_gaps_the_previous_version_already_showed() -> None:
    actions = [_action("A"), _action("B")]
    assert fresh_gaps(actions, None) == actions
    previous = _assessment(_result("A", "gap"), _result("B", "met"))
    assert [a.requirement_id for a in fresh_gaps(actions, previous)] == ["B"]


def test_an_action_is_open_while_the_latest_assessment_shows_its_gap() -> None:
    item = _action("A")
    assert item.still_open(_assessment(_result("A", "gap")))
    assert not item.still_open(_assessment(_result("A", "met")))
    assert not item.still_open(None)
    again = ActionItem.from_json(dataclasses.replace(item, assessment_version=2).to_json(), stored_id=7)
    assert again == dataclasses.replace(item, assessment_version=2, id=7)


# --- recording through the port ------------------------------------------------------------------------
def test_a_product_is_versioned_only_when_it_changes_and_each_version_is_ledgered() -> None:
    records = FakeRecords()
    first = record_product(records, car(), actor="me")
    same = record_product(records, car(), actor="me")
    changed = record_product(records, car(name="Renamed car"), actor="me")
    assert (first.version, first.created) == (1, True)
    assert (same.version, same.created) == (1, False)
    assert (changed.version, changed.created) == (2, True) and len(records.products) == 2
    assert [(d.action, d.rule, d.subjects) for d in records.ledger] == [
        ("compliance.product.version", RULE, (Subject("compliance_product", "id", 1),)),
        ("compliance.product.version", RULE, (Subject("compliance_product", "id", 2),)),
    ]
    assert records.ledger[0].content_hash == records.rows_hash([Subject("compliance_product", "id", 1)])


def test_an_sbom_is_kept_once_per_product_and_digest() -> None:
    records = FakeRecords()
    summary = BomSummary(spec_version="1.5", sha256="a" * 64)
    for key in ("unit", "unit", "car"):
        record_sbom(records, key, b"{}", summary, actor="me")
    assert sorted(records.sboms.values()) == [("car", "a" * 64), ("unit", "a" * 64)]
    assert [d.action for d in records.ledger] == ["compliance.sbom.import"] * 2


def test_evidence_is_stored_once_by_digest_and_later_imports_add_only_missing_links() -> None:
    records = FakeRecords()
    ev = make_evidence("doc", "declaration", products=["car"], requirements=["EU-CRA"])
    stored, created = record_evidence(records, ev, actor="me")
    again, created_again = record_evidence(
        records, ev.model_copy(update={"key": "other", "requirements": ("EU-CRA", "EU-RED")}), actor="you")
    assert created and not created_again and again.key == stored.key == "doc"
    assert again.requirements == ("EU-CRA", "EU-RED") and len(records.evidence_items) == 1
    assert [(d.actor, d.action, d.subjects) for d in records.ledger] == [
        ("me", "compliance.evidence.add", (Subject("compliance_evidence", "id", 1),)),
        ("me", "compliance.evidence.link", (Subject("compliance_evidence_link", "id", 1),
                                            Subject("compliance_evidence_link", "id", 2))),
        ("you", "compliance.evidence.link", (Subject("compliance_evidence_link", "id", 3),)),
    ]
    record_evidence(records, ev, actor="me")
    assert len(records.ledger) == 3  # nothing new: no entry


def test_assessments_count_up_and_open_actions_only_for_fresh_gaps() -> None:
    records = FakeRecords()
    now = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC)
    first = record_assessment(records, _assessment(_result("A", "gap")), product_version=1,
                              actions=[_action("A")], actor="me", now=now)
    second = record_assessment(records, _assessment(_result("A", "gap"), _result("B", "gap")), product_version=2,
                               actions=[_action("A"), _action("B")], actor="me", now=now)
    third = record_assessment(records, _assessment(_result("A", "gap"), _result("B", "gap")), product_version=2,
                              actions=[_action("A"), _action("B")], actor="me", now=now)
    assert (first.version, second.version, third.version) == (1, 2, 3)
    assert first.assessed_at == "2026-11-24T09:30:00+00:00"
    assert [(a.requirement_id, a.assessment_version) for _, a in records.action_rows.values()] == [("A", 1), ("B", 2)]
    assert [d.subjects for d in records.ledger] == [
        (Subject("compliance_assessment", "id", 1), Subject("compliance_action", "assessment_id", 1)),
        (Subject("compliance_assessment", "id", 2), Subject("compliance_action", "assessment_id", 2)),
        (Subject("compliance_assessment", "id", 3),),
    ]


def test_a_decision_is_ledgered_under_its_kind_and_returned_with_its_id() -> None:
    records = FakeRecords()
    stored = record_assessment(records, _assessment(_result("A", "gap")), product_version=1, actions=[], actor="me")
    d = make_decision("risk_acceptance", stored, decided_by="C. D.", rationale="pilot", requirement_id="A")
    kept = record_decision(records, d, actor="C. D.")
    assert kept.id == 1 and kept.snapshot_hash == d.snapshot_hash
    assert (records.ledger[-1].action, records.ledger[-1].actor) == ("compliance.decision.risk_acceptance", "C. D.")


# --- the service without a database ----------------------------------------------------------------------
@pytest.fixture
def service() -> tuple[ComplianceService, FakeRecords]:
    records = FakeRecords()
    return ComplianceService(InMemoryTransactions[ComplianceRecords](records), actor="svc"), records


def test_service_refuses_unknown_markets_and_evidence_for_unknown_products(
    service: tuple[ComplianceService, FakeRecords]
) -> None:
    svc, records = service
    doc = car().model_dump(mode="json")
    with pytest.raises(ProductError) as refused:
        svc.import_product({**doc, "markets": [{"market": "XX", "planned": "2027-01-01"}]})
    assert refused.value.issues == [("/markets/0/market", "no regulation pack for market XX")]
    assert svc.import_product(doc).version == 1 and records.ledger[-1].actor == "svc"
    meta = {"kind": "declaration", "title": "DoC", "issued_on": "2026-10-01", "products": ["car", "nope"]}
    with pytest.raises(NotFound, match="product 'nope' not found"):
        svc.add_evidence(meta, b"doc")
    assert not records.evidence_items


def test_service_derives_action_status_from_the_latest_assessment(
    service: tuple[ComplianceService, FakeRecords]
) -> None:
    svc, records = service
    record_assessment(records, _assessment(_result("A", "gap"), _result("B", "gap")), product_version=1,
                      actions=[_action("A"), _action("B")], actor="me")
    assert [(a.requirement_id, a.status, a.id) for a in svc.actions("car")] == [("A", "open", 1), ("B", "open", 2)]
    record_assessment(records, _assessment(_result("A", "met"), _result("B", "gap")), product_version=1,
                      actions=[_action("B")], actor="me")
    assert [(a.requirement_id, a.status) for a in svc.actions("car", "EU")] == [("A", "closed"), ("B", "open")]
    assert svc.actions("car", "GB") == []
