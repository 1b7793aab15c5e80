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
    "Figure",
    "MarketGroup",
    "PackDiff",
    "Phase",
    "Proof",
    "RegulationPack",
    "Requirement",
    "RequirementChange",
    "SourceRef",
    "StandardRef",
    "StandardsCatalogue",
    "Support",
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
class Proof:
    """The primary source that states a date or figure: the provision's URL, its publication, a verbatim quote.

    ``translation`` is given when the quote is not in English. Secondary sources never make a Proof; they are
    :class:`Support`.
    """

    url: str
    publication: str
    quote: str
    translation: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, str]:
        """As JSON (absent optional fields left out)."""
        out = {"url": self.url, "publication": self.publication, "quote": self.quote}
        if self.translation:
            out["translation"] = self.translation
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True, slots=True)
class Support:
    """A secondary source (law firm, test lab, press) and what it says; it supports, it never proves."""

    url: str
    note: str


@dataclass(frozen=True, slots=True)
class Figure:
    """A number a requirement relies on (a predicate threshold), with the source that states it.

    Either ``source`` proves it or ``to_confirm`` says what is unknown and what to read to confirm it.
    """

    name: str
    value: float | int
    states: str
    unit: str | None = None
    source: Proof | None = None
    to_confirm: str | None = None
    support: tuple[Support, ...] = ()


@dataclass(frozen=True, slots=True)
class Phase:
    """One step of a requirement's timeline, e.g. new types from a date, or model years from 2027.

    ``attribute`` names the product attribute the trigger is compared with (``type_approval_date``,
    ``registration_date``, ``placing_on_market_date``, ``model_year``, ``import_date`` ...). ``when`` is an
    optional extra condition on the product for this phase only (e.g. "units without a model year").
    ``source`` is the primary source stating the date; a phase whose date is not confirmed has no ``start``
    but ``to_confirm`` (what is unknown, the action), optionally ``expected`` (a reported date, never used as
    in force) and ``support`` (secondary sources).
    """

    scope: str
    attribute: str
    start: dt.date | None = None
    from_model_year: int | None = None
    until: dt.date | None = None
    when: Predicate | None = None
    note: str | None = None
    source: Proof | None = None
    to_confirm: str | None = None
    expected: dt.date | None = None
    support: tuple[Support, ...] = ()

    def pending(self, attrs: Mapping[str, Any], on: dt.date) -> bool:
        """True when this phase's date is still to confirm and the phase could concern the product.

        A phase to confirm never binds (:meth:`triggered` is false); the assessment reports the requirement as
        "to confirm" instead, unless another, confirmed phase binds.
        """
        if self.to_confirm is None or (self.until is not None and on > self.until):
            return False
        return self.when is None or evaluate(self.when, attrs).truth is not Truth.FALSE

    def triggered(self, attrs: Mapping[str, Any], on: dt.date) -> Truth:
        """Whether this phase binds the product on date ``on`` (three-valued).

        A missing date attribute is taken as ``on`` itself (the product would be registered, placed on the
        market... today); a missing model year is unknown. ``when`` must hold; after ``until`` it is over.
        A phase whose date is to confirm never binds.
        """
        if self.to_confirm is not None and self.start is None and self.from_model_year is None:
            return Truth.FALSE
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
    entry_into_force_source: Proof | None = None
    ends_source: Proof | None = None

    def pending(self, attrs: Mapping[str, Any], on: dt.date) -> tuple[Phase, ...]:
        """The phases to confirm that could concern the product on ``on`` (none after ``ends``)."""
        if self.ends is not None and on >= self.ends:
            return ()
        return tuple(phase for phase in self.phases if phase.pending(attrs, on))

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
    """One obligation of a market, with its citation, scope predicate, timeline and evidence rules.

    ``figures`` are the numbers its predicates rely on, each with its source; ``to_confirm`` says its scope
    is not confirmed (and what to do); ``reviewed`` is the date its sources were last checked; ``proof`` is
    the optional primary source of the obligation itself (the YAML ``source``), ``support`` secondary ones.
    """

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
    figures: tuple[Figure, ...] = ()
    to_confirm: str | None = None
    reviewed: dt.date | None = None
    proof: Proof | None = None
    support: tuple[Support, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def applies(self, attrs: Mapping[str, Any]) -> Evaluation:
        """Evaluate ``applies_to`` against product attributes (three-valued)."""
        return evaluate(self.applies_to, attrs)

    def prohibited(self, attrs: Mapping[str, Any]) -> Evaluation | None:
        """Evaluate ``prohibited_when`` (None when the requirement has no prohibition)."""
        return None if self.prohibited_when is None else evaluate(self.prohibited_when, attrs)

    def proofs(self) -> tuple[tuple[str, Proof], ...]:
        """Every primary source the requirement carries, with where it sits (``effective/phases/0`` ...)."""
        found: list[tuple[str, Proof]] = [("source", self.proof)] if self.proof else []
        for i, phase in enumerate(self.effective.phases):
            if phase.source is not None:
                found.append((f"effective/phases/{i}", phase.source))
        if self.effective.entry_into_force_source is not None:
            found.append(("effective/entry_into_force", self.effective.entry_into_force_source))
        if self.effective.ends_source is not None:
            found.append(("effective/ends", self.effective.ends_source))
        found += [(f"figures/{i}", f.source) for i, f in enumerate(self.figures) if f.source is not None]
        return tuple(found)

    def to_confirm_notes(self) -> tuple[str, ...]:
        """What is still to confirm: the requirement's scope, then each phase's and figure's date or value."""
        notes = [self.to_confirm] if self.to_confirm else []
        notes += [p.to_confirm for p in self.effective.phases if p.to_confirm]
        notes += [f"{f.name}: {f.to_confirm}" for f in self.figures if f.to_confirm]
        return tuple(notes)


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
    #: ``(version, amendment summary)`` of each version after ``old_version`` up to ``new_version``: what
    #: changed and why, in the words of the pack that changed it.
    amendments: tuple[tuple[str, str], ...] = ()

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
    #: Where the group is defined (file and line), for issues that name it.
    src: SourceRef | None = None


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
