"""ComplianceService: the compliance use cases (what the API, CLI and web call).

Reads run in read transactions; every write runs in one write transaction, through
:mod:`roadpass.compliance.recording` (which decides versions, duplicates and ledger entries) and the
records port (:mod:`roadpass.compliance.ports`). The regulation pack library is loaded once per process, on
first use (never at import).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from roadpass.compliance.actions import ActionItem, Decision, DecisionKind, actions_for, make_decision
from roadpass.compliance.assess import Assessor
from roadpass.compliance.connected_vehicle import ConnectedVehicleFinding, check_connected_vehicle
from roadpass.compliance.diff import AssessmentDiff, diff_assessments
from roadpass.compliance.evidence import Evidence, evidence_key, parse_evidence, sha256_of
from roadpass.compliance.export_ciso import dump_yaml, framework_library, mapping_libraries
from roadpass.compliance.export_oscal import assessment_results
from roadpass.compliance.matrix import Matrix, build_matrix, held_with_components
from roadpass.compliance.packs_loader import PackLibrary, diff_packs, load_library
from roadpass.compliance.planner import Plan, plan
from roadpass.compliance.ports import ComplianceRecords, EvidenceSource
from roadpass.compliance.product import (
    ProductError,
    ProductRow,
    TechnicalFile,
    parse_technical_file,
    read_cyclonedx,
)
from roadpass.compliance.recording import (
    record_assessment,
    record_decision,
    record_evidence,
    record_product,
    record_sbom,
)
from roadpass.compliance.report import html_report, pdf_report
from roadpass.compliance.results import Assessment
from roadpass.compliance.sources import DEFAULT_STALE_AFTER_DAYS, SourcesReport, sources_report
from roadpass.ports import Transactions

__all__ = ["ComplianceService", "NotFound", "default_library"]


class NotFound(LookupError):
    """A product, assessment or evidence item that does not exist (the message names it)."""


@functools.lru_cache(maxsize=1)
def default_library() -> PackLibrary:
    """The shipped regulation packs, loaded and validated once per process."""
    return load_library()


class ComplianceService:
    """Technical files, evidence, assessments, plans, decisions and exports for one database."""

    def __init__(self, records: Transactions[ComplianceRecords], *, library: PackLibrary | None = None,
                 window_days: int = 90, actor: str = "roadpass") -> None:
        self.records = records
        self._library = library
        self.window_days = window_days
        self.actor = actor
        self._assessors: dict[bool, Assessor] = {}
        # Evidence other features derive from their records (bootstrap appends them): an assessment takes it
        # as it takes stored evidence, so what the records already prove needs no hand-made document.
        self.evidence_sources: list[EvidenceSource] = []

    @property
    def library(self) -> PackLibrary:
        """The pack library in use."""
        if self._library is None:
            self._library = default_library()
        return self._library

    def assessor(self, *, include_proposed: bool = False) -> Assessor:
        """The assessor (per-market caches live as long as the service)."""
        if include_proposed not in self._assessors:
            self._assessors[include_proposed] = Assessor(
                self.library, window_days=self.window_days, include_proposed=include_proposed)
        return self._assessors[include_proposed]

    # --- products -------------------------------------------------------------------------------------
    def import_product(self, raw: bytes | str | Mapping[str, Any], *, actor: str | None = None) -> ProductRow:
        """Import a technical file (YAML/JSON); a changed file becomes a new version."""
        tf = parse_technical_file(raw)
        unknown = [(f"/markets/{i}/market", f"no regulation pack for market {t.market}")
                   for i, t in enumerate(tf.markets) if t.market not in self.library.packs]
        if unknown:
            raise ProductError(unknown)
        with self.records.write() as records:
            return record_product(records, tf, actor=actor or self.actor)

    def products(self) -> list[ProductRow]:
        """The latest version of every technical file."""
        with self.records.read() as records:
            return records.latest_products()

    def product(self, key: str, version: int | None = None) -> ProductRow:
        """One technical file, or :class:`NotFound`."""
        with self.records.read() as records:
            row = records.product(key, version)
        if row is None:
            raise NotFound(f"product {key!r} not found")
        return row

    def import_sbom(self, product_key: str, raw: bytes, *, actor: str | None = None) -> ProductRow:
        """Attach a CycloneDX SBOM/HBOM to a product: the document is kept and the file gets a new version."""
        summary = read_cyclonedx(raw)
        who = actor or self.actor
        with self.records.write() as records:
            current = records.product(product_key)
            if current is None:
                raise NotFound(f"product {product_key!r} not found")
            record_sbom(records, product_key, raw, summary, actor=who)
            return record_product(records, current.file.model_copy(update={"sbom": summary}), actor=who)

    # --- evidence -------------------------------------------------------------------------------------
    def add_evidence(self, meta: Mapping[str, Any], data: bytes | None = None, *,
                     actor: str | None = None) -> tuple[Evidence, bool]:
        """Store an evidence item once (by the SHA-256 of ``data`` or ``meta['sha256']``) and link it."""
        fields = dict(meta)
        if data is not None:
            fields["sha256"] = sha256_of(data)
        if "key" not in fields and "sha256" in fields:
            fields["key"] = evidence_key(str(fields["sha256"]))
        ev = parse_evidence(fields)
        with self.records.write() as records:
            missing = records.missing_products(ev.products)
            if missing:
                raise NotFound(f"product {missing[0]!r} not found (evidence {ev.key})")
            return record_evidence(records, ev, actor=actor or self.actor)

    def evidence(self, product_key: str | None = None) -> list[Evidence]:
        """Evidence held for a product (or all evidence)."""
        with self.records.read() as records:
            grouped = records.evidence_by_product([product_key] if product_key else None)
        if product_key:
            return grouped.get(product_key, [])
        return list({e.key: e for items in grouped.values() for e in items}.values())

    # --- assessment -----------------------------------------------------------------------------------
    @staticmethod
    def _subfiles(records: ComplianceRecords, tf: TechnicalFile) -> dict[str, TechnicalFile]:
        """The stored technical files of ``tf``'s components, and of theirs, by key."""
        out: dict[str, TechnicalFile] = {}
        queue = [c.technical_file for c in tf.components if c.technical_file]
        while queue:
            key = queue.pop()
            if key in out or key == tf.key or key is None:
                continue
            row = records.product(key)
            if row is not None:
                out[key] = row.file
                queue += [c.technical_file for c in row.file.components if c.technical_file]
        return out

    def _with_derived(self, grouped: dict[str, list[Evidence]], keys: Sequence[str],
                      on: dt.date) -> dict[str, list[Evidence]]:
        """``grouped`` (evidence by product) with the items the :attr:`evidence_sources` derive for ``keys``."""
        for key in keys:
            derived = [parse_evidence(raw) for source in self.evidence_sources for raw in source.evidence_for(key, on)]
            if derived:
                grouped[key] = [*grouped.get(key, []), *derived]
        return grouped

    def _held(self, product_key: str, on: dt.date | None = None
              ) -> tuple[ProductRow, dict[str, TechnicalFile], list[Evidence]]:
        """A product's latest file, its component files and the evidence it holds (its components' too,
        and what the evidence sources derive as of ``on``, default today)."""
        with self.records.read() as records:
            row = records.product(product_key)
            if row is None:
                raise NotFound(f"product {product_key!r} not found")
            subfiles = self._subfiles(records, row.file)
            grouped = records.evidence_by_product([product_key, *subfiles])
        grouped = self._with_derived(grouped, [product_key, *subfiles], on or dt.date.today())
        return row, subfiles, held_with_components(row.file, grouped, subfiles)

    def assess(self, product_key: str, market: str, on: dt.date | None = None, *, record: bool = True,
               include_proposed: bool = False, actor: str | None = None) -> Assessment:
        """Assess a product in a market on ``on`` (today by default); recorded as a new version by default."""
        day = on or dt.date.today()
        assessor = self.assessor(include_proposed=include_proposed)
        if market not in self.library.packs:
            raise NotFound(f"no regulation pack for market {market!r}")
        row, subfiles, held = self._held(product_key, day)
        result = assessor.assess(row.file, market, on=day, evidence=held, subfiles=subfiles)
        if not record:
            return result
        with self.records.write() as records:
            return record_assessment(records, result, product_version=row.version,
                                     actions=actions_for(result, row.file), actor=actor or self.actor)

    def matrix(self, on: dt.date | None = None, *, markets: Sequence[str] | None = None,
               include_proposed: bool = False) -> Matrix:
        """Every product in every market it targets, assessed on ``on`` (not recorded); proposed pack
        versions are used only when asked for."""
        with self.records.read() as records:
            rows = records.latest_products()
            held = records.evidence_by_product()
        files = [r.file for r in rows]
        day = on or dt.date.today()
        held = self._with_derived(held, [f.key for f in files], day)
        return build_matrix(self.assessor(include_proposed=include_proposed), files, held,
                            on=day, markets=markets, subfiles={f.key: f for f in files})

    def history(self, product_key: str, market: str) -> list[dict[str, Any]]:
        """The stored versions of a product's assessment in a market."""
        with self.records.read() as records:
            return records.assessment_history(product_key, market)

    def stored(self, product_key: str, market: str, version: int | None = None) -> Assessment:
        """A stored assessment version (latest by default), or :class:`NotFound`."""
        with self.records.read() as records:
            found = records.assessment(product_key, market, version)
        if found is None:
            raise NotFound(f"no stored assessment of {product_key!r} in {market}" + (f" v{version}" if version else ""))
        return found

    def diff(self, product_key: str, market: str, from_version: int | None = None,
             to_version: int | None = None) -> AssessmentDiff:
        """What changed between two stored versions (default: the last two) and why."""
        versions = [h["version"] for h in self.history(product_key, market)]
        if len(versions) < 2 and (from_version is None or to_version is None):
            raise NotFound(f"{product_key!r} in {market} has {len(versions)} stored assessment(s); diff needs two")
        new = self.stored(product_key, market, to_version or versions[-1])
        old = self.stored(product_key, market, from_version or versions[versions.index(new.version or 0) - 1])
        pack_diff = None
        if old.pack_version != new.pack_version:
            lib = self.library
            pack_diff = dataclasses.replace(
                diff_packs(lib.get(market, old.pack_version), lib.get(market, new.pack_version)),
                amendments=lib.amendments(market, old.pack_version, new.pack_version))
        return diff_assessments(old, new, pack_diff)

    def plan(self, product_key: str, market: str, on: dt.date | None = None, *,
             costs: Mapping[str, float] | None = None) -> Plan:
        """Evidence reuse in ``market`` and the least-cost set of new tests closing every gap."""
        day = on or dt.date.today()
        row, subfiles, held = self._held(product_key, day)
        return plan(self.assessor(), row.file, market, on=day, evidence=held, subfiles=subfiles,
                    costs=costs)

    def connected_vehicle(self, product_key: str, on: dt.date | None = None) -> ConnectedVehicleFinding:
        """The US connected-vehicle check (15 CFR 791 subpart D) for a product."""
        row, subfiles, held = self._held(product_key)
        return check_connected_vehicle(row.file, self.library.get("US"), on=on or dt.date.today(), evidence=held,
                                       subfiles=subfiles)

    # --- actions and decisions ------------------------------------------------------------------------
    def actions(self, product_key: str | None = None, market: str | None = None) -> list[ActionItem]:
        """Action items with their status: open while the latest stored assessment still shows the gap."""
        with self.records.read() as records:
            items = records.actions(product_key, market)
            latest = {pair: records.assessment(*pair) for pair in {(i.product_key, i.market) for i in items}}
        return [dataclasses.replace(i, status="open" if i.still_open(latest[(i.product_key, i.market)]) else "closed")
                for i in items]

    def decide(self, kind: DecisionKind, product_key: str, market: str, *, decided_by: str, rationale: str,
               requirement_id: str | None = None, valid_until: dt.date | None = None,
               actor: str | None = None) -> Decision:
        """Record an approval or risk acceptance on the latest stored assessment, with its snapshot."""
        current = self.stored(product_key, market)
        decision = make_decision(kind, current, decided_by=decided_by, rationale=rationale,
                                 requirement_id=requirement_id, valid_until=valid_until)
        with self.records.write() as records:
            return record_decision(records, decision, actor=actor or decided_by)

    def decisions(self, product_key: str | None = None) -> list[dict[str, Any]]:
        """Recorded decisions, newest first."""
        with self.records.read() as records:
            return records.decisions(product_key)

    # --- sources --------------------------------------------------------------------------------------
    def sources(self, market: str | None = None, on: dt.date | None = None, *,
                stale_after_days: int = DEFAULT_STALE_AFTER_DAYS, include_proposed: bool = False) -> SourcesReport:
        """Every requirement's sources, quotes, confidence and review date; stale reviews flagged."""
        if market is not None and market not in self.library.packs:
            raise NotFound(f"no regulation pack for market {market!r}")
        return sources_report(self.library, [market] if market else None, on=on or dt.date.today(),
                              stale_after_days=stale_after_days, include_proposed=include_proposed)

    # --- exports --------------------------------------------------------------------------------------
    def ciso_framework(self, market: str, version: str | None = None) -> str:
        """A market's pack as a CISO Assistant framework library (YAML)."""
        return dump_yaml(framework_library(self.library.get(market, version)))

    def ciso_mappings(self) -> dict[str, str]:
        """The equivalences as CISO Assistant mapping libraries, by file name (YAML)."""
        return {f"{lib['ref_id']}.yaml": dump_yaml(lib) for lib in mapping_libraries(self.library)}

    def oscal(self, product_key: str, market: str, version: int | None = None) -> dict[str, Any]:
        """A stored assessment as OSCAL assessment-results JSON."""
        a = self.stored(product_key, market, version)
        with self.records.read() as records:
            held = records.evidence_by_product([product_key]).get(product_key, [])
        return assessment_results(a, {e.key: e for e in held})

    def report_html(self, on: dt.date | None = None, *, include_proposed: bool = False) -> str:
        """The HTML gap report with the heat map, owners and due dates."""
        return html_report(self.matrix(on, include_proposed=include_proposed), self.actions())

    def report_pdf(self, on: dt.date | None = None, *, include_proposed: bool = False) -> bytes:
        """The PDF gap report."""
        return pdf_report(self.matrix(on, include_proposed=include_proposed), self.actions())
