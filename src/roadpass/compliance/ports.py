"""What the compliance service needs from persistence (implemented by :mod:`roadpass.store.compliance`).

The records object reads and appends rows inside one transaction; it decides nothing. Whether a file is a
new version, whether evidence is already held and what a ledger entry names are decided in
:mod:`roadpass.compliance.recording`. A write method returns the ledger :class:`Subject` naming the row (or
rows) it wrote; that subject is also how a later call refers to the row (an SBOM, evidence item or assessment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from roadpass.compliance.actions import ActionItem, Decision
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.product import BomSummary, ProductRow, TechnicalFile
from roadpass.compliance.results import Assessment
from roadpass.ledger import LedgerDraft, Subject

__all__ = ["ComplianceRecords", "EvidenceSource"]


class ComplianceRecords(Protocol):
    """The compliance rows (technical files, SBOMs, evidence, assessments, actions, decisions) in one transaction."""

    # --- technical files ------------------------------------------------------------------------------
    def latest_version(self, key: str) -> tuple[int, str] | None:
        """The newest stored version of a technical file and its content hash; None when none is stored."""
        ...

    def product(self, key: str, version: int | None = None) -> ProductRow | None:
        """A stored technical file (the newest version unless ``version``)."""
        ...

    def latest_products(self) -> list[ProductRow]:
        """The newest version of every technical file, by key."""
        ...

    def missing_products(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` that name no stored technical file, in the order given."""
        ...

    def add_product(self, tf: TechnicalFile, *, version: int, content_hash: str, actor: str) -> Subject:
        """Append ``tf`` as ``version`` of its key."""
        ...

    # --- SBOMs ----------------------------------------------------------------------------------------
    def sbom(self, product_key: str, sha256: str) -> Subject | None:
        """The kept CycloneDX document of a product with that digest, if any."""
        ...

    def add_sbom(self, product_key: str, raw: bytes, summary: BomSummary, *, actor: str) -> Subject:
        """Keep a CycloneDX document as imported."""
        ...

    # --- evidence -------------------------------------------------------------------------------------
    def evidence_with_digest(self, sha256: str) -> Subject | None:
        """The evidence item whose file has that SHA-256, if any."""
        ...

    def add_evidence(self, ev: Evidence, *, actor: str) -> Subject:
        """Append an evidence item's metadata (without its links)."""
        ...

    def evidence_links(self, evidence: Subject) -> set[tuple[str, str]]:
        """The (product key, requirement id) links of an evidence item (requirement "" = the whole product)."""
        ...

    def add_evidence_link(self, evidence: Subject, product_key: str, requirement_id: str, *, actor: str) -> Subject:
        """Append one link of an evidence item."""
        ...

    def evidence(self, evidence: Subject) -> Evidence:
        """One stored evidence item with its links."""
        ...

    def evidence_by_product(self, product_keys: Iterable[str] | None = None) -> dict[str, list[Evidence]]:
        """Evidence linked to ``product_keys`` (every item when None), grouped by product."""
        ...

    # --- assessments, actions, decisions --------------------------------------------------------------
    def last_assessment_version(self, product_key: str, market: str) -> int:
        """The newest stored version of a product's assessment in a market; 0 when none is stored."""
        ...

    def assessment(self, product_key: str, market: str, version: int | None = None) -> Assessment | None:
        """A stored assessment (the newest version unless ``version``)."""
        ...

    def assessment_history(self, product_key: str, market: str) -> list[dict[str, Any]]:
        """Every stored version, oldest first: version, day, pack version, status, who and when."""
        ...

    def add_assessment(self, a: Assessment, *, product_version: int, actor: str) -> Subject:
        """Append a versioned assessment (``a.version`` is set), made from ``product_version`` of the file."""
        ...

    def add_actions(self, assessment: Subject, items: Sequence[ActionItem]) -> Subject:
        """Append action items to a stored assessment; the subject names all of them."""
        ...

    def actions(self, product_key: str | None = None, market: str | None = None) -> list[ActionItem]:
        """Recorded action items in the order they were recorded, each with its id."""
        ...

    def add_decision(self, d: Decision) -> Subject:
        """Append a decision on the stored assessment version it names (LookupError if there is none)."""
        ...

    def decisions(self, product_key: str | None = None) -> list[dict[str, Any]]:
        """Recorded decisions as JSON objects with their ids, newest first."""
        ...

    # --- ledger ---------------------------------------------------------------------------------------
    def rows_hash(self, subjects: Sequence[Subject]) -> str:
        """The content hash of the rows ``subjects`` name, as written in this transaction."""
        ...

    def append_ledger(self, draft: LedgerDraft) -> None:
        """Append ``draft`` to the ledger chain in this transaction."""
        ...


class EvidenceSource(Protocol):
    """Evidence another feature derives from its own records instead of a hand-made document (e.g. the UN R156
    RXSWIN and software-update record per vehicle type, from the software-update feature). Items are plain
    mappings in :class:`~roadpass.compliance.evidence.Evidence`'s fields; they are not stored, they are derived
    again at each assessment."""

    def evidence_for(self, product_key: str, on: dt.date) -> list[Mapping[str, Any]]:
        """Evidence items for the technical file ``product_key`` as of ``on``."""
        ...
