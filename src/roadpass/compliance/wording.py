"""Requirements, rules and predicates in words, for the reasons an assessment gives."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from roadpass.compliance.pack_models import EvidenceRule, Phase
from roadpass.compliance.predicates import AllOf, AnyOf, Not, Predicate, Test, Truth, evaluate, to_raw
from roadpass.compliance.product import SOURCES_KEY

__all__ = ["describe_rule", "explain", "phase_text", "true_tests"]


def explain(predicate: Predicate, attrs: Mapping[str, Any], limit: int = 3) -> list[str]:
    """The tests that make ``predicate`` not true for ``attrs``, with the product's actual values."""
    if isinstance(predicate, Test):
        truth = evaluate(predicate, attrs).truth
        if truth is Truth.TRUE:
            return []
        value = attrs.get(predicate.attribute)
        shown = "missing" if value is None else f"is {value}"
        return [f"{to_raw(predicate)} ({predicate.attribute} {shown})"]
    if isinstance(predicate, AllOf | AnyOf):
        out: list[str] = []
        for item in predicate.items:
            if evaluate(item, attrs).truth is not Truth.TRUE:
                out.extend(explain(item, attrs, limit))
        return out[:limit]
    if isinstance(predicate, Not):
        return [f"not ({to_raw(predicate.item)})"]
    return ["constant false"]


def describe_rule(rule: EvidenceRule) -> str:
    """A rule in words: ``test_report on GB-44495-2024 by a designated_lab, with documentation``."""
    text = rule.kind.replace("_", " ")
    if rule.standards:
        text += f" on {' + '.join(rule.standards)}"
    if rule.issuer == "self":
        text += " by the manufacturer"
    elif rule.issuer:
        who = rule.issuer.replace("_", " ")
        text += f" by {'an' if who[0] in 'aeiou' else 'a'} {who}"
    if rule.scheme:
        text += f" ({rule.scheme})"
    if rule.with_:
        text += f", with {', '.join(k.replace('_', ' ') for k in rule.with_)}"
    if rule.max_age_months:
        text += f", at most {rule.max_age_months} months old"
    return text


def phase_text(phase: Phase) -> str:
    """A phase in words: ``new types from 2026-01-01 (type_approval_date)``, ``model year 2027`` or
    ``existing types from a date to confirm (expected 2027-01-01)``."""
    if phase.from_model_year is not None:
        return f"model year {phase.from_model_year}"
    if phase.start is None and phase.to_confirm is not None:
        expected = f" (expected {phase.expected.isoformat()})" if phase.expected else ""
        return f"{phase.scope.replace('_', ' ')} from a date to confirm{expected}"
    start = phase.start.isoformat() if phase.start else "?"
    attribute = f" ({phase.attribute})" if phase.attribute != "on" else ""
    return f"{phase.scope.replace('_', ' ')} from {start}{attribute}"


def true_tests(predicate: Predicate | None, attrs: Mapping[str, Any]) -> list[str]:
    """The tests of ``predicate`` that hold, with the values and (for nexus lists) the items that carry them."""
    if predicate is None:
        return []
    if isinstance(predicate, Test):
        if evaluate(predicate, attrs).truth is not Truth.TRUE:
            return []
        text = f"{to_raw(predicate)} ({predicate.attribute} is {attrs.get(predicate.attribute)})"
        wanted = set(predicate.value) if isinstance(predicate.value, tuple) else {predicate.value}
        sources = attrs.get(SOURCES_KEY, {}).get(predicate.attribute, [])
        named = [label for label, countries in sources if wanted & set(countries)]
        return [text + (f": {'; '.join(named)}" if named else "")]
    if isinstance(predicate, AllOf | AnyOf):
        return [t for item in predicate.items for t in true_tests(item, attrs)]
    if isinstance(predicate, Not):
        return [f"not ({to_raw(predicate.item)})"]
    return []
