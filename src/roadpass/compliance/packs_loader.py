"""Load, validate and resolve regulation packs, the standards catalogue and the equivalence graph.

Every file is validated against ``pack-schema.json`` (JSON Schema draft 2020-12) on load. A broken file is
refused with :class:`PackError`, whose issues name the file, the line (mapped from the JSON path through the
YAML node marks), the JSON path and the reason. On top of the schema the loader checks what a schema cannot:
predicates parse, requirement ids are unique and carry the market prefix, every standard an evidence rule
or an edge names is in the catalogue, and version chains (``supersedes``) resolve.

A pack version either lists all its requirements (a base version) or, when it ``supersedes`` another, only
the requirements it adds or replaces plus those it ``withdraw``-s; :func:`load_library` resolves each version
onto its predecessor so every version can be loaded whole and compared with :func:`diff_packs`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from roadpass.compliance.catalogue_loader import (
    FRAGMENTS_DIR,
    PACKS_DIR,
    fragment_paths,
    load_equivalences,
    load_standards,
)
from roadpass.compliance.pack_models import (
    Amendment,
    Effective,
    Equivalences,
    EvidenceRule,
    Figure,
    PackDiff,
    Phase,
    RegulationPack,
    Requirement,
    RequirementChange,
    SourceRef,
    StandardsCatalogue,
    version_key,
)
from roadpass.compliance.pack_validation import (
    SCHEMA_PATH,
    PackError,
    PackIssue,
    citations,
    issue,
    proof,
    read_document,
    schema,
    support,
)
from roadpass.compliance.predicates import PredicateError, parse_predicate
from roadpass.compliance.yaml_marks import JsonPath, Marks, line_of

__all__ = [
    "DEFAULT_PHASE_ATTRIBUTE",
    "PACKS_DIR",
    "SCHEMA_PATH",
    "PackError",
    "PackFile",
    "PackIssue",
    "PackLibrary",
    "diff_packs",
    "load_equivalences",
    "load_library",
    "load_pack_file",
    "load_standards",
    "schema",
]


#: Product attribute a phase's ``from`` date is compared with when the phase names none ("on" is the
#: assessment date itself).
DEFAULT_PHASE_ATTRIBUTE: Mapping[str, str] = {
    "all": "on",
    "processing": "on",
    "new_types": "type_approval_date",
    "existing_types": "registration_date",
    "all_new_vehicles": "registration_date",
    "placed_on_market": "placing_on_market_date",
    "model_year": "model_year",
    "import": "import_date",
    "sale": "sale_date",
    "manufacture": "manufacture_date",
}


def _date(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _effective(raw: Mapping[str, Any], rid: str) -> Effective:
    phases = tuple(
        Phase(
            scope=p["scope"],
            attribute=p.get("attribute", DEFAULT_PHASE_ATTRIBUTE[p["scope"]]),
            start=_date(p.get("from")),
            from_model_year=p.get("from_model_year"),
            until=_date(p.get("until")),
            when=(
                parse_predicate(p["when"], requirement_id=rid, where=f"effective/phases/{i}/when")
                if "when" in p
                else None
            ),
            note=p.get("note"),
            source=proof(p.get("source")),
            to_confirm=p.get("to_confirm"),
            expected=_date(p.get("expected")),
            support=support(p.get("support")),
        )
        for i, p in enumerate(raw["phases"])
    )
    return Effective(
        phases, _date(raw.get("entry_into_force")), _date(raw.get("ends")), raw.get("note"),
        proof(raw.get("entry_into_force_source")), proof(raw.get("ends_source")),
    )


def _figure(raw: Mapping[str, Any]) -> Figure:
    return Figure(
        raw["name"], raw["value"], raw["states"], raw.get("unit"), proof(raw.get("source")), raw.get("to_confirm"),
        support(raw.get("support")),
    )


def _evidence(raw: Mapping[str, Any]) -> EvidenceRule:
    return EvidenceRule(
        kind=raw["kind"],
        standards=tuple(raw.get("standards", ())),
        issuer=raw.get("issuer"),
        scheme=raw.get("scheme"),
        with_=tuple(raw.get("with", ())),
        expires=bool(raw.get("expires", False)),
        max_age_months=raw.get("max_age_months"),
        note=raw.get("note"),
    )


def _requirement(raw: Mapping[str, Any], market: str, file: str, marks: Marks, path: JsonPath) -> Requirement:
    rid = raw["id"]
    try:
        applies = parse_predicate(raw["applies_to"], requirement_id=rid, where="applies_to")
        prohibited = (
            parse_predicate(raw["prohibited_when"], requirement_id=rid, where="prohibited_when")
            if "prohibited_when" in raw
            else None
        )
        effective = _effective(raw["effective"], rid)
    except PredicateError as exc:
        steps: list[str | int] = [int(s) if s.isdigit() else s for s in exc.where.split("/")]
        raise PackError([issue(file, marks, (*path, *steps), str(exc))]) from None
    return Requirement(
        id=rid,
        title=raw["title"],
        topic=raw["topic"],
        markets=tuple(raw.get("markets", (market,))),
        citations=citations(raw["citations"]),
        applies_to=applies,
        effective=effective,
        evidence=tuple(_evidence(e) for e in raw["evidence"]),
        severity=raw["severity"],
        status=raw["status"],
        confidence=raw["confidence"],
        source=SourceRef(file, line_of(marks, path).line),
        summary=raw.get("summary"),
        prohibited_when=prohibited,
        confidence_note=raw.get("confidence_note"),
        tags=tuple(raw.get("tags", ())),
        related=tuple(raw.get("related", ())),
        figures=tuple(_figure(f) for f in raw.get("figures", ())),
        to_confirm=raw.get("to_confirm"),
        reviewed=_date(raw.get("reviewed")),
        proof=proof(raw.get("source")),
        support=support(raw.get("support")),
        raw=raw,
    )


@dataclass(frozen=True, slots=True)
class PackFile:
    """One validated pack file before version resolution."""

    file: str
    marks: Marks
    market: str
    version: str
    supersedes: str | None
    meta: Mapping[str, Any]
    requirements: tuple[Requirement, ...]
    withdraw: tuple[str, ...]


def load_pack_file(path: Path) -> PackFile:
    """Read and validate one pack file (base or delta) without resolving its version chain."""
    data, marks, file = read_document(Path(path), "regulation_pack")
    market = data["market"]
    issues: list[PackIssue] = []
    requirements: list[Requirement] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["requirements"]):
        where: JsonPath = ("requirements", i)
        if not raw["id"].startswith(f"{market}-"):
            reason = f"id must start with the market prefix {market}-"
            issues.append(issue(file, marks, (*where, "id"), reason))
        if raw["id"] in seen:
            issues.append(issue(file, marks, (*where, "id"), f"duplicate requirement id {raw['id']}"))
        seen.add(raw["id"])
        requirements.append(_requirement(raw, market, file, marks, where))
    if data.get("supersedes") and version_key(data["supersedes"]) >= version_key(data["version"]):
        issues.append(issue(file, marks, ("supersedes",), "must name an earlier version"))
    if issues:
        raise PackError(issues)
    return PackFile(
        file, marks, market, data["version"], data.get("supersedes"), data, tuple(requirements),
        tuple(data.get("withdraw", ())),
    )


def _resolve(pack: PackFile, base: RegulationPack | None) -> RegulationPack:
    meta = pack.meta
    reqs: dict[str, Requirement] = {} if base is None else {r.id: r for r in base.requirements}
    for rid in pack.withdraw:
        if rid not in reqs:
            index = list(pack.withdraw).index(rid)
            raise PackError([issue(pack.file, pack.marks, ("withdraw", index), f"{rid} is not in the base")])
        del reqs[rid]
    for requirement in pack.requirements:
        reqs[requirement.id] = requirement
    amendment = meta.get("amendment")
    return RegulationPack(
        market=pack.market,
        version=pack.version,
        title=meta["title"],
        status=meta["status"],
        as_of=dt.date.fromisoformat(meta["as_of"]),
        requirements=tuple(reqs.values()),
        files=(*(base.files if base else ()), pack.file),
        supersedes=pack.supersedes,
        description=meta.get("description"),
        publisher=meta.get("publisher"),
        license=meta.get("license"),
        amendment=Amendment(amendment["summary"], citations(amendment["citations"])) if amendment else None,
    )


@dataclass(frozen=True, slots=True)
class PackLibrary:
    """Every market's resolved pack versions, the standards catalogue and the equivalence graph."""

    packs: Mapping[str, Mapping[str, RegulationPack]]
    standards: StandardsCatalogue
    equivalences: Equivalences
    #: The validated files by name, with their node marks (for issues that name the line).
    pack_files: Mapping[str, PackFile] = field(default_factory=dict)

    def markets(self) -> tuple[str, ...]:
        """Market codes with at least one pack."""
        return tuple(sorted(self.packs))

    def versions(self, market: str) -> tuple[str, ...]:
        """A market's versions, oldest first."""
        return tuple(sorted(self.packs[market], key=version_key))

    def get(
        self, market: str, version: str | None = None, *, include_proposed: bool = False
    ) -> RegulationPack:
        """One version, or the latest one (skipping proposed/draft versions unless asked for)."""
        if market not in self.packs:
            raise KeyError(f"no regulation pack for market {market!r}; known: {', '.join(self.markets())}")
        if version is not None:
            return self.packs[market][version]
        candidates = [
            v for v in self.versions(market)
            if include_proposed or self.packs[market][v].status in ("in_force", "adopted")
        ]
        return self.packs[market][(candidates or list(self.versions(market)))[-1]]


    def amendments(self, market: str, old: str, new: str) -> tuple[tuple[str, str], ...]:
        """``(version, summary)`` of the amendments from ``old`` (excluded) up to ``new``, oldest first,
        following ``supersedes`` back from ``new``."""
        out: list[tuple[str, str]] = []
        version: str | None = new
        while version is not None and version != old and version in self.packs[market]:
            pack = self.packs[market][version]
            if pack.amendment is not None:
                out.append((version, pack.amendment.summary))
            version = pack.supersedes
        return tuple(reversed(out))


def _check_standards(pack: PackFile, standards: StandardsCatalogue) -> list[PackIssue]:
    issues = []
    for i, requirement in enumerate(pack.requirements):
        for j, rule in enumerate(requirement.evidence):
            for k, std in enumerate(rule.standards):
                if std not in standards:
                    path = ("requirements", i, "evidence", j, "standards", k)
                    issues.append(issue(pack.file, pack.marks, path, f"unknown standard {std}"))
    return issues


def load_library(root: Path | None = None) -> PackLibrary:
    """Load every pack under ``root`` (one folder per market), resolve versions and cross-check ids."""
    base_dir = Path(root or PACKS_DIR)
    standards = load_standards(base_dir / "standards.yaml")
    files = [load_pack_file(p) for p in sorted(base_dir.glob("*/*.yaml")) if p.parent.name != FRAGMENTS_DIR]
    issues = [i for f in files for i in _check_standards(f, standards)]
    by_market: dict[str, dict[str, PackFile]] = {}
    for f in files:
        folder = Path(f.file).parent.name
        if folder.upper() != f.market:
            reason = f"market {f.market} does not match folder {folder}"
            issues.append(issue(f.file, f.marks, ("market",), reason))
        if f.version in by_market.setdefault(f.market, {}):
            issues.append(issue(f.file, f.marks, ("version",), f"version {f.version} is defined twice"))
        by_market[f.market][f.version] = f
    for f in files:
        if f.supersedes and f.supersedes not in by_market[f.market]:
            issues.append(issue(f.file, f.marks, ("supersedes",), f"no {f.market} version {f.supersedes}"))
    if issues:
        raise PackError(issues)
    resolved: dict[str, dict[str, RegulationPack]] = {}
    for market, versions in by_market.items():
        done = resolved.setdefault(market, {})
        for version in sorted(versions, key=version_key):
            f = versions[version]
            done[version] = _resolve(f, done[f.supersedes] if f.supersedes else None)
    latest = {m: v[max(v, key=version_key)] for m, v in resolved.items()}
    known = {r.id for pack in latest.values() for r in pack.requirements}
    for f in files:
        for i, requirement in enumerate(f.requirements):
            for j, rid in enumerate(requirement.related):
                if rid not in known:
                    path = ("requirements", i, "related", j)
                    issues.append(issue(f.file, f.marks, path, f"related requirement {rid} does not exist"))
    if issues:
        raise PackError(issues)
    equivalences = load_equivalences(
        base_dir / "equivalences.yaml", fragments=fragment_paths(base_dir), standards=standards, packs=latest
    )
    return PackLibrary(resolved, standards, equivalences, {f.file: f for f in files})


def diff_packs(old: RegulationPack, new: RegulationPack) -> PackDiff:
    """Requirements added, removed and changed (by top-level field) between two versions of a market."""
    if old.market != new.market:
        raise ValueError(f"cannot compare packs of different markets ({old.market}, {new.market})")
    before = {r.id: r for r in old.requirements}
    after = {r.id: r for r in new.requirements}
    changed = []
    for rid in after.keys() & before.keys():
        a, b = dict(before[rid].raw), dict(after[rid].raw)
        fields = tuple(sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)))
        if fields:
            changed.append(RequirementChange(rid, fields))
    return PackDiff(
        market=new.market,
        old_version=old.version,
        new_version=new.version,
        added=tuple(r for r in after if r not in before),
        removed=tuple(r for r in before if r not in after),
        changed=tuple(sorted(changed, key=lambda c: c.id)),
        amendments=((new.version, new.amendment.summary),) if new.amendment and new.supersedes == old.version
        else (),
    )

