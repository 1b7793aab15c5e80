"""Compliance rows: technical files, SBOMs, evidence and links, assessment versions, actions, decisions.

:class:`SqlComplianceRecords` implements :class:`roadpass.compliance.ports.ComplianceRecords` inside the
caller's transaction (it never commits). It reads and appends rows only: which version a write becomes and
what its ledger entry names are decided in :mod:`roadpass.compliance.recording`. A row it writes is named by
the ledger :class:`Subject` it returns, and the same subject refers to that row in later calls.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, select

import roadpass.store.compliance_tables as ct
from roadpass.compliance.actions import ActionItem, Decision
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.product import BomSummary, ProductRow, TechnicalFile
from roadpass.compliance.results import Assessment
from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import ledger as ledger_store

__all__ = ["SqlComplianceRecords"]


def _now() -> int:
    return time.time_ns() // 1000


def _id(result: Any) -> int:
    return int(result.inserted_primary_key[0])


def _file(doc: str) -> TechnicalFile:
    return TechnicalFile.model_validate_json(doc)


def _row_id(subject: Subject, table: str) -> int:
    if subject.table != table or subject.column != "id":
        raise ValueError(f"{subject} does not name a {table} row")
    return int(subject.value)


class SqlComplianceRecords:
    """:class:`roadpass.compliance.ports.ComplianceRecords` on an open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- technical files ------------------------------------------------------------------------------
    def latest_version(self, key: str) -> tuple[int, str] | None:
        """The newest stored version of a technical file and its content hash."""
        p = ct.compliance_product
        row = self.conn.execute(
            select(p.c.version, p.c.content_hash).where(p.c.key == key).order_by(p.c.version.desc()).limit(1)
        ).first()
        return None if row is None else (int(row.version), str(row.content_hash))

    def product(self, key: str, version: int | None = None) -> ProductRow | None:
        """A technical file (the newest version unless ``version``)."""
        p = ct.compliance_product
        query = select(p.c.version, p.c.doc).where(p.c.key == key)
        query = query.where(p.c.version == version) if version else query.order_by(p.c.version.desc()).limit(1)
        row = self.conn.execute(query).first()
        return None if row is None else ProductRow(key, int(row.version), False, _file(row.doc))

    def latest_products(self) -> list[ProductRow]:
        """The newest version of every technical file, by key."""
        p = ct.compliance_product
        latest = select(p.c.key, func.max(p.c.version).label("v")).group_by(p.c.key).subquery()
        rows = self.conn.execute(
            select(p.c.key, p.c.version, p.c.doc)
            .join(latest, and_(p.c.key == latest.c.key, p.c.version == latest.c.v)).order_by(p.c.key)
        )
        return [ProductRow(r.key, int(r.version), False, _file(r.doc)) for r in rows]

    def missing_products(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` that name no stored technical file."""
        p = ct.compliance_product
        held = set(self.conn.execute(select(p.c.key).distinct().where(p.c.key.in_(list(set(keys))))).scalars())
        return [k for k in dict.fromkeys(keys) if k not in held]

    def add_product(self, tf: TechnicalFile, *, version: int, content_hash: str, actor: str) -> Subject:
        """Append ``tf`` as ``version`` of its key."""
        result = self.conn.execute(ct.compliance_product.insert().values(
            key=tf.key, version=version, name=tf.name, product_type=tf.product_type, doc=tf.canonical_json(),
            content_hash=content_hash, actor=actor, created_at=_now(),
        ))
        return Subject("compliance_product", "id", _id(result))

    # --- SBOMs ----------------------------------------------------------------------------------------
    def sbom(self, product_key: str, sha256: str) -> Subject | None:
        """The kept CycloneDX document of a product with that digest."""
        s = ct.compliance_sbom
        found = self.conn.execute(select(s.c.id).where(s.c.product_key == product_key, s.c.sha256 == sha256)).scalar()
        return None if found is None else Subject("compliance_sbom", "id", int(found))

    def add_sbom(self, product_key: str, raw: bytes, summary: BomSummary, *, actor: str) -> Subject:
        """Keep a CycloneDX document as imported."""
        result = self.conn.execute(ct.compliance_sbom.insert().values(
            product_key=product_key, sha256=summary.sha256, spec_version=summary.spec_version,
            serial_number=summary.serial_number, doc=raw.decode(), actor=actor, created_at=_now(),
        ))
        return Subject("compliance_sbom", "id", _id(result))

    # --- evidence -------------------------------------------------------------------------------------
    def evidence_with_digest(self, sha256: str) -> Subject | None:
        """The evidence item whose file has that SHA-256."""
        e = ct.compliance_evidence
        found = self.conn.execute(select(e.c.id).where(e.c.sha256 == sha256)).scalar()
        return None if found is None else Subject("compliance_evidence", "id", int(found))

    def add_evidence(self, ev: Evidence, *, actor: str) -> Subject:
        """Append an evidence item's metadata (links are rows of their own)."""
        doc = ev.model_dump(mode="json", exclude={"products", "requirements"})
        result = self.conn.execute(ct.compliance_evidence.insert().values(
            key=ev.key, sha256=ev.sha256, kind=ev.kind, issued_on=ev.issued_on.isoformat(),
            expires_on=ev.expires_on.isoformat() if ev.expires_on else None, doc=json.dumps(doc, sort_keys=True),
            actor=actor, created_at=_now(),
        ))
        return Subject("compliance_evidence", "id", _id(result))

    def evidence_links(self, evidence: Subject) -> set[tuple[str, str]]:
        """The (product key, requirement id) links of an evidence item."""
        link = ct.compliance_evidence_link
        rows = self.conn.execute(select(link.c.product_key, link.c.requirement_id).where(
            link.c.evidence_id == _row_id(evidence, "compliance_evidence")))
        return {(r.product_key, r.requirement_id) for r in rows}

    def add_evidence_link(self, evidence: Subject, product_key: str, requirement_id: str, *, actor: str) -> Subject:
        """Append one link of an evidence item."""
        result = self.conn.execute(ct.compliance_evidence_link.insert().values(
            evidence_id=_row_id(evidence, "compliance_evidence"), product_key=product_key,
            requirement_id=requirement_id, actor=actor, created_at=_now(),
        ))
        return Subject("compliance_evidence_link", "id", _id(result))

    def evidence(self, evidence: Subject) -> Evidence:
        """One stored evidence item with its links."""
        found = self._evidence_rows(ct.compliance_evidence.c.id == _row_id(evidence, "compliance_evidence"))
        if not found:
            raise LookupError(f"{evidence} is not stored")
        return found[0]

    def evidence_by_product(self, product_keys: Iterable[str] | None = None) -> dict[str, list[Evidence]]:
        """Evidence linked to ``product_keys`` (every item when None), grouped by product; each item parsed once."""
        wanted = set(product_keys) if product_keys is not None else None
        out: dict[str, list[Evidence]] = {}
        for ev in self._evidence_rows(products=sorted(wanted) if wanted is not None else None):
            for product_key in ev.products:
                if wanted is None or product_key in wanted:
                    out.setdefault(product_key, []).append(ev)
        return out

    def _evidence_rows(self, where: ColumnElement[bool] | None = None,
                       products: Sequence[str] | None = None) -> list[Evidence]:
        e, link = ct.compliance_evidence, ct.compliance_evidence_link
        query = select(e.c.id, e.c.doc)
        if products is not None:
            query = query.where(e.c.id.in_(select(link.c.evidence_id).where(link.c.product_key.in_(list(products)))))
        if where is not None:
            query = query.where(where)
        docs = {int(r.id): json.loads(r.doc) for r in self.conn.execute(query)}
        if not docs:
            return []
        links: dict[int, list[tuple[str, str]]] = {}
        lq = select(link.c.evidence_id, link.c.product_key, link.c.requirement_id)
        if where is not None or products is not None:
            lq = lq.where(link.c.evidence_id.in_(list(docs)))
        for r in self.conn.execute(lq):
            links.setdefault(int(r.evidence_id), []).append((r.product_key, r.requirement_id))
        out = []
        for eid, doc in docs.items():
            pairs = links.get(eid, [])
            doc["products"] = sorted({p for p, _ in pairs})
            doc["requirements"] = sorted({rid for _, rid in pairs if rid})
            out.append(Evidence.model_validate(doc))
        return out

    # --- assessments, actions, decisions --------------------------------------------------------------
    def last_assessment_version(self, product_key: str, market: str) -> int:
        """The newest stored version of a product's assessment in a market; 0 when none is stored."""
        t = ct.compliance_assessment
        last = self.conn.execute(select(func.max(t.c.version)).where(
            t.c.product_key == product_key, t.c.market == market)).scalar()
        return int(last or 0)

    def assessment(self, product_key: str, market: str, version: int | None = None) -> Assessment | None:
        """One stored assessment (the newest unless ``version``)."""
        t = ct.compliance_assessment
        query = select(t.c.doc).where(t.c.product_key == product_key, t.c.market == market)
        query = query.where(t.c.version == version) if version else query.order_by(t.c.version.desc()).limit(1)
        row = self.conn.execute(query).first()
        return None if row is None else Assessment.from_json(json.loads(row.doc))

    def assessment_history(self, product_key: str, market: str) -> list[dict[str, Any]]:
        """Every version of an assessment: version, day, pack version, status, who and when."""
        t = ct.compliance_assessment
        rows = self.conn.execute(
            select(t.c.version, t.c.on_date, t.c.pack_version, t.c.status, t.c.actor, t.c.created_at)
            .where(t.c.product_key == product_key, t.c.market == market).order_by(t.c.version))
        return [{"version": int(r.version), "on": r.on_date, "pack_version": r.pack_version, "status": r.status,
                 "actor": r.actor, "created_at": int(r.created_at)} for r in rows]

    def add_assessment(self, a: Assessment, *, product_version: int, actor: str) -> Subject:
        """Append a versioned assessment."""
        if a.version is None:
            raise ValueError(f"assessment of {a.product_key} in {a.market} has no version to store")
        result = self.conn.execute(ct.compliance_assessment.insert().values(
            product_key=a.product_key, market=a.market, version=a.version, on_date=a.on.isoformat(),
            pack_version=a.pack_version, product_version=product_version, status=a.status,
            doc=json.dumps(a.to_json(), sort_keys=True, default=str), content_hash=a.content_hash(),
            actor=actor, created_at=_now(),
        ))
        return Subject("compliance_assessment", "id", _id(result))

    def add_actions(self, assessment: Subject, items: Sequence[ActionItem]) -> Subject:
        """Append action items to a stored assessment; the subject names all of them."""
        assessment_id = _row_id(assessment, "compliance_assessment")
        for item in items:
            self.conn.execute(ct.compliance_action.insert().values(
                assessment_id=assessment_id, product_key=item.product_key, market=item.market,
                requirement_id=item.requirement_id, responsible_party=item.responsible_party,
                due_on=item.due_on.isoformat(), doc=json.dumps(item.to_json(), sort_keys=True), created_at=_now(),
            ))
        return Subject("compliance_action", "assessment_id", assessment_id)

    def actions(self, product_key: str | None = None, market: str | None = None) -> list[ActionItem]:
        """Recorded action items in the order they were recorded, each with its id."""
        t = ct.compliance_action
        query = select(t.c.id, t.c.doc).order_by(t.c.id)
        if product_key:
            query = query.where(t.c.product_key == product_key)
        if market:
            query = query.where(t.c.market == market)
        return [ActionItem.from_json(json.loads(r.doc), stored_id=int(r.id)) for r in self.conn.execute(query)]

    def add_decision(self, d: Decision) -> Subject:
        """Append a decision on the stored assessment version it names."""
        t = ct.compliance_assessment
        assessment_id = self.conn.execute(select(t.c.id).where(
            t.c.product_key == d.product_key, t.c.market == d.market, t.c.version == d.assessment_version)).scalar()
        if assessment_id is None:
            raise LookupError(f"assessment: no stored version {d.assessment_version} of {d.product_key} in {d.market}")
        result = self.conn.execute(ct.compliance_decision.insert().values(
            assessment_id=assessment_id, kind=d.kind, product_key=d.product_key, market=d.market,
            requirement_id=d.requirement_id, decided_by=d.decided_by, decided_at=d.decided_at,
            snapshot_hash=d.snapshot_hash, doc=json.dumps(d.to_json(), sort_keys=True), created_at=_now(),
        ))
        return Subject("compliance_decision", "id", _id(result))

    def decisions(self, product_key: str | None = None) -> list[dict[str, Any]]:
        """Recorded decisions (newest first) as JSON objects with their ids."""
        t = ct.compliance_decision
        query = select(t.c.id, t.c.doc).order_by(t.c.id.desc())
        if product_key:
            query = query.where(t.c.product_key == product_key)
        return [{**json.loads(r.doc), "id": int(r.id)} for r in self.conn.execute(query)]

    # --- ledger ---------------------------------------------------------------------------------------
    def rows_hash(self, subjects: Sequence[Subject]) -> str:
        """The content hash of the rows ``subjects`` name, as written in this transaction."""
        return ledger_store.rows_hash(self.conn, subjects)

    def append_ledger(self, draft: LedgerDraft) -> None:
        """Append ``draft`` to the ledger chain in this transaction."""
        ledger_store.append(self.conn, draft)
