"""The test-reuse planner: which held evidence counts in a target market, and the cheapest set of new tests.

For a product and a market the planner lists every held evidence item that bears on a requirement there,
with the verdict and its basis (issued in the market, an equivalence edge, scheme recognition, a partial
"supporting" edge, or an explicit refusal with the edge's gaps). Then it builds *offers*: one new test
report, certificate, approval or document per distinct evidence rule of the open gaps (tests done for the
target market are domestic there) plus the companion items the rule needs, and solves the weighted set cover
"which offers close every closable gap at least cost" exactly by branch and bound (greedy beyond a node
budget). Costs come from a mapping keyed ``kind:standard``, ``standard`` or ``kind``; without costs every
offer weighs 1, i.e. the plan has the fewest items. Requirements "to confirm" are planned for like gaps: if
they are confirmed, the plan already covers them. Gaps no test can close (prohibitions, undecidable scope)
are listed apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from roadpass.compliance.assess import Assessor, describe_rule, evidence_by_kind
from roadpass.compliance.evidence import ISSUER_ACCEPTS, Evidence
from roadpass.compliance.pack_models import EvidenceRule
from roadpass.compliance.product import TechnicalFile
from roadpass.compliance.results import Assessment

__all__ = ["Offer", "Plan", "Reuse", "plan"]

NODE_BUDGET = 200_000


@dataclass(frozen=True, slots=True)
class Reuse:
    """A held evidence item and what it means for one requirement of the target market."""

    evidence: str
    label: str
    requirement_id: str
    verdict: str
    basis: str
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"evidence": self.evidence, "label": self.label, "requirement": self.requirement_id,
                "verdict": self.verdict, "basis": self.basis, "notes": list(self.notes)}


@dataclass(frozen=True, slots=True)
class Offer:
    """A new test, certificate or document to obtain, and the gaps it closes."""

    kind: str
    standards: tuple[str, ...]
    issuer: str | None
    scheme: str | None
    companions: tuple[str, ...]
    for_requirement: str | None
    covers: frozenset[str] = field(default_factory=frozenset)
    cost: float | None = None

    def describe(self) -> str:
        """In words."""
        if self.kind == "companion":
            return f"{', '.join(self.companions)} for {self.for_requirement}"
        rule = EvidenceRule(self.kind, self.standards, self.issuer, self.scheme, self.companions)
        return describe_rule(rule) + (f" for {self.for_requirement}" if self.for_requirement else "")

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"item": self.describe(), "kind": self.kind, "standards": list(self.standards),
                "issuer": self.issuer, "scheme": self.scheme, "companions": list(self.companions),
                "closes": sorted(self.covers), "cost": self.cost}


@dataclass(frozen=True, slots=True)
class Plan:
    """The planner's answer for one product and market."""

    product_key: str
    market: str
    on: dt.date
    reuse: tuple[Reuse, ...]
    gaps: tuple[str, ...]
    not_closable: tuple[tuple[str, str], ...]
    offers: tuple[Offer, ...]
    total_cost: float | None
    optimal: bool
    candidates: int
    assessment: Assessment

    def to_json(self) -> dict[str, Any]:
        """As JSON."""
        return {"product": self.product_key, "market": self.market, "on": self.on.isoformat(),
                "reuse": [r.to_json() for r in self.reuse], "gaps": list(self.gaps),
                "not_closable": [{"requirement": r, "reason": why} for r, why in self.not_closable],
                "plan": [o.to_json() for o in self.offers], "total_cost": self.total_cost,
                "optimal": self.optimal, "candidates": self.candidates}


def _cost(kind: str, standards: Iterable[str], costs: Mapping[str, float]) -> float | None:
    stds = list(standards)
    known = [costs.get(f"{kind}:{s}", costs.get(s)) for s in stds]
    if stds and all(c is not None for c in known):
        return float(sum(c for c in known if c is not None))
    return costs.get(kind)


def _subsumes(offer: Offer, rule: EvidenceRule, rid: str, missing_companions: frozenset[str]) -> bool:
    if offer.kind == "companion":
        return offer.for_requirement == rid and missing_companions <= set(offer.companions)
    if offer.kind != rule.kind or not set(rule.standards) <= set(offer.standards):
        return False
    if not rule.standards and offer.for_requirement != rid:
        return False
    issuer_ok = rule.issuer is None or offer.issuer == rule.issuer or (
        offer.issuer in ISSUER_ACCEPTS.get(rule.issuer, frozenset()))
    return issuer_ok and rule.scheme in (None, offer.scheme) and missing_companions <= set(offer.companions)


def _reuse(assessor: Assessor, assessment: Assessment, held: list[Evidence]) -> list[Reuse]:
    pack = assessor.pack(assessment.market)
    out: list[Reuse] = []
    for result in assessment.applicable():
        req = pack.get(result.requirement_id)
        notes = assessor.acceptance.notes_for(held, assessment.market, req.id)
        for ev in held:
            if ev.key in result.evidence:
                out.append(Reuse(ev.key, ev.label(), req.id, "satisfies", "; ".join(result.basis)))
                continue
            rules = [r for r in req.evidence if r.kind == ev.kind and (set(r.standards) & set(ev.standards)
                                                                        or req.id in ev.requirements)]
            if ev.key not in notes and not rules:
                continue
            a = notes.get(ev.key) or assessor.acceptance.decide(ev, assessment.market, req.id, rules[0])
            verdict = a.verdict if ev.valid_on(assessment.on) else "expired"
            out.append(Reuse(ev.key, ev.label(), req.id, verdict, a.basis, a.notes))
    return out


def plan(
    assessor: Assessor, tf: TechnicalFile, market: str, *, on: dt.date, evidence: Iterable[Evidence],
    subfiles: Mapping[str, TechnicalFile] | None = None, costs: Mapping[str, float] | None = None,
) -> Plan:
    """Reuse of held evidence and the least-cost set of new items closing every closable gap (module doc)."""
    costs = costs or {}
    held = [e for e in evidence if e.issued_on <= on]
    assessment = assessor.assess(tf, market, on=on, evidence=held, subfiles=subfiles)
    pack = assessor.pack(market)
    by_kind = evidence_by_kind(held)
    boms = assessor.boms(tf, subfiles or {})
    # A requirement to confirm is planned for like a gap: if it is confirmed, the plan has it covered.
    gaps = [r for r in assessment.results if r.status in ("gap", "to_confirm")]
    not_closable = [(r.requirement_id, r.reason) for r in gaps if r.prohibited or r.applies != "true"
                    or (r.in_force != "true" and r.status == "gap")
                    or (r.missing and r.missing[0].startswith("attribute "))]
    blocked = {rid for rid, _ in not_closable}
    needs: dict[str, list[tuple[EvidenceRule, frozenset[str]]]] = {}
    offers: dict[tuple[Any, ...], Offer] = {}
    for result in gaps:
        if result.requirement_id in blocked:
            continue
        req = pack.get(result.requirement_id)
        for rule in req.evidence:
            outcome = assessor.evaluate_rule(req, rule, market, on, by_kind, boms)
            primary_held = bool(outcome.used)
            comps = frozenset(k for k in rule.with_ if k not in boms
                              and assessor.companion(req, rule, k, market, on, by_kind) is None)
            needs.setdefault(req.id, []).append((rule, comps))
            if primary_held:
                key: tuple[Any, ...] = ("companion", tuple(sorted(comps)), req.id)
                offers[key] = Offer("companion", (), None, None, tuple(sorted(comps)), req.id)
                continue
            specific = None if rule.standards else req.id
            key = (rule.kind, tuple(sorted(rule.standards)), rule.issuer, rule.scheme, specific)
            old = offers.get(key)
            merged = tuple(sorted(comps | set(old.companions if old else ())))
            offers[key] = Offer(rule.kind, tuple(sorted(rule.standards)), rule.issuer, rule.scheme, merged, specific)
    priced: list[Offer] = []
    for offer in offers.values():
        covers = frozenset(rid for rid, opts in needs.items()
                           if any(_subsumes(offer, rule, rid, comps) for rule, comps in opts))
        cost = (sum(costs.get(k, 0.0) for k in offer.companions) if offer.kind == "companion"
                else _cost(offer.kind, offer.standards, costs))
        if cost is not None and offer.kind != "companion":
            cost += sum(costs.get(k, 0.0) for k in offer.companions)
        priced.append(Offer(offer.kind, offer.standards, offer.issuer, offer.scheme, offer.companions,
                            offer.for_requirement, covers, cost if costs else None))
    chosen, optimal = _set_cover(frozenset(needs), priced)
    total = sum(o.cost or 0.0 for o in chosen) if costs else None
    return Plan(tf.key, market, on, tuple(_reuse(assessor, assessment, held)),
                tuple(r.requirement_id for r in gaps), tuple(not_closable), tuple(chosen), total, optimal,
                len(priced), assessment)


def _set_cover(universe: frozenset[str], offers: list[Offer]) -> tuple[list[Offer], bool]:
    """Exact weighted set cover by branch and bound (weights: cost, else 1); greedy if the budget runs out."""
    useful = [o for o in offers if o.covers & universe]

    def weight(o: Offer) -> float:
        return o.cost if o.cost is not None else 1.0

    greedy: list[Offer] = []
    left = set(universe)
    while left:
        pick = min((o for o in useful if o.covers & left), key=lambda o: weight(o) / len(o.covers & left),
                   default=None)
        if pick is None:
            break
        greedy.append(pick)
        left -= pick.covers
    best = (sum(weight(o) for o in greedy), greedy)
    closable = frozenset().union(*(o.covers for o in useful)) & universe if useful else frozenset()
    nodes = 0
    exhausted = True

    def search(uncovered: frozenset[str], chosen: list[Offer], spent: float) -> None:
        nonlocal best, nodes, exhausted
        nodes += 1
        if nodes > NODE_BUDGET:
            exhausted = False
            return
        if not uncovered:
            if spent < best[0] or (spent == best[0] and len(chosen) < len(best[1])):
                best = (spent, list(chosen))
            return
        element = min(uncovered, key=lambda e: sum(1 for o in useful if e in o.covers))
        for offer in sorted((o for o in useful if element in o.covers), key=weight):
            if spent + weight(offer) <= best[0]:
                chosen.append(offer)
                search(uncovered - offer.covers, chosen, spent + weight(offer))
                chosen.pop()

    search(closable, [], 0.0)
    return sorted(best[1], key=lambda o: (o.kind, o.standards)), exhausted
