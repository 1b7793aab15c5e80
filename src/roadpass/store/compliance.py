"""Compliance rows: technical files, SBOMs, evidence and links, assessment versions, actions, decisions.

Helpers run inside the caller's transaction (never commit) and append one ledger entry per write, whose
subjects are the rows written and whose content hash is recomputed from them (roadpass.store.ledger).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, select

import roadpass.store.compliance_tables as ct
from roadpass.compliance.actions import ActionItem, Decision
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.product import TechnicalFile
from roadpass.compliance.results import Assessment
from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import ledger as ledger_store

__all__ = [
    "ProductRow", "action_items", "assessment_history", "decisions", "evidence_by_product", "get_assessment",
    "get_evidence", "get_product", "latest_assessments", "latest_products", "save_assessment", "save_decision",
    "save_evidence", "save_product", "save_sbom",
]

RULE = "roadpass compliance (technical files, evidence, assessments)"


def _now() -> int:
    return time.time_ns() // 1000


def _ledger(conn: Connection, actor: str, action: str, *subjects: Subject) -> None:
    ledger_store.append(conn, LedgerDraft(actor, action, RULE, subjects, ledger_store.rows_hash(conn, subjects)))


def _id(result: Any) -> int:
    return int(result.inserted_primary_key[0])


@dataclass(frozen=True, slots=True)
class ProductRow:
    """A stored technical file version."""

    key: str
    version: int
    created: bool
    file: TechnicalFile


def save_product(conn: Connection, tf: TechnicalFile, *, actor: str) -> ProductRow:
    """Store ``tf`` as a new version unless the latest version has the same content."""
    p = ct.compliance_product
    digest = tf.content_hash()
    latest = conn.execute(
        select(p.c.version, p.c.content_hash).where(p.c.key == tf.key).order_by(p.c.version.desc()).limit(1)
    ).first()
    if latest is not None and latest.content_hash == digest:
        return ProductRow(tf.key, int(latest.version), False, tf)
    version = 1 if latest is None else int(latest.version) + 1
    result = conn.execute(p.insert().values(
        key=tf.key, version=version, name=tf.name, product_type=tf.product_type, doc=tf.canonical_json(),
        content_hash=digest, actor=actor, created_at=_now(),
    ))
    _ledger(conn, actor, "compliance.product.version", Subject("compliance_product", "id", _id(result)))
    return ProductRow(tf.key, version, True, tf)


def _file(doc: str) -> TechnicalFile:
    return TechnicalFile.model_validate_json(doc)


def get_product(conn: Connection, key: str, version: int | None = None) -> ProductRow | None:
    """A technical file (latest version unless ``version``)."""
    p = ct.compliance_product
    query = select(p.c.version, p.c.doc).where(p.c.key == key)
    query = query.where(p.c.version == version) if version else query.order_by(p.c.version.desc()).limit(1)
    row = conn.execute(query).first()
    return None if row is None else ProductRow(key, int(row.version), False, _file(row.doc))


def latest_products(conn: Connection) -> list[ProductRow]:
    """The latest version of every technical file, by key."""
    p = ct.compliance_product
    latest = select(p.c.key, func.max(p.c.version).label("v")).group_by(p.c.key).subquery()
    rows = conn.execute(
        select(p.c.key, p.c.version, p.c.doc)
        .join(latest, and_(p.c.key == latest.c.key, p.c.version == latest.c.v)).order_by(p.c.key)
    )
    return [ProductRow(r.key, int(r.version), False, _file(r.doc)) for r in rows]


def save_sbom(conn: Connection, product_key: str, raw: bytes, *, sha256: str, spec_version: str,
              serial_number: str | None, actor: str) -> int:
    """Keep the CycloneDX document as imported (once per product and digest)."""
    s = ct.compliance_sbom
    found = conn.execute(select(s.c.id).where(s.c.product_key == product_key, s.c.sha256 == sha256)).scalar()
    if found is not None:
        return int(found)
    result = conn.execute(s.insert().values(
        product_key=product_key, sha256=sha256, spec_version=spec_version, serial_number=serial_number,
        doc=raw.decode(), actor=actor, created_at=_now(),
    ))
    _ledger(conn, actor, "compliance.sbom.import", Subject("compliance_sbom", "id", _id(result)))
    return _id(result)


def save_evidence(conn: Connection, ev: Evidence, *, actor: str) -> tuple[Evidence, bool]:
    """Store an evidence item once (by file digest) and link it to its products and requirements."""
    e, link = ct.compliance_evidence, ct.compliance_evidence_link
    row = conn.execute(select(e.c.id, e.c.doc).where(e.c.sha256 == ev.sha256)).first()
    created = row is None
    if row is None:
        doc = ev.model_dump(mode="json", exclude={"products", "requirements"})
        result = conn.execute(e.insert().values(
            key=ev.key, sha256=ev.sha256, kind=ev.kind, issued_on=ev.issued_on.isoformat(),
            expires_on=ev.expires_on.isoformat() if ev.expires_on else None, doc=json.dumps(doc, sort_keys=True),
            actor=actor, created_at=_now(),
        ))
        evidence_id = _id(result)
        _ledger(conn, actor, "compliance.evidence.add", Subject("compliance_evidence", "id", evidence_id))
    else:
        evidence_id = int(row.id)
    existing = {(r.product_key, r.requirement_id) for r in conn.execute(
        select(link.c.product_key, link.c.requirement_id).where(link.c.evidence_id == evidence_id))}
    wanted = [(p, "") for p in ev.products] + [(p, rid) for p in ev.products for rid in ev.requirements]
    new = [w for w in dict.fromkeys(wanted) if w not in existing]
    if new:
        # One subject per new link row: later links of the same evidence must not change what this entry fixed.
        subjects = [
            Subject("compliance_evidence_link", "id", _id(conn.execute(link.insert().values(
                evidence_id=evidence_id, product_key=product_key, requirement_id=rid, actor=actor, created_at=_now()))))
            for product_key, rid in new
        ]
        _ledger(conn, actor, "compliance.evidence.link", *subjects)
    stored = get_evidence(conn, None, evidence_id=evidence_id)
    assert stored is not None
    return stored, created


def _evidence_rows(conn: Connection, where: Any = None, products: Sequence[str] | None = None) -> list[Evidence]:
    e, link = ct.compliance_evidence, ct.compliance_evidence_link
    query = select(e.c.id, e.c.doc)
    if products is not None:
        linked = select(link.c.evidence_id).where(link.c.product_key.in_(list(products)))
        query = query.where(e.c.id.in_(linked))
    if where is not None:
        query = query.where(where)
    docs = {int(r.id): json.loads(r.doc) for r in conn.execute(query)}
    if not docs:
        return []
    links: dict[int, list[tuple[str, str]]] = {}
    lq = select(link.c.evidence_id, link.c.product_key, link.c.requirement_id)
    if where is not None or products is not None:
        lq = lq.where(link.c.evidence_id.in_(list(docs)))
    for r in conn.execute(lq):
        links.setdefault(int(r.evidence_id), []).append((r.product_key, r.requirement_id))
    out = []
    for eid, doc in docs.items():
        pairs = links.get(eid, [])
        doc["products"] = sorted({p for p, _ in pairs})
        doc["requirements"] = sorted({rid for _, rid in pairs if rid})
        out.append(Evidence.model_validate(doc))
    return out


def get_evidence(conn: Connection, key: str | None, *, evidence_id: int | None = None) -> Evidence | None:
    """One evidence item by key (or id), with its links."""
    e = ct.compliance_evidence
    found = _evidence_rows(conn, e.c.id == evidence_id if evidence_id is not None else e.c.key == key)
    return found[0] if found else None


def evidence_by_product(conn: Connection, product_keys: Iterable[str] | None = None) -> dict[str, list[Evidence]]:
    """Every evidence item, grouped by the products it is linked to (each item parsed once)."""
    wanted = set(product_keys) if product_keys is not None else None
    out: dict[str, list[Evidence]] = {}
    for ev in _evidence_rows(conn, products=sorted(wanted) if wanted is not None else None):
        for product_key in ev.products:
            if wanted is None or product_key in wanted:
                out.setdefault(product_key, []).append(ev)
    return out


def save_assessment(
    conn: Connection, a: Assessment, *, product_version: int, actions: Sequence[ActionItem], actor: str
) -> Assessment:
    """Append ``a`` as the next version for its product and market, with action items for new gaps."""
    t = ct.compliance_assessment
    last = conn.execute(select(func.max(t.c.version)).where(
        t.c.product_key == a.product_key, t.c.market == a.market)).scalar()
    version = int(last or 0) + 1
    previous = get_assessment(conn, a.product_key, a.market) if last else None
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    stored = Assessment(a.product_key, a.product_name, a.market, a.pack_version, a.on, a.window_days, a.results,
                        a.attributes, a.product_hash, a.evidence_state, version, stamp)
    result = conn.execute(t.insert().values(
        product_key=a.product_key, market=a.market, version=version, on_date=a.on.isoformat(),
        pack_version=a.pack_version, product_version=product_version, status=stored.status,
        doc=json.dumps(stored.to_json(), sort_keys=True, default=str), content_hash=stored.content_hash(),
        actor=actor, created_at=_now(),
    ))
    assessment_id = _id(result)
    old_gaps = {r.requirement_id for r in previous.results if r.status == "gap"} if previous else set()
    subjects = [Subject("compliance_assessment", "id", assessment_id)]
    new_actions = [x for x in actions if x.requirement_id not in old_gaps]
    for item in new_actions:
        doc = {**item.to_json(), "assessment_version": version}
        conn.execute(ct.compliance_action.insert().values(
            assessment_id=assessment_id, product_key=item.product_key, market=item.market,
            requirement_id=item.requirement_id, responsible_party=item.responsible_party,
            due_on=item.due_on.isoformat(), doc=json.dumps(doc, sort_keys=True), created_at=_now(),
        ))
    if new_actions:
        subjects.append(Subject("compliance_action", "assessment_id", assessment_id))
    _ledger(conn, actor, "compliance.assessment.record", *subjects)
    return stored


def _assessment(row: Any) -> Assessment:
    return Assessment.from_json(json.loads(row.doc))


def get_assessment(conn: Connection, product_key: str, market: str, version: int | None = None) -> Assessment | None:
    """One stored assessment (the latest unless ``version``)."""
    t = ct.compliance_assessment
    query = select(t.c.doc).where(t.c.product_key == product_key, t.c.market == market)
    query = query.where(t.c.version == version) if version else query.order_by(t.c.version.desc()).limit(1)
    row = conn.execute(query).first()
    return None if row is None else _assessment(row)


def assessment_history(conn: Connection, product_key: str, market: str) -> list[dict[str, Any]]:
    """Every version of an assessment: version, day, pack version, status, who and when."""
    t = ct.compliance_assessment
    rows = conn.execute(select(t.c.version, t.c.on_date, t.c.pack_version, t.c.status, t.c.actor, t.c.created_at)
                        .where(t.c.product_key == product_key, t.c.market == market).order_by(t.c.version))
    return [{"version": int(r.version), "on": r.on_date, "pack_version": r.pack_version, "status": r.status,
             "actor": r.actor, "created_at": int(r.created_at)} for r in rows]


def latest_assessments(conn: Connection) -> dict[tuple[str, str], Assessment]:
    """The latest stored assessment of every product and market."""
    t = ct.compliance_assessment
    latest = select(t.c.product_key, t.c.market, func.max(t.c.version).label("v")).group_by(
        t.c.product_key, t.c.market).subquery()
    rows = conn.execute(select(t.c.doc).join(latest, and_(
        t.c.product_key == latest.c.product_key, t.c.market == latest.c.market, t.c.version == latest.c.v)))
    out = {}
    for row in rows:
        a = _assessment(row)
        out[(a.product_key, a.market)] = a
    return out


def action_items(conn: Connection, product_key: str | None = None, market: str | None = None) -> list[ActionItem]:
    """Action items, each ``open`` while the latest assessment still shows the gap, else ``closed``."""
    t = ct.compliance_action
    query = select(t.c.id, t.c.doc).order_by(t.c.id)
    if product_key:
        query = query.where(t.c.product_key == product_key)
    if market:
        query = query.where(t.c.market == market)
    latest: dict[tuple[str, str], Assessment | None] = {}
    out = []
    for row in conn.execute(query).all():
        d = json.loads(row.doc)
        pair = (d["product"], d["market"])
        if pair not in latest:
            latest[pair] = get_assessment(conn, *pair)
        current = latest[pair]
        still = current is not None and any(
            r.requirement_id == d["requirement"] and r.status == "gap" for r in current.results)
        raci = d["raci"]
        out.append(ActionItem(
            d["product"], d["market"], d["requirement"], d["title"], d["severity"], raci["responsible_party"],
            raci["responsible_person"], raci["accountable"], tuple(raci["consulted"]), tuple(raci["informed"]),
            dt.date.fromisoformat(d["due_on"]), d["reason"], d.get("assessment_version"),
            "open" if still else "closed", int(row.id),
        ))
    return out


def save_decision(conn: Connection, d: Decision, *, actor: str) -> Decision:
    """Record an approval or risk acceptance against the stored assessment version it snapshots."""
    t = ct.compliance_assessment
    assessment_id = conn.execute(select(t.c.id).where(
        t.c.product_key == d.product_key, t.c.market == d.market, t.c.version == d.assessment_version)).scalar()
    if assessment_id is None:
        raise ValueError(f"assessment: no stored version {d.assessment_version} of {d.product_key} in {d.market}")
    doc = d.to_json()
    result = conn.execute(ct.compliance_decision.insert().values(
        assessment_id=assessment_id, kind=d.kind, product_key=d.product_key, market=d.market,
        requirement_id=d.requirement_id, decided_by=d.decided_by, decided_at=d.decided_at,
        snapshot_hash=d.snapshot_hash, doc=json.dumps(doc, sort_keys=True), created_at=_now(),
    ))
    decision_id = _id(result)
    _ledger(conn, actor, f"compliance.decision.{d.kind}", Subject("compliance_decision", "id", decision_id))
    return Decision(d.kind, d.product_key, d.market, d.requirement_id, d.decided_by, d.decided_at, d.rationale,
                    d.assessment_version, d.snapshot, d.snapshot_hash, d.valid_until, decision_id)


def decisions(conn: Connection, product_key: str | None = None) -> list[dict[str, Any]]:
    """Recorded decisions (newest first) as JSON objects."""
    t = ct.compliance_decision
    query = select(t.c.id, t.c.doc).order_by(t.c.id.desc())
    if product_key:
        query = query.where(t.c.product_key == product_key)
    return [{**json.loads(r.doc), "id": int(r.id)} for r in conn.execute(query)]
