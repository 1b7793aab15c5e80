"""Load the standards catalogue (``standards.yaml``) and the equivalence graph (``equivalences.yaml``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from roadpass.compliance.pack_models import (
    Equivalence,
    Equivalences,
    EquivalenceSource,
    EquivalenceTarget,
    MarketGroup,
    RegulationPack,
    SourceRef,
    StandardRef,
    StandardsCatalogue,
)
from roadpass.compliance.pack_validation import PackError, PackIssue, citations, issue, read_document
from roadpass.compliance.yaml_marks import JsonPath, line_of

__all__ = ["PACKS_DIR", "load_equivalences", "load_standards"]

PACKS_DIR = Path(__file__).resolve().parent / "packs"


def load_standards(path: Path | None = None) -> StandardsCatalogue:
    """Load and validate ``standards.yaml``."""
    data, marks, file = read_document(Path(path or PACKS_DIR / "standards.yaml"), "standards_catalogue")
    standards: dict[str, StandardRef] = {}
    issues: list[PackIssue] = []
    for i, raw in enumerate(data["standards"]):
        if raw["id"] in standards:
            issues.append(issue(file, marks, ("standards", i, "id"), f"duplicate standard id {raw['id']}"))
        standards[raw["id"]] = StandardRef(
            raw["id"], raw["title"], raw["body"], raw["kind"], raw["paywalled"], raw["url"],
            tuple(raw.get("editions", ())), tuple(raw.get("aligned_with", ())), raw.get("note"),
        )
    for i, raw in enumerate(data["standards"]):
        for j, other in enumerate(raw.get("aligned_with", ())):
            if other not in standards:
                where = ("standards", i, "aligned_with", j)
                issues.append(issue(file, marks, where, f"unknown standard {other}"))
    if issues:
        raise PackError(issues)
    return StandardsCatalogue(dt.date.fromisoformat(data["as_of"]), standards)


def load_equivalences(
    path: Path | None = None,
    *,
    standards: StandardsCatalogue | None = None,
    packs: Mapping[str, RegulationPack] | None = None,
) -> Equivalences:
    """Load ``equivalences.yaml``; with ``standards``/``packs`` given, check every id it names exists."""
    data, marks, file = read_document(Path(path or PACKS_DIR / "equivalences.yaml"), "equivalences")
    groups = {
        g["id"]: MarketGroup(
            g["id"], g["title"], tuple(g["members"]), citations(g["citations"]), g["confidence"],
            tuple(g.get("non_members", ())), g.get("note"),
        )
        for g in data["groups"]
    }
    issues: list[PackIssue] = []
    edges: list[Equivalence] = []
    ids: set[str] = set()
    for i, raw in enumerate(data["edges"]):
        here: JsonPath = ("edges", i)
        if raw["id"] in ids:
            issues.append(issue(file, marks, (*here, "id"), f"duplicate edge id {raw['id']}"))
        ids.add(raw["id"])
        src, tgt = raw["source"], raw["target"]
        for j, where in enumerate(src.get("issued_in", ())):
            if "-" in where and where not in groups:
                issues.append(issue(file, marks, (*here, "source", "issued_in", j), f"unknown group {where}"))
        named = [("source", j, s) for j, s in enumerate(src["standards"])]
        named += [("target", j, s) for j, s in enumerate(tgt.get("standards", ()))]
        for side, j, std in named:
            if standards is not None and std not in standards:
                issues.append(issue(file, marks, (*here, side, "standards", j), f"unknown standard {std}"))
        pack = packs.get(tgt["market"]) if packs is not None else None
        for j, rid in enumerate(tgt.get("requirements", ())):
            if packs is not None and (pack is None or rid not in pack.ids):
                reason = f"{rid} is not a requirement of the {tgt['market']} pack"
                issues.append(issue(file, marks, (*here, "target", "requirements", j), reason))
        edges.append(
            Equivalence(
                id=raw["id"],
                source=EquivalenceSource(
                    src["kind"], tuple(src["standards"]), tuple(src.get("issued_in", ())), src.get("scheme")
                ),
                target=EquivalenceTarget(
                    tgt["market"], tuple(tgt.get("requirements", ())), tuple(tgt.get("standards", ()))
                ),
                accepted=raw["accepted"],
                scope=raw["scope"],
                basis=raw["basis"],
                citations=citations(raw["citations"]),
                confidence=raw["confidence"],
                src=SourceRef(file, line_of(marks, here).line),
                conditions=tuple(raw.get("conditions", ())),
                gaps=tuple(raw.get("gaps", ())),
                confidence_note=raw.get("confidence_note"),
            )
        )
    if issues:
        raise PackError(issues)
    return Equivalences(dt.date.fromisoformat(data["as_of"]), groups, tuple(edges))
