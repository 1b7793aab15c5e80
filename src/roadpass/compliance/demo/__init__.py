"""The compliance demo: an EV, its traction battery, a cockpit and connectivity unit and a public charger,
targeted at every market with a regulation pack.

Technical files (``products.yaml``), CycloneDX SBOM/HBOMs (``*.cdx.json``) and evidence (``evidence.yaml``)
are package data; everything in them is fictional. :func:`load_compliance_demo` imports them through the
service (so every write is ledgered) and records each product's assessments on two dates, so the matrix
shows gaps, reuse (an EU UN R155 approval reused in GB and JP, refused in CN), an expiring CB report and the
US connected-vehicle finding, and ``roadpass compliance diff`` has two versions to compare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from roadpass.compliance.service import ComplianceService

__all__ = ["DEMO_COSTS", "HISTORY_DAY", "DemoSummary", "demo_evidence", "demo_products", "load_compliance_demo"]

HERE = Path(__file__).resolve().parent
SBOMS = {"ccu-3": "ccu-3.cdx.json", "aurora-ev-my27": "aurora-ev-my27.cdx.json"}
#: The earlier assessment date of the demo history (before EU Data Act design obligations and GB R155 new types).
HISTORY_DAY = dt.date(2026, 6, 1)

#: Indicative costs in EUR used by ``roadpass compliance plan --demo-costs`` (illustrative, not quotes).
DEMO_COSTS: dict[str, float] = {
    "type_approval": 120_000, "test_report": 35_000, "certificate": 18_000, "declaration": 6_000,
    "documentation": 4_000, "filing": 2_500, "registration": 3_000, "label": 800, "authorization": 60_000,
    "transfer_mechanism": 5_000, "assessment": 12_000, "registered_process": 70_000, "sbom": 6_000,
    "hbom": 6_000, "GB-44495-2024": 160_000, "GB-44496-2024": 110_000, "GB-38031-2025": 95_000,
    "FMVSS-ALL": 450_000, "FMVSS-305A": 80_000, "US-15CFR791-DOC": 30_000, "AIS-038-REV2": 70_000,
}


def _load(name: str) -> list[dict[str, Any]]:
    data = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    return list(data)


def demo_products(markets: Collection[str] | None = None) -> list[dict[str, Any]]:
    """The demo technical files (component files first); with ``markets``, only the targets in those markets
    (the markets that have a regulation pack), so the demo follows the packs present."""
    products = _load("products.yaml")
    if markets is None:
        return products
    return [{**doc, "markets": [t for t in doc.get("markets", ()) if t["market"] in markets]} for doc in products]


def demo_evidence() -> list[dict[str, Any]]:
    """The demo evidence metadata."""
    return _load("evidence.yaml")


def stand_in(key: str) -> bytes:
    """The stand-in file of a demo evidence item (its SHA-256 is what roadpass stores)."""
    return f"FICTIONAL roadpass demo document {key}\n".encode()


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo loaded."""

    products: int
    sboms: int
    evidence: int
    assessments: int


def load_compliance_demo(
    service: ComplianceService, *, on: dt.date | None = None, actor: str = "roadpass-demo"
) -> DemoSummary:
    """Import the demo products, SBOMs and evidence, and record assessments on HISTORY_DAY and ``on``."""
    day = on or dt.date.today()
    products = demo_products(service.library.packs)
    for doc in products:
        service.import_product(doc, actor=actor)
    for key, name in SBOMS.items():
        service.import_sbom(key, (HERE / name).read_bytes(), actor=actor)
    items = demo_evidence()
    for meta in items:
        service.add_evidence(meta, stand_in(str(meta["key"])), actor=actor)
    count = 0
    for row in service.products():
        for target in row.file.markets:
            for when in sorted({min(HISTORY_DAY, day), day}):
                service.assess(row.key, target.market, when, actor=actor)
                count += 1
    return DemoSummary(len(products), len(SBOMS), len(items), count)
