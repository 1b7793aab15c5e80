"""Typed, plain models of regulation packs, the standards catalogue and the equivalence graph.

These are what :mod:`roadpass.compliance.packs_loader` returns after a YAML file has been validated against
``pack-schema.json``. They are frozen dataclasses with no I/O and no framework dependency, so the assessment
engine, the test-reuse planner and the exporters can share them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

from roadpass.compliance.predicates import Evaluation, Predicate, Truth, evaluate

__all__ = [
    "Amendment",
    "Citation",
    "Confidence",
    "Effective",
    "Equivalence",
    "EquivalenceSource",
    "EquivalenceTarget",
    "Equivalences",
    "EvidenceRule",
    "MarketGroup",
    "PackDiff",
    "Phase",
    "RegulationPack",
    "Requirement",
    "RequirementChange",
    "SourceRef",
    "StandardRef",
    "StandardsCatalogue",
    "version_key",
]

Confidence: TypeAlias = Literal["high", "medium", "low"]


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for pack versions such as ``2026.1`` (numeric, component by component)."""
    return tuple(int(part) for part in version.split("."))


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an entry was read from, for error messages and for linking back to the data."""

    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Citation:
    """A checkable reference: instrument, article/paragraph/clause, and a link to the official text."""

    instrument: str
    provision: str
    url: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Phase:
    """One step of a requirement's timeline, e.g. new types from a date, or model years from 2027.

    ``attribute`` names the product attribute the trigger is compared with (``type_approval_date``,
    ``registration_date``, ``placing_on_market_date``, ``model_year``, ``import_date`` ...). ``when`` is an
    optional extra condition on the product for this phase only (e.g. "units without a model year").
    """

    scope: str
    attribute: str
    start: dt.date | None = None
    from_model_year: int | None = None
    until: dt.date | None = None
    when: Predicate | None = None
    note: str | None = None


    def triggered(self, attrs: Mapping[str, Any], on: dt.date) -> Truth:
        """Whether this phase binds the product on date ``on`` (three-valued).

        A missing date attribute is taken as ``on`` itself (the product would be registered, placed on the
        market... today); a missing model year is unknown. ``when`` must hold; after ``until`` it is over.
        """
        if self.until is not None and on > self.until:
            return Truth.FALSE
        guard = Truth.TRUE if self.when is None else evaluate(self.when, attrs).truth
        if guard is Truth.FALSE:
            return Truth.FALSE
        if self.from_model_year is not None:
            year = _attr(attrs, self.attribute)
            if not isinstance(year, int) or isinstance(year, bool):
                return Truth.UNKNOWN
            reached = year >= self.from_model_year
        else:
            raw = on if self.attribute == "on" else _attr(attrs, self.attribute)
            when = _as_date(raw) or on
            reached = self.start is not None and when >= self.start and on >= self.start
        if not reached:
            return Truth.FALSE
        return guard


def _attr(attrs: Mapping[str, Any], name: str) -> Any:
    if name in attrs:
        return attrs[name]
    current: Any = attrs
    for part in name.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class Effective:
    """Entry into force, the phases by which obligations bite, and an optional end (repeal, sunset)."""

    phases: tuple[Phase, ...]
    entry_into_force: dt.date | None = None
    ends: dt.date | None = None
    note: str | None = None

    def in_force(self, attrs: Mapping[str, Any], on: dt.date) -> Truth:
        """True if any phase binds the product on ``on`` (Kleene OR), false after ``ends``."""
        if self.ends is not None and on >= self.ends:
            return Truth.FALSE
        results = [phase.triggered(attrs, on) for phase in self.phases]
        if Truth.TRUE in results:
            return Truth.TRUE
        return Truth.UNKNOWN if Truth.UNKNOWN in results else Truth.FALSE


@dataclass(frozen=True, slots=True)
class EvidenceRule:
    """One acceptable way to show a requirement is met.

    ``standards`` must all be covered by the evidence; ``with_`` lists further items needed together
    (e.g. an SBOM with a declaration); ``expires`` means the evidence carries a validity end date after
    which it no longer counts; ``max_age_months`` caps how old it may be.
    """

    kind: str
    standards: tuple[str, ...] = ()
    issuer: str | None = None
    scheme: str | None = None
    with_: tuple[str, ...] = ()
    expires: bool = False
    max_age_months: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One obligation of a market, with its citation, scope predicate, timeline and evidence rules."""

    id: str
    title: str
    topic: str
    markets: tuple[str, ...]
    citations: tuple[Citation, ...]
    applies_to: Predicate
    effective: Effective
    evidence: tuple[EvidenceRule, ...]
    severity: str
    status: str
    confidence: Confidence
    source: SourceRef
    summary: str | None = None
    prohibited_when: Predicate | None = None
    confidence_note: str | None = None
    tags: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def applies(self, attrs: Mapping[str, Any]) -> Evaluation:
        """Evaluate ``applies_to`` against product attributes (three-valued)."""
        return evaluate(self.applies_to, attrs)

    def prohibited(self, attrs: Mapping[str, Any]) -> Evaluation | None:
        """Evaluate ``prohibited_when`` (None when the requirement has no prohibition)."""
        return None if self.prohibited_when is None else evaluate(self.prohibited_when, attrs)


@dataclass(frozen=True, slots=True)
class Amendment:
    """What a pack version changes relative to the one it supersedes, and on which instrument."""

    summary: str
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True, slots=True)
class RegulationPack:
    """A market's requirements as of one version (a delta version is resolved onto its predecessors)."""

    market: str
    version: str
    title: str
    status: str
    as_of: dt.date
    requirements: tuple[Requirement, ...]
    files: tuple[str, ...]
    supersedes: str | None = None
    description: str | None = None
    publisher: str | None = None
    license: str | None = None
    amendment: Amendment | None = None

    def get(self, requirement_id: str) -> Requirement:
        """The requirement with that id, or KeyError naming the pack."""
        for requirement in self.requirements:
            if requirement.id == requirement_id:
                return requirement
        raise KeyError(f"{self.market} pack {self.version} has no requirement {requirement_id!r}")

    @property
    def ids(self) -> tuple[str, ...]:
        """Requirement ids in pack order."""
        return tuple(r.id for r in self.requirements)


@dataclass(frozen=True, slots=True)
class RequirementChange:
    """How one requirement differs between two pack versions (top-level fields that changed)."""

    id: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PackDiff:
    """Requirements added, withdrawn and changed between two versions of a market's pack."""

    market: str
    old_version: str
    new_version: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[RequirementChange, ...]

    @property
    def affected(self) -> frozenset[str]:
        """Every requirement id whose assessment may differ because of the new version."""
        return frozenset(self.added) | frozenset(self.removed) | frozenset(c.id for c in self.changed)


@dataclass(frozen=True, slots=True)
class StandardRef:
    """A named standard or regulation in the catalogue; paywalled texts are referenced by number only."""

    id: str
    title: str
    body: str
    kind: str
    paywalled: bool
    url: str
    editions: tuple[str, ...] = ()
    aligned_with: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StandardsCatalogue:
    """All standards by id."""

    as_of: dt.date
    standards: Mapping[str, StandardRef]

    def __contains__(self, standard_id: object) -> bool:
        return standard_id in self.standards

    def get(self, standard_id: str) -> StandardRef:
        """The standard with that id, or KeyError."""
        return self.standards[standard_id]


@dataclass(frozen=True, slots=True)
class MarketGroup:
    """A named set of markets, e.g. the contracting parties applying UN R155 under the 1958 Agreement."""

    id: str
    title: str
    members: tuple[str, ...]
    citations: tuple[Citation, ...]
    confidence: Confidence
    non_members: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class EquivalenceSource:
    """The evidence an edge starts from: its kind, the standards it covers and where it was issued."""

    kind: str
    standards: tuple[str, ...]
    issued_in: tuple[str, ...] = ()
    scheme: str | None = None


@dataclass(frozen=True, slots=True)
class EquivalenceTarget:
    """What the evidence would be reused for: a market, and optionally requirement ids and standards."""

    market: str
    requirements: tuple[str, ...] = ()
    standards: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Equivalence:
    """An acceptance edge - or an explicit *not accepted* edge - with its basis and citations."""

    id: str
    source: EquivalenceSource
    target: EquivalenceTarget
    accepted: bool
    scope: str
    basis: str
    citations: tuple[Citation, ...]
    confidence: Confidence
    src: SourceRef
    conditions: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()
    confidence_note: str | None = None


@dataclass(frozen=True, slots=True)
class Equivalences:
    """The equivalence graph: market groups and edges."""

    as_of: dt.date
    groups: Mapping[str, MarketGroup]
    edges: tuple[Equivalence, ...]

    def markets_of(self, market_or_group: str) -> frozenset[str]:
        """Expand a group id to its member markets; a market code stands for itself."""
        group = self.groups.get(market_or_group)
        return frozenset(group.members) if group else frozenset({market_or_group})

    def for_requirement(self, market: str, requirement_id: str) -> tuple[Equivalence, ...]:
        """Edges (accepted or not) that target a requirement of a market."""
        return tuple(
            e for e in self.edges if e.target.market == market and requirement_id in e.target.requirements
        )

    def accepts(self, *, standard: str, issued_in: str, market: str, requirement_id: str) -> bool | None:
        """Whether evidence on ``standard`` issued in ``issued_in`` is accepted for a requirement.

        Returns True or False when an edge says so (a *not accepted* edge wins over an accepted one), and
        None when the data has no edge for that combination.
        """
        verdicts = [
            e.accepted
            for e in self.for_requirement(market, requirement_id)
            if standard in e.source.standards
            and (not e.source.issued_in or any(issued_in in self.markets_of(g) for g in e.source.issued_in))
        ]
        if not verdicts:
            return None
        return all(verdicts)
