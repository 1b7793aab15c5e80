"""What a compliance write keeps, decided before the store persists it, and what its ledger entry names.

Everything is append-only: a changed technical file becomes the next version and an unchanged one is not
stored again; an evidence file is stored once per SHA-256 and later imports only add the links it lacks; an
SBOM is kept once per product and digest; every assessment of a product in a market is the next version and
opens action items only for gaps the previous version did not already show. Each write appends one ledger
entry whose subjects are exactly the rows it wrote, so a later write never changes what an entry fixed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from roadpass.compliance.actions import ActionItem, Decision
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.ports import ComplianceRecords
from roadpass.compliance.product import BomSummary, ProductRow, TechnicalFile
from roadpass.compliance.results import Assessment
from roadpass.ledger import LedgerDraft, Subject

__all__ = [
    "RULE", "fresh_gaps", "missing_links", "next_version", "record_assessment", "record_decision",
    "record_evidence", "record_product", "record_sbom",
]

#: The rule every compliance ledger entry cites.
RULE = "roadpass compliance (technical files, evidence, assessments)"


def next_version(latest: tuple[int, str] | None, content_hash: str) -> int | None:
    """The version a file with ``content_hash`` becomes after ``latest`` (version, hash); None if unchanged."""
    if latest is None:
        return 1
    version, stored_hash = latest
    return None if stored_hash == content_hash else version + 1


def missing_links(ev: Evidence, existing: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (product, requirement) links ``ev`` asks for that are not held yet, in a stable order.

    Each product gets a link to the product as a whole (requirement "") and one per requirement named.
    """
    held = set(existing)
    wanted = [(p, "") for p in ev.products] + [(p, rid) for p in ev.products for rid in ev.requirements]
    return [link for link in dict.fromkeys(wanted) if link not in held]


def fresh_gaps(actions: Sequence[ActionItem], previous: Assessment | None) -> list[ActionItem]:
    """The action items for gaps (and requirements to confirm) that ``previous`` (the prior version) did not
    show: an open gap keeps its item."""
    old = {(r.requirement_id, r.status) for r in previous.results} if previous is not None else set()
    return [item for item in actions if (item.requirement_id, item.kind) not in old]


def _ledger(records: ComplianceRecords, actor: str, action: str, subjects: Sequence[Subject]) -> None:
    records.append_ledger(LedgerDraft(actor, action, RULE, tuple(subjects), records.rows_hash(subjects)))


def record_product(records: ComplianceRecords, tf: TechnicalFile, *, actor: str) -> ProductRow:
    """Keep ``tf`` as the next version of its key unless the newest version has the same content."""
    digest = tf.content_hash()
    latest = records.latest_version(tf.key)
    version = next_version(latest, digest)
    if version is None:
        assert latest is not None
        return ProductRow(tf.key, latest[0], False, tf)
    row = records.add_product(tf, version=version, content_hash=digest, actor=actor)
    _ledger(records, actor, "compliance.product.version", [row])
    return ProductRow(tf.key, version, True, tf)


def record_sbom(records: ComplianceRecords, product_key: str, raw: bytes, summary: BomSummary, *,
                actor: str) -> None:
    """Keep a CycloneDX document as imported, once per product and digest."""
    if records.sbom(product_key, summary.sha256) is not None:
        return
    row = records.add_sbom(product_key, raw, summary, actor=actor)
    _ledger(records, actor, "compliance.sbom.import", [row])


def record_evidence(records: ComplianceRecords, ev: Evidence, *, actor: str) -> tuple[Evidence, bool]:
    """Keep an evidence item once (by file digest) and add the product and requirement links it lacks.

    Returns the item as stored, with all its links, and whether it was new. The item and its new links are
    two ledger entries; the links entry has one subject per new link row.
    """
    row = records.evidence_with_digest(ev.sha256)
    created = row is None
    if row is None:
        row = records.add_evidence(ev, actor=actor)
        _ledger(records, actor, "compliance.evidence.add", [row])
    new = missing_links(ev, records.evidence_links(row))
    if new:
        links = [records.add_evidence_link(row, product, rid, actor=actor) for product, rid in new]
        _ledger(records, actor, "compliance.evidence.link", links)
    return records.evidence(row), created


def record_assessment(records: ComplianceRecords, a: Assessment, *, product_version: int,
                      actions: Sequence[ActionItem], actor: str, now: dt.datetime | None = None) -> Assessment:
    """Keep ``a`` as the next version for its product and market, with action items for fresh gaps."""
    version = records.last_assessment_version(a.product_key, a.market) + 1
    previous = records.assessment(a.product_key, a.market) if version > 1 else None
    stamp = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    stored = dataclasses.replace(a, version=version, assessed_at=stamp)
    row = records.add_assessment(stored, product_version=product_version, actor=actor)
    subjects = [row]
    fresh = [dataclasses.replace(item, assessment_version=version) for item in fresh_gaps(actions, previous)]
    if fresh:
        subjects.append(records.add_actions(row, fresh))
    _ledger(records, actor, "compliance.assessment.record", subjects)
    return stored


def record_decision(records: ComplianceRecords, d: Decision, *, actor: str) -> Decision:
    """Keep an approval or risk acceptance; returned with its id."""
    row = records.add_decision(d)
    _ledger(records, actor, f"compliance.decision.{d.kind}", [row])
    return dataclasses.replace(d, id=int(row.value))
