"""``assess(product, market, on=date)``: each requirement of the market's pack -> met / gap / expiring /
to confirm / n/a.

For every requirement the engine (1) evaluates ``applies_to`` and ``effective`` for the product's attributes
on ``on`` (three-valued: what cannot be decided is a gap naming the missing attributes), (2) evaluates
``prohibited_when`` (a prohibition is a gap whatever the evidence, docs/compliance-packs.md), then (3) tries
each evidence rule: evidence of the rule's kind from an acceptable issuer, valid on ``on`` (an expired item no
longer counts from its expiry date on), not older than ``max_age_months``, covering the rule's standards,
accepted in the market (:mod:`roadpass.compliance.acceptance`), with the rule's companion items (``with``).
A satisfied requirement whose evidence expires within ``window_days`` is *expiring*.

Unknown is a state (docs/compliance-packs.md): a requirement whose scope is to confirm (requirement-level
``to_confirm``), or that no confirmed phase binds while a phase whose date is to confirm could, is *to
confirm* - never in force, never dropped - with the action for its owner in ``missing``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from roadpass.compliance.acceptance import Acceptance, AcceptanceIndex
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.pack_models import EvidenceRule, RegulationPack, Requirement
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.predicates import Evaluation, Truth, attributes_of
from roadpass.compliance.product import TechnicalFile, base_attributes, derive_attributes
from roadpass.compliance.results import Assessment, RequirementResult
from roadpass.compliance.wording import describe_rule, explain, phase_text, true_tests

__all__ = ["Assessor", "RuleOutcome", "assess", "describe_rule", "evidence_by_kind", "explain"]

BOM_KINDS = frozenset({"sbom", "hbom"})
#: Distinct (requirement, attribute profile, date) scope evaluations kept before the memo is reset.
SCOPE_CACHE_SIZE = 200_000


@dataclass(slots=True)
class RuleOutcome:
    """What one evidence rule found: whether satisfied, the evidence used, what is missing."""

    satisfied: bool = False
    used: list[Evidence] = field(default_factory=list)
    basis: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    expired: list[Evidence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def expiry(self) -> dt.date | None:
        """The earliest expiry among the evidence used."""
        dates = [e.expires_on for e in self.used if e.expires_on is not None]
        return min(dates) if dates else None


class Assessor:
    """Assesses technical files against a pack library; holds per-market caches (packs, edges, verdicts)."""

    def __init__(self, library: PackLibrary, *, window_days: int = 90, include_proposed: bool = False) -> None:
        self.library = library
        self.window_days = window_days
        self.include_proposed = include_proposed
        self.acceptance = AcceptanceIndex(library.equivalences)
        self._packs: dict[str, RegulationPack] = {}
        self._names: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {}
        self._scopes: dict[tuple[Any, ...], _Scope] = {}

    def pack(self, market: str) -> RegulationPack:
        """The market's pack version in use (latest in force or adopted, or proposed when asked for)."""
        pack = self._packs.get(market)
        if pack is None:
            pack = self._packs[market] = self.library.get(market, include_proposed=self.include_proposed)
        return pack

    def assess(
        self, tf: TechnicalFile, market: str, *, on: dt.date, evidence: Iterable[Evidence],
        subfiles: Mapping[str, TechnicalFile] | None = None, base: Mapping[str, Any] | None = None,
        pack: RegulationPack | None = None, product_hash: str | None = None,
    ) -> Assessment:
        """Assess ``tf`` for ``market`` on ``on`` with the evidence held for it (see the module doc).

        ``base`` (the product's market-independent attributes) and ``product_hash`` may be passed in when the
        same product is assessed in many markets, so they are computed once.
        """
        pack = pack or self.pack(market)
        attrs = derive_attributes(tf, market, subfiles, base if base is not None else base_attributes(tf, subfiles))
        held = [e for e in evidence if e.issued_on <= on]
        by_kind = evidence_by_kind(held)
        boms = self.boms(tf, subfiles or {})
        target = tf.target(market)
        planned = target.planned if target else None
        results = tuple(
            self._requirement(req, market, attrs, on, held, by_kind, boms, planned) for req in pack.requirements
        )
        state = {e.key: (e.expires_on.isoformat() if e.expires_on else None) for e in held}
        return Assessment(
            tf.key, tf.name, market, pack.version, on, self.window_days, results, attrs,
            product_hash or tf.content_hash(), state,
        )

    @staticmethod
    def boms(tf: TechnicalFile, subfiles: Mapping[str, TechnicalFile]) -> frozenset[str]:
        """Which bill-of-materials kinds (``sbom``, ``hbom``) the product's technical files provide."""
        kinds: set[str] = set()
        for f in (tf, *(subfiles[c.technical_file] for c in tf.components if c.technical_file in subfiles
                         and c.technical_file is not None)):
            if f.sbom is not None:
                kinds.add("sbom")
                if f.sbom.hardware():
                    kinds.add("hbom")
        if tf.components:
            kinds.add("hbom")
        return frozenset(kinds)

    def _requirement(
        self, req: Requirement, market: str, attrs: Mapping[str, Any], on: dt.date, held: Sequence[Evidence],
        by_kind: Mapping[str, list[Evidence]], boms: frozenset[str], planned: dt.date | None,
    ) -> RequirementResult:
        head = (req.id, req.title, req.topic, req.severity)
        scope = self._scope(req, attrs, on)
        applies = scope.applies
        if scope.na_reason is not None:
            return RequirementResult(*head, "not_applicable", scope.na_reason, applies=applies.truth.value,
                                     in_force=scope.in_force.value)
        in_force = scope.in_force
        deadline = planned if planned is not None and planned > on else on
        common: dict[str, Any] = {"applies": applies.truth.value, "in_force": in_force.value,
                                  "binding_from": scope.binding, "deadline": deadline}
        confirm = bool(scope.pending or req.to_confirm)
        if not confirm and (applies.truth is Truth.UNKNOWN or in_force is Truth.UNKNOWN):
            missing = sorted(applies.missing | applies.mismatched) or ["model_year"]
            return RequirementResult(
                *head, "gap", f"cannot decide whether it applies: {', '.join(missing)} missing or mistyped "
                f"(binds {scope.phases})", missing=tuple(f"attribute {m}" for m in missing), **common,
            )
        result = self._prohibition(req, head, scope.prohibited, attrs, common)
        if result is None:
            notes = self.acceptance.notes_for(list(held), market, req.id)
            outcomes = [self.evaluate_rule(req, rule, market, on, by_kind, boms) for rule in req.evidence]
            result = _verdict(req, head, outcomes, notes, on, self.window_days, common)
        return _to_confirm(req, scope, result) if confirm else result

    @staticmethod
    def _prohibition(req: Requirement, head: tuple[str, str, str, str], prohibited: Evaluation | None,
                     attrs: Mapping[str, Any], common: dict[str, Any]) -> RequirementResult | None:
        """The gap a prohibition makes (whatever the evidence), or None when the product is not prohibited."""
        if prohibited is None or prohibited.truth is Truth.FALSE:
            return None
        if prohibited.truth is Truth.TRUE:
            why = "; ".join(true_tests(req.prohibited_when, attrs))
            reason = f"prohibited: {why}; no evidence can satisfy it"
            return RequirementResult(*head, "gap", reason, prohibited=True,
                                     missing=("remove or re-source the prohibited item",), **common)
        unknown = sorted(prohibited.missing | prohibited.mismatched)
        reason = f"cannot show it is not prohibited: {', '.join(unknown)} unknown (import an SBOM/HBOM)"
        return RequirementResult(*head, "gap", reason, missing=tuple(f"attribute {u}" for u in unknown), **common)

    def _scope(self, req: Requirement, attrs: Mapping[str, Any], on: dt.date) -> _Scope:
        """Scope, timeline and prohibition of ``req`` for ``attrs``, each memoised on the attributes it reads.

        A fleet has many products with the same profile (type, category, powertrain, dates...), so each
        predicate is evaluated once per distinct profile of the attributes it reads, not once per product.
        """
        names = self._names.get(req.id)
        if names is None:
            timeline: set[str] = set()
            for phase in req.effective.phases:
                timeline.add(phase.attribute)
                if phase.when is not None:
                    timeline |= attributes_of(phase.when)
            prohibited = attributes_of(req.prohibited_when) if req.prohibited_when is not None else frozenset()
            names = self._names[req.id] = (tuple(sorted(attributes_of(req.applies_to))), tuple(sorted(timeline)),
                                           tuple(sorted(prohibited)))
        if len(self._scopes) > SCOPE_CACHE_SIZE:
            self._scopes.clear()
        key_a = ("a", req.id, *[_freeze(v) if isinstance(v := attrs.get(n), list | dict) else v for n in names[0]])
        applies = self._scopes.get(key_a)
        if applies is None:
            applies = self._scopes[key_a] = _evaluate_applies(req, attrs)
        if applies.na_reason is not None:
            return applies
        key_f = ("f", req.id, on, *[_freeze(v) if isinstance(v := attrs.get(n), list | dict) else v
                                    for n in names[1]])
        timing = self._scopes.get(key_f)
        if timing is None:
            timing = self._scopes[key_f] = _evaluate_timeline(req, attrs, on)
        if timing.na_reason is not None:
            return _Scope(applies.applies, timing.in_force, timing.na_reason, None, timing.phases, None)
        forbidden = None
        if req.prohibited_when is not None:
            key_p = ("p", req.id, *[_freeze(v) if isinstance(v := attrs.get(n), list | dict) else v
                                    for n in names[2]])
            cached = self._scopes.get(key_p)
            if cached is None:
                cached = self._scopes[key_p] = _Scope(applies.applies, Truth.TRUE, None, None, "",
                                                      req.prohibited(attrs))
            forbidden = cached.prohibited
        return _Scope(applies.applies, timing.in_force, None, timing.binding, timing.phases, forbidden, timing.pending)

    def evaluate_rule(
        self, req: Requirement, rule: EvidenceRule, market: str, on: dt.date,
        by_kind: Mapping[str, list[Evidence]], boms: frozenset[str],
    ) -> RuleOutcome:
        """Try one evidence rule of ``req`` against the held evidence (by kind) and the product's BOM kinds."""
        out = RuleOutcome()
        primary: Acceptance | None = None
        for ev in by_kind.get(rule.kind, ()):
            if not ev.issuer_matches(rule.issuer):
                continue
            if rule.standards:
                unrelated = not set(rule.standards) & set(ev.standards) and req.id not in ev.requirements
                if unrelated and not any(e.source.kind == ev.kind for e in self.acceptance.edges_for(market, req.id)):
                    continue
            elif req.id not in ev.requirements:
                continue
            if not ev.valid_on(on):
                out.expired.append(ev)
                continue
            if ev.too_old(on, rule.max_age_months):
                out.notes.append(f"{ev.key} is older than {rule.max_age_months} months")
                continue
            verdict = self.acceptance.decide(ev, market, req.id, rule)
            if verdict.verdict != "accepted" or not verdict.covers(rule.standards):
                continue
            if primary is None or (ev.expires_on or dt.date.max) > (primary.evidence.expires_on or dt.date.max):
                primary = verdict
        if primary is None:
            out.missing.append(describe_rule(rule))
            return out
        out.used.append(primary.evidence)
        out.basis.append(primary.basis)
        out.notes.extend(primary.notes)
        for kind in rule.with_:
            companion = self.companion(req, rule, kind, market, on, by_kind)
            if companion is not None:
                out.used.append(companion)
            elif kind not in boms:
                out.missing.append(f"{kind.replace('_', ' ')} (with {primary.evidence.key})")
        out.satisfied = not out.missing
        return out

    def companion(
        self, req: Requirement, rule: EvidenceRule, kind: str, market: str, on: dt.date,
        by_kind: Mapping[str, list[Evidence]],
    ) -> Evidence | None:
        """A held, valid item of companion ``kind`` for ``rule`` that is not refused in the market."""
        for ev in by_kind.get(kind, ()):
            if not ev.valid_on(on) or ev.too_old(on, rule.max_age_months):
                continue
            related = not rule.standards or not ev.standards or bool(set(rule.standards) & set(ev.standards))
            if not (related or req.id in ev.requirements):
                continue
            if kind not in BOM_KINDS and self.acceptance.decide(ev, market, req.id, None).verdict == "refused":
                continue
            return ev
        return None


@dataclass(frozen=True, slots=True)
class _Scope:
    applies: Evaluation
    in_force: Truth
    na_reason: str | None
    binding: str | None
    phases: str
    prohibited: Evaluation | None
    #: What is to confirm about the phases that could bind the product when no confirmed phase does.
    pending: tuple[str, ...] = ()


def _to_confirm(req: Requirement, scope: _Scope, result: RequirementResult) -> RequirementResult:
    """A requirement whose scope, or whose deciding phase, is not confirmed: never in force, never dropped.

    Evidence that meets it still meets it (whether it binds no longer matters); otherwise the status is
    "to_confirm": the reason says what is unknown and what the verdict would be if it were confirmed, and
    ``missing`` starts with the action for its owner (what to read or ask), then what would close it.
    """
    notes = ([req.to_confirm] if req.to_confirm else []) + list(scope.pending)
    unknown = sorted(scope.applies.missing | scope.applies.mismatched)
    text = f"to confirm: {'; '.join(notes)}" + (f" (binds {scope.phases})" if scope.phases else "")
    if result.status != "gap":
        return dataclasses.replace(result, reason=f"{result.reason}; {text}")
    reason = f"{text}; if confirmed: {result.reason}"
    if unknown:
        reason += f"; also missing: {', '.join(unknown)}"
    missing = (*(f"confirm {req.id}: {note}" for note in notes), *result.missing,
               *(f"attribute {u}" for u in unknown if f"attribute {u}" not in result.missing))
    in_force = Truth.UNKNOWN.value if scope.pending or result.in_force == Truth.TRUE.value else result.in_force
    return dataclasses.replace(result, status="to_confirm", reason=reason, missing=missing, in_force=in_force)


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _evaluate_applies(req: Requirement, attrs: Mapping[str, Any]) -> _Scope:
    applies = req.applies(attrs)
    if applies.truth is Truth.FALSE:
        why = "; ".join(explain(req.applies_to, attrs)) or "scope predicate is false"
        return _Scope(applies, Truth.UNKNOWN, f"does not apply: {why}", None, "", None)
    return _Scope(applies, Truth.UNKNOWN, None, None, "", None)


def _evaluate_timeline(req: Requirement, attrs: Mapping[str, Any], on: dt.date) -> _Scope:
    phases = ", ".join(phase_text(p) for p in req.effective.phases)
    in_force = req.effective.in_force(attrs, on)
    if in_force is Truth.FALSE:
        pending = tuple(p.to_confirm for p in req.effective.pending(attrs, on) if p.to_confirm)
        if pending:
            # No confirmed phase binds, but one whose date is unknown could: "to confirm", not "not in force".
            return _Scope(Evaluation(Truth.TRUE), in_force, None, None, phases, None, pending)
        reason = f"not in force for this product on {on.isoformat()} (binds {phases})"
        return _Scope(Evaluation(Truth.TRUE), in_force, reason, None, phases, None)
    binding = next((phase_text(p) for p in req.effective.phases if p.triggered(attrs, on) is Truth.TRUE), None)
    return _Scope(Evaluation(Truth.TRUE), in_force, None, binding, phases, None)


def evidence_by_kind(held: Iterable[Evidence]) -> dict[str, list[Evidence]]:
    """Evidence grouped by kind."""
    by_kind: dict[str, list[Evidence]] = {}
    for ev in held:
        by_kind.setdefault(ev.kind, []).append(ev)
    return by_kind


def _verdict(
    req: Requirement, head: tuple[str, str, str, str], outcomes: list[RuleOutcome],
    notes: Mapping[str, Acceptance], on: dt.date, window: int, common: dict[str, Any],
) -> RequirementResult:
    satisfied = [o for o in outcomes if o.satisfied]
    if satisfied:
        best = max(satisfied, key=lambda o: o.expiry() or dt.date.max)
        expiry = best.expiry()
        used = ", ".join(e.label() for e in best.used)
        extra = f"; conditions: {'; '.join(best.notes)}" if best.notes else ""
        keys = tuple(e.key for e in best.used)
        if expiry is not None and expiry <= on + dt.timedelta(days=window):
            reason = f"met by {used} ({'; '.join(best.basis)}) but it expires on {expiry.isoformat()}{extra}"
            common = {**common, "deadline": expiry}
            return RequirementResult(*head, "expiring", reason, keys, (), tuple(best.basis), expires_on=expiry,
                                     **common)
        reason = f"met by {used} ({'; '.join(best.basis)}){extra}"
        return RequirementResult(*head, "met", reason, keys, (), tuple(best.basis), expires_on=expiry, **common)
    options = [o for o in outcomes if o.missing]
    needs = " OR ".join("; ".join(o.missing) for o in options) or "evidence accepted in this market"
    parts = [f"missing: {needs}"]
    expired = {e.key: e for o in outcomes for e in o.expired if e.expires_on is not None and e.expires_on <= on}
    parts += [f"{e.label()} expired on {e.expires_on}" for e in expired.values()]
    parts += [a.describe() for a in notes.values()]
    parts += sorted({n for o in outcomes for n in o.notes})
    missing = tuple(dict.fromkeys(m for o in options for m in o.missing))
    return RequirementResult(*head, "gap", "; ".join(parts), (), missing, **common)


def assess(
    product: TechnicalFile, market: str, *, on: dt.date, evidence: Iterable[Evidence], library: PackLibrary,
    window_days: int = 90, subfiles: Mapping[str, TechnicalFile] | None = None,
) -> Assessment:
    """Assess one product for one market on ``on`` (a convenience wrapper around :class:`Assessor`)."""
    return Assessor(library, window_days=window_days).assess(
        product, market, on=on, evidence=evidence, subfiles=subfiles
    )
