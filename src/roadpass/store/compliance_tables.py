"""Compliance tables (technical files, SBOMs, evidence and its links, assessments, actions, decisions).

They register on the shared metadata of :mod:`roadpass.store.tables`. Every row is append-only: a product
change is a new ``compliance_product`` version, a re-assessment a new ``compliance_assessment`` version, so a
ledger entry's content hash never goes stale. Dates (assessment day, evidence validity, due dates) are ISO
``YYYY-MM-DD`` strings, which sort like dates on both databases; instants are integer microseconds (UTC).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = [
    "compliance_action",
    "compliance_assessment",
    "compliance_decision",
    "compliance_evidence",
    "compliance_evidence_link",
    "compliance_product",
    "compliance_sbom",
]

compliance_product = Table(
    "compliance_product",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key", String(100), nullable=False, comment="the technical file's key"),
    Column("version", Integer, nullable=False, comment="1, 2, ... : a change is a new version"),
    Column("name", String(300), nullable=False),
    Column("product_type", String(40), nullable=False),
    Column("doc", Text, nullable=False, comment="the technical file as canonical JSON"),
    Column("content_hash", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("key", "version"),
)

compliance_sbom = Table(
    "compliance_sbom",
    metadata,
    Column("id", PK, primary_key=True),
    Column("product_key", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("spec_version", String(10), nullable=False),
    Column("serial_number", String(100), nullable=True),
    Column("doc", Text, nullable=False, comment="the CycloneDX JSON document as imported"),
    Column("actor", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("product_key", "sha256"),
)

compliance_evidence = Table(
    "compliance_evidence",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key", String(100), nullable=False, unique=True),
    Column("sha256", String(64), nullable=False, unique=True, comment="the file's digest: stored once"),
    Column("kind", String(40), nullable=False),
    Column("issued_on", String(10), nullable=False),
    Column("expires_on", String(10), nullable=True),
    Column("doc", Text, nullable=False, comment="the evidence metadata as JSON"),
    Column("actor", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# An evidence item belongs to products and may be filed against requirements ("" = the product as a whole).
compliance_evidence_link = Table(
    "compliance_evidence_link",
    metadata,
    Column("id", PK, primary_key=True),
    Column("evidence_id", ForeignKey("compliance_evidence.id"), nullable=False),
    Column("product_key", String(100), nullable=False),
    Column("requirement_id", String(60), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # Named explicitly: the convention's name would pass PostgreSQL's 63-character identifier limit.
    UniqueConstraint("evidence_id", "product_key", "requirement_id", name="uq_compliance_evidence_link_target"),
    Index("ix_compliance_evidence_link_product_key", "product_key"),
)

compliance_assessment = Table(
    "compliance_assessment",
    metadata,
    Column("id", PK, primary_key=True),
    Column("product_key", String(100), nullable=False),
    Column("market", String(2), nullable=False),
    Column("version", Integer, nullable=False),
    Column("on_date", String(10), nullable=False),
    Column("pack_version", String(20), nullable=False),
    Column("product_version", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("doc", Text, nullable=False, comment="the assessment as JSON, every requirement's result and reason"),
    Column("content_hash", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("product_key", "market", "version"),
)

compliance_action = Table(
    "compliance_action",
    metadata,
    Column("id", PK, primary_key=True),
    Column("assessment_id", ForeignKey("compliance_assessment.id"), nullable=False),
    Column("product_key", String(100), nullable=False),
    Column("market", String(2), nullable=False),
    Column("requirement_id", String(60), nullable=False),
    Column("responsible_party", String(200), nullable=False),
    Column("due_on", String(10), nullable=False),
    Column("doc", Text, nullable=False, comment="the action item as JSON (RACI, reason)"),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_compliance_action_product_key", "product_key", "market", "requirement_id"),
    Index("ix_compliance_action_assessment_id", "assessment_id"),
)

compliance_decision = Table(
    "compliance_decision",
    metadata,
    Column("id", PK, primary_key=True),
    Column("assessment_id", ForeignKey("compliance_assessment.id"), nullable=False),
    Column("kind", String(20), nullable=False, comment="approval or risk_acceptance"),
    Column("product_key", String(100), nullable=False),
    Column("market", String(2), nullable=False),
    Column("requirement_id", String(60), nullable=True),
    Column("decided_by", String(200), nullable=False),
    Column("decided_at", String(40), nullable=False),
    Column("snapshot_hash", String(64), nullable=False),
    Column("doc", Text, nullable=False, comment="rationale, validity and the snapshot decided on (JSON)"),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_compliance_decision_product_key", "product_key", "market"),
)

LEDGERED_COLUMNS["compliance_product"] = (
    "id", "key", "version", "name", "product_type", "doc", "content_hash", "actor",
)
LEDGERED_COLUMNS["compliance_sbom"] = ("id", "product_key", "sha256", "spec_version", "serial_number", "doc", "actor")
LEDGERED_COLUMNS["compliance_evidence"] = ("id", "key", "sha256", "kind", "issued_on", "expires_on", "doc", "actor")
LEDGERED_COLUMNS["compliance_evidence_link"] = ("id", "evidence_id", "product_key", "requirement_id", "actor")
LEDGERED_COLUMNS["compliance_assessment"] = (
    "id", "product_key", "market", "version", "on_date", "pack_version", "product_version", "status", "doc",
    "content_hash", "actor",
)
LEDGERED_COLUMNS["compliance_action"] = (
    "id", "assessment_id", "product_key", "market", "requirement_id", "responsible_party", "due_on", "doc",
)
LEDGERED_COLUMNS["compliance_decision"] = (
    "id", "assessment_id", "kind", "product_key", "market", "requirement_id", "decided_by", "decided_at",
    "snapshot_hash", "doc",
)
