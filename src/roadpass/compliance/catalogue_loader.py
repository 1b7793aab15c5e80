"""Load the standards catalogue (``standards.yaml``) and the equivalence graph (``equivalences.yaml`` and the
per-market fragments in ``equivalences.d/``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from roadpass.compliance.yaml_marks import JsonPath, Marks, line_of

__all__ = ["FRAGMENTS_DIR", "PACKS_DIR", "fragment_paths", "load_equivalences", "load_standards"]

PACKS_DIR = Path(__file__).resolve().parent / "packs"
#: Folder (under the packs folder) of per-market equivalence fragments merged into equivalences.yaml.
FRAGMENTS_DIR = "equivalences.d"


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


def fragment_paths(root: Path | None = None) -> tuple[Path, ...]:
    """The equivalence fragments under ``root``: ``equivalences.d/*.yaml``, one per market, in name order."""
    return tuple(sorted((Path(root or PACKS_DIR) / FRAGMENTS_DIR).glob("*.yaml")))


def load_equivalences(
    path: Path | None = None,
    *,
    fragments: Iterable[Path] = (),
    standards: StandardsCatalogue | None = None,
    packs: Mapping[str, RegulationPack] | None = None,
) -> Equivalences:
    """Load ``equivalences.yaml`` and merge the edges of its ``fragments`` (``equivalences.d/*.yaml``).

    Market groups live in ``equivalences.yaml`` only; a fragment holds edges. Edge ids are unique across all
    files. With ``standards``/``packs`` given, every standard and requirement id an edge names must exist.
    """
    data, marks, file = read_document(Path(path or PACKS_DIR / "equivalences.yaml"), "equivalences")
    groups = {
        g["id"]: MarketGroup(
            g["id"], g["title"], tuple(g["members"]), citations(g["citations"]), g["confidence"],
            tuple(g.get("non_members", ())), g.get("note"), SourceRef(file, line_of(marks, ("groups", i)).line),
        )
        for i, g in enumerate(data.get("groups", ()))
    }
    issues: list[PackIssue] = []
    edges: list[Equivalence] = []
    ids: set[str] = set()
    as_of = dt.date.fromisoformat(data["as_of"])
    documents = [(data, marks, file)]
    for fragment in fragments:
        doc = read_document(Path(fragment), "equivalences")
        if doc[0].get("groups"):
            reason = "market groups belong in equivalences.yaml; a fragment holds edges only"
            issues.append(issue(doc[2], doc[1], ("groups",), reason))
        as_of = max(as_of, dt.date.fromisoformat(doc[0]["as_of"]))
        documents.append(doc)
    for doc_data, doc_marks, doc_file in documents:
        for i, raw in enumerate(doc_data["edges"]):
            here: JsonPath = ("edges", i)
            if raw["id"] in ids:
                issues.append(issue(doc_file, doc_marks, (*here, "id"), f"duplicate edge id {raw['id']}"))
            ids.add(raw["id"])
            at = _Locator(doc_file, doc_marks, here)
            issues += _check_edge(raw, groups, standards, packs, at)
            edges.append(_edge(raw, SourceRef(doc_file, line_of(doc_marks, here).line)))
    if issues:
        raise PackError(issues)
    return Equivalences(as_of, groups, tuple(edges))


@dataclass(frozen=True, slots=True)
class _Locator:
    """Makes issues positioned under one edge of one file."""

    file: str
    marks: Marks
    here: JsonPath

    def __call__(self, path: JsonPath, reason: str) -> PackIssue:
        return issue(self.file, self.marks, (*self.here, *path), reason)


def _check_edge(
    raw: Mapping[str, Any], groups: Mapping[str, MarketGroup], standards: StandardsCatalogue | None,
    packs: Mapping[str, RegulationPack] | None, at: _Locator,
) -> list[PackIssue]:
    """What the schema cannot check on one edge: its groups, standards and requirement ids exist."""
    issues: list[PackIssue] = []
    src, tgt = raw["source"], raw["target"]
    for j, where in enumerate(src.get("issued_in", ())):
        if "-" in where and where not in groups:
            issues.append(at(("source", "issued_in", j), f"unknown group {where}"))
    named = [("source", j, s) for j, s in enumerate(src["standards"])]
    named += [("target", j, s) for j, s in enumerate(tgt.get("standards", ()))]
    for side, j, std in named:
        if standards is not None and std not in standards:
            issues.append(at((side, "standards", j), f"unknown standard {std}"))
    pack = packs.get(tgt["market"]) if packs is not None else None
    for j, rid in enumerate(tgt.get("requirements", ())):
        if packs is not None and (pack is None or rid not in pack.ids):
            issues.append(at(("target", "requirements", j), f"{rid} is not a requirement of the {tgt['market']} pack"))
    return issues


def _edge(raw: Mapping[str, Any], src_ref: SourceRef) -> Equivalence:
    src, tgt = raw["source"], raw["target"]
    return Equivalence(
        id=raw["id"],
        source=EquivalenceSource(
            src["kind"], tuple(src["standards"]), tuple(src.get("issued_in", ())), src.get("scheme")
        ),
        target=EquivalenceTarget(tgt["market"], tuple(tgt.get("requirements", ())), tuple(tgt.get("standards", ()))),
        accepted=raw["accepted"],
        scope=raw["scope"],
        basis=raw["basis"],
        citations=citations(raw["citations"]),
        confidence=raw["confidence"],
        src=src_ref,
        conditions=tuple(raw.get("conditions", ())),
        gaps=tuple(raw.get("gaps", ())),
        confidence_note=raw.get("confidence_note"),
    )
