"""The US connected-vehicle check (15 CFR part 791 subpart D, BIS final rule 90 FR 5360).

From the software and hardware bills of materials and the supplier parties of a product (and of the
technical files of its components), flag vehicle connectivity system (VCS) and automated driving system (ADS)
software, and VCS hardware, with a China or Russia nexus (791.301: designed, developed, manufactured or
supplied by persons owned by, controlled by or subject to the jurisdiction or direction of the PRC or
Russia), say whether the product's model year is covered (software 791.303 from MY2027, hardware 791.302 from
MY2030 or units without a model year imported from 2029, 791.308) and list what the Declaration of
Conformity (791.305) needs and what is still missing. Model years and scopes are read from the US pack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from roadpass.compliance.evidence import Evidence
from roadpass.compliance.pack_models import RegulationPack
from roadpass.compliance.predicates import Truth
from roadpass.compliance.product import TechnicalFile, base_attributes, derive_attributes

__all__ = ["COUNTRIES_OF_CONCERN", "ConnectedVehicleFinding", "DocItem", "NexusItem", "check_connected_vehicle"]

#: 791.301 "foreign adversary" for this rule: the PRC and the Russian Federation, spelt as the US pack's
#: ``prohibited_when`` predicates spell them (``[CN, RU]``), so the check and the assessment agree.
COUNTRIES_OF_CONCERN = frozenset({"CN", "RU"})
SOFTWARE_RULE, HARDWARE_RULE, MAKER_RULE, DOC_RULE = "US-CV-791.303", "US-CV-791.302", "US-CV-791.304", "US-CV-791.305"
DOC_STANDARD = "US-15CFR791-DOC"


@dataclass(frozen=True, slots=True)
class NexusItem:
    """A VCS/ADS software or VCS hardware item with a China or Russia nexus."""

    name: str
    version: str | None
    kind: str
    roles: tuple[str, ...]
    countries: tuple[str, ...]
    supplier: str | None
    source: str
    requirement_id: str
    covered: bool

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"name": self.name, "version": self.version, "kind": self.kind, "roles": list(self.roles),
                "countries": list(self.countries), "supplier": self.supplier, "source": self.source,
                "requirement": self.requirement_id, "covered": self.covered}


@dataclass(frozen=True, slots=True)
class DocItem:
    """One thing the Declaration of Conformity needs, whether it is there, and the details."""

    item: str
    status: str
    detail: str

    def to_json(self) -> dict[str, str]:
        """As JSON."""
        return {"item": self.item, "status": self.status, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ConnectedVehicleFinding:
    """The outcome of the check for one product on one date."""

    product_key: str
    model_year: int | None
    software_covered: str
    hardware_covered: str
    manufacturer_nexus: tuple[str, ...]
    flagged: tuple[NexusItem, ...]
    declaration: tuple[DocItem, ...]
    summary: str

    @property
    def prohibited(self) -> bool:
        """True when a covered item or the manufacturer has a China or Russia nexus."""
        return any(i.covered for i in self.flagged) or bool(self.manufacturer_nexus and self.software_covered == "true")

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"product": self.product_key, "model_year": self.model_year, "prohibited": self.prohibited,
                "software_covered": self.software_covered, "hardware_covered": self.hardware_covered,
                "manufacturer_nexus": list(self.manufacturer_nexus),
                "flagged": [i.to_json() for i in self.flagged],
                "declaration": [d.to_json() for d in self.declaration], "summary": self.summary}


def _files(tf: TechnicalFile, subfiles: Mapping[str, TechnicalFile]) -> list[TechnicalFile]:
    out, queue, seen = [], [tf], {tf.key}
    while queue:
        current = queue.pop(0)
        out.append(current)
        for comp in current.components:
            sub = subfiles.get(comp.technical_file or "")
            if sub is not None and sub.key not in seen:
                seen.add(sub.key)
                queue.append(sub)
    return out


def _items(files: list[TechnicalFile], covered: Mapping[str, bool]) -> list[NexusItem]:
    items: list[NexusItem] = []
    for f in files:
        if f.sbom is not None:
            for b in f.sbom.components:
                bad = tuple(sorted(set(b.countries) & COUNTRIES_OF_CONCERN))
                if not bad or not b.roles or (b.kind == "hardware" and "vcs" not in b.roles):
                    continue
                rid = HARDWARE_RULE if b.kind == "hardware" else SOFTWARE_RULE
                items.append(NexusItem(b.name, b.version, b.kind, b.roles, bad, b.supplier,
                                       f"CycloneDX BOM of {f.key}", rid, covered[rid]))
        for comp in f.components:
            party = f.supplier(comp.supplier)
            nexus = (party.nexus() if party else frozenset()) | ({comp.origin} if comp.origin else set())
            bad = tuple(sorted(nexus & COUNTRIES_OF_CONCERN))
            if not bad or not comp.roles:
                continue
            kind = "software" if comp.kind in ("software", "firmware") else "hardware"
            if kind == "hardware" and "vcs" not in comp.roles:
                continue
            rid = HARDWARE_RULE if kind == "hardware" else SOFTWARE_RULE
            items.append(NexusItem(comp.name, None, kind, comp.roles, bad, party.name if party else comp.supplier,
                                   f"component {comp.ref} of {f.key}", rid, covered[rid]))
    return items


def check_connected_vehicle(
    tf: TechnicalFile, us_pack: RegulationPack, *, on: dt.date, evidence: Iterable[Evidence] = (),
    subfiles: Mapping[str, TechnicalFile] | None = None,
) -> ConnectedVehicleFinding:
    """Run the check for ``tf`` with the US pack on ``on`` (see the module doc)."""
    subfiles = subfiles or {}
    attrs = derive_attributes(tf, "US", subfiles, base_attributes(tf, subfiles))
    truth: dict[str, str] = {}
    for rid in (SOFTWARE_RULE, HARDWARE_RULE, MAKER_RULE, DOC_RULE):
        req = us_pack.get(rid)
        applies = req.applies(attrs).truth
        force = req.effective.in_force(attrs, on) if applies is not Truth.FALSE else Truth.FALSE
        truth[rid] = Truth.FALSE.value if Truth.FALSE in (applies, force) else (
            Truth.TRUE.value if applies is force is Truth.TRUE else Truth.UNKNOWN.value)
    covered = {rid: value == "true" for rid, value in truth.items()}
    files = _files(tf, subfiles)
    flagged = tuple(_items(files, covered))
    maker = tuple(sorted(set(attrs.get("manufacturer.nexus", ())) & COUNTRIES_OF_CONCERN))
    model_year = attrs.get("model_year") if isinstance(attrs.get("model_year"), int) else None
    declaration = _declaration(files, flagged, maker, truth, evidence, on)
    summary = _summary(tf, model_year, truth, flagged, maker)
    return ConnectedVehicleFinding(tf.key, model_year, truth[SOFTWARE_RULE], truth[HARDWARE_RULE], maker,
                                   flagged, declaration, summary)


def _declaration(
    files: list[TechnicalFile], flagged: tuple[NexusItem, ...], maker: tuple[str, ...], truth: Mapping[str, str],
    evidence: Iterable[Evidence], on: dt.date,
) -> tuple[DocItem, ...]:
    held = list(evidence)
    doc = [e for e in held if e.kind == "declaration" and DOC_STANDARD in e.standards and e.valid_on(on)
           and not e.too_old(on, 12)]
    auth = [e for e in held if e.kind == "authorization" and e.valid_on(on)]
    sbom = [f.key for f in files if f.sbom is not None and f.sbom.software()]
    hbom = [f.key for f in files if (f.sbom is not None and f.sbom.hardware()) or f.components]
    suppliers = sorted({f"{s.name} ({s.country})" for f in files for s in f.suppliers})
    sw = [i for i in flagged if i.kind == "software"]
    hw = [i for i in flagged if i.kind == "hardware"]
    items = [
        DocItem("Declaration of Conformity to BIS (791.305), one per model year",
                "present" if doc else "missing", ", ".join(e.key for e in doc) or "no declaration on US-15CFR791-DOC "
                "issued within the last 12 months"),
        DocItem("SBOM of VCS and ADS software (supporting due diligence)", "present" if sbom else "missing",
                ", ".join(sbom) or "import a CycloneDX SBOM (roadpass sbom import)"),
        DocItem("HBOM of VCS hardware (supporting due diligence)", "present" if hbom else "missing",
                ", ".join(hbom) or "list VCS hardware components or import an HBOM"),
        DocItem("Supplier identification with countries (due diligence)", "present" if suppliers else "missing",
                "; ".join(suppliers) or "no supplier parties recorded"),
    ]
    if truth[SOFTWARE_RULE] != "false":
        bad = "; ".join(f"{i.name} from {i.supplier} ({'/'.join(i.countries)})" for i in sw)
        status = "present" if not sw else ("authorized" if auth else "blocked")
        items.append(DocItem("Statement: no covered VCS/ADS software with a China or Russia nexus (791.303)",
                             status, bad or "no flagged software"))
    if truth[HARDWARE_RULE] != "false":
        bad = "; ".join(f"{i.name} from {i.supplier} ({'/'.join(i.countries)})" for i in hw)
        status = "present" if not hw else ("authorized" if auth else "blocked")
        items.append(DocItem("Statement: no VCS hardware with a China or Russia nexus (791.302)", status,
                             bad or "no flagged hardware"))
    if truth[MAKER_RULE] != "false":
        items.append(DocItem("Manufacturer not owned or controlled by a China/Russia-nexus person (791.304)",
                             "blocked" if maker and not auth else "present",
                             f"manufacturer nexus {'/'.join(maker)}" if maker else "no nexus recorded"))
    return tuple(items)


def _summary(
    tf: TechnicalFile, model_year: int | None, truth: Mapping[str, str], flagged: tuple[NexusItem, ...],
    maker: tuple[str, ...],
) -> str:
    my = f"model year {model_year}" if model_year else "no model year"
    covered = [i for i in flagged if i.covered]
    parts = [f"{tf.name} ({my}): software rule {truth[SOFTWARE_RULE]}, hardware rule {truth[HARDWARE_RULE]}"]
    if covered:
        parts.append("PROHIBITED: " + "; ".join(
            f"{i.kind} {i.name} ({', '.join(i.roles).upper()}) from {i.supplier or '?'} ({'/'.join(i.countries)})"
            for i in covered))
    later = [i for i in flagged if not i.covered]
    if later:
        parts.append("flagged for later model years: " + "; ".join(f"{i.name} ({'/'.join(i.countries)})"
                                                                    for i in later))
    if maker and truth[MAKER_RULE] == "true":
        parts.append(f"manufacturer has a {'/'.join(maker)} nexus (791.304): needs a specific authorization")
    if not flagged and not maker:
        parts.append("no China or Russia nexus found")
    return "; ".join(parts)
