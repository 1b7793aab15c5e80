"""The small predicate language used by a requirement's ``applies_to`` and ``prohibited_when``.

A predicate is written in YAML as one of:

* a **test** - a string ``<attribute> <operator> <value>``, for example ``category in [M1, N1]``,
  ``battery.energy_kwh > 2``, ``connectivity == true``, ``model_year >= 2027``, ``ads_level >= 3``,
  ``vcs.software_nexus contains CN`` or ``registration_date exists``;
* a **combinator** - a mapping with exactly one key: ``all: [p, ...]``, ``any: [p, ...]`` or ``not: p``;
* a **constant** - YAML ``true`` or ``false``.

Attributes are dotted names (``battery.energy_kwh``) looked up in a plain ``Mapping[str, Any]`` of product
attributes, first as a flat key (``{"battery.energy_kwh": 75}``), then by walking nested mappings
(``{"battery": {"energy_kwh": 75}}``). Operators:

``==`` ``!=``            equality of scalars (numbers, booleans, dates, words)
``<`` ``<=`` ``>`` ``>=``  ordering of numbers or of dates (``2027-01-01``)
``in [a, b]``            the attribute equals one of the values; a list attribute matches if any element does
``not in [a, b]``        the negation of ``in``
``contains x``           the list attribute has ``x`` as an element (a scalar attribute must equal ``x``)
``exists``               the attribute is present and not null (never unknown)

Values are numbers, ``true``/``false``, ISO dates, quoted strings or bare words (``M1``, ``UN-R155``).

Evaluation is three-valued (Kleene logic): a test on a missing attribute, or on a value of the wrong type,
is ``UNKNOWN`` rather than an error, and the evaluation lists which attributes were missing. ``all`` is false
if any item is false, unknown if any is unknown, else true; ``any`` is the dual; ``not`` keeps unknown.

Predicates are parsed once into a typed AST (:func:`parse_predicate`); a malformed predicate raises
:class:`PredicateError` naming the requirement id, the position inside the predicate and the reason.
:func:`to_raw` turns an AST back into the YAML form, so ``parse_predicate(to_raw(p)) == p``.
"""

from __future__ import annotations

import datetime as dt
import enum
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

__all__ = [
    "AllOf",
    "AnyOf",
    "Const",
    "Evaluation",
    "Not",
    "Op",
    "Predicate",
    "PredicateError",
    "Test",
    "Truth",
    "Value",
    "attributes_of",
    "evaluate",
    "parse_predicate",
    "parse_test",
    "to_raw",
]

Scalar: TypeAlias = bool | int | float | str | dt.date
Value: TypeAlias = Scalar | tuple[Scalar, ...] | None


class PredicateError(ValueError):
    """A predicate that cannot be parsed; names the requirement, the place in the predicate and why."""

    def __init__(self, requirement_id: str, where: str, reason: str) -> None:
        self.requirement_id = requirement_id
        self.where = where
        self.reason = reason
        super().__init__(f"requirement {requirement_id}: predicate at {where or '/'}: {reason}")


class Truth(enum.Enum):
    """Three-valued result of evaluating a predicate."""

    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    def __invert__(self) -> Truth:
        if self is Truth.UNKNOWN:
            return Truth.UNKNOWN
        return Truth.FALSE if self is Truth.TRUE else Truth.TRUE


class Op(enum.Enum):
    """Operators of a test, with their source spelling as value."""

    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"
    NOT_IN = "not in"
    CONTAINS = "contains"
    EXISTS = "exists"


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of evaluating a predicate: its truth and the attributes that were missing."""

    truth: Truth
    missing: frozenset[str] = frozenset()
    mismatched: frozenset[str] = frozenset()

    @property
    def known(self) -> bool:
        """True when the outcome did not depend on missing or mistyped attributes."""
        return self.truth is not Truth.UNKNOWN


@dataclass(frozen=True, slots=True)
class Const:
    """A constant predicate (YAML ``true`` / ``false``)."""

    value: bool


@dataclass(frozen=True, slots=True)
class Test:
    """One attribute test such as ``battery.energy_kwh > 2``."""

    attribute: str
    op: Op
    value: Value = None


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every item is true."""

    items: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one item is true."""

    items: tuple[Predicate, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The negation of its item (unknown stays unknown)."""

    item: Predicate


Predicate: TypeAlias = Const | Test | AllOf | AnyOf | Not


def attributes_of(predicate: Predicate) -> frozenset[str]:
    """Every attribute name a predicate refers to (for documentation and input forms)."""
    if isinstance(predicate, Test):
        return frozenset({predicate.attribute})
    if isinstance(predicate, Not):
        return attributes_of(predicate.item)
    if isinstance(predicate, Const):
        return frozenset()
    return frozenset[str]().union(*(attributes_of(item) for item in predicate.items))


# --- parsing ---------------------------------------------------------------------------------------------

_ATTR = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_TEST_RE = re.compile(rf"^\s*(?P<attr>{_ATTR})\s*(?P<rest>.*?)\s*$", re.DOTALL)
_OPS_RE = re.compile(
    r"^(?P<op>==|!=|<=|>=|<|>|not\s+in\b|in\b|contains\b|exists\b)\s*(?P<value>.*)$", re.DOTALL
)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUM_RE = re.compile(r"^-?\d+(?:\.\d+)?$")
_WORD_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+/:-]*$")
_KEYWORDS = frozenset({"true", "false", "in", "not", "contains", "exists", "null"})


def _parse_scalar(text: str, rid: str, where: str) -> Scalar:
    text = text.strip()
    if not text:
        raise PredicateError(rid, where, "a value is missing")
    if text[0] in "\"'":
        if len(text) < 2 or text[-1] != text[0] or text[0] in text[1:-1]:
            raise PredicateError(rid, where, f"unterminated or malformed quoted string {text!r}")
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if _DATE_RE.match(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise PredicateError(rid, where, f"{text!r} is not a valid calendar date") from None
    if _NUM_RE.match(text):
        return float(text) if "." in text else int(text)
    if text in _KEYWORDS:
        raise PredicateError(rid, where, f"{text!r} is a keyword, not a value; quote it to compare with it")
    if _WORD_RE.match(text):
        return text
    raise PredicateError(rid, where, f"{text!r} is not a number, date, boolean, quoted string or bare word")


def _split_items(inner: str, rid: str, where: str) -> list[str]:
    items: list[str] = []
    buf: list[str] = []
    quote: str | None = None
    for ch in inner:
        if quote is not None:
            buf.append(ch)
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            buf.append(ch)
        elif ch == ",":
            items.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quote is not None:
        raise PredicateError(rid, where, "unterminated quoted string in list")
    items.append("".join(buf))
    return items


def _parse_list(text: str, rid: str, where: str) -> tuple[Scalar, ...]:
    text = text.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise PredicateError(rid, where, f"expected a list such as [M1, N1], got {text!r}")
    inner = text[1:-1].strip()
    if not inner:
        raise PredicateError(rid, where, "the list is empty")
    values: list[Scalar] = []
    for part in _split_items(inner, rid, where):
        if not part.strip():
            raise PredicateError(rid, where, f"empty item in list {text!r}")
        values.append(_parse_scalar(part, rid, where))
    return tuple(values)


def parse_test(text: str, *, requirement_id: str = "?", where: str = "") -> Test:
    """Parse one attribute test string (``attr op value``) into a :class:`Test`."""
    match = _TEST_RE.match(text)
    if match is None:
        raise PredicateError(requirement_id, where, f"expected '<attribute> <operator> <value>': {text!r}")
    attr, rest = match.group("attr"), match.group("rest")
    op_match = _OPS_RE.match(rest)
    if op_match is None:
        raise PredicateError(requirement_id, where, f"unknown operator in {text!r}")
    op_text = re.sub(r"\s+", " ", op_match.group("op"))
    op = Op(op_text)
    raw_value = op_match.group("value").strip()
    if op is Op.EXISTS:
        if raw_value:
            raise PredicateError(requirement_id, where, f"'exists' takes no value, got {raw_value!r}")
        return Test(attr, op, None)
    if op in (Op.IN, Op.NOT_IN):
        return Test(attr, op, _parse_list(raw_value, requirement_id, where))
    if raw_value.startswith("["):
        raise PredicateError(requirement_id, where, f"operator {op.value!r} takes a single value, not a list")
    value = _parse_scalar(raw_value, requirement_id, where)
    if op in (Op.LT, Op.LE, Op.GT, Op.GE) and (
        isinstance(value, bool) or not isinstance(value, int | float | dt.date)
    ):
        raise PredicateError(requirement_id, where, f"operator {op.value!r} needs a number or a date")
    return Test(attr, op, value)


def parse_predicate(raw: object, *, requirement_id: str = "?", where: str = "") -> Predicate:
    """Parse the YAML form of a predicate (string, bool or ``all``/``any``/``not`` mapping) into an AST."""
    if isinstance(raw, bool):
        return Const(raw)
    if isinstance(raw, str):
        return parse_test(raw, requirement_id=requirement_id, where=where)
    if isinstance(raw, Mapping):
        if len(raw) != 1:
            keys = ", ".join(sorted(map(str, raw))) or "none"
            raise PredicateError(requirement_id, where, f"a combinator has exactly one key, got {keys}")
        ((key, body),) = raw.items()
        sub = f"{where}/{key}"
        if key == "not":
            return Not(parse_predicate(body, requirement_id=requirement_id, where=sub))
        if key in ("all", "any"):
            if isinstance(body, str | bytes) or not isinstance(body, Sequence) or not body:
                raise PredicateError(requirement_id, sub, f"'{key}' needs a non-empty list of predicates")
            items = tuple(
                parse_predicate(item, requirement_id=requirement_id, where=f"{sub}/{i}")
                for i, item in enumerate(body)
            )
            return AllOf(items) if key == "all" else AnyOf(items)
        raise PredicateError(requirement_id, where, f"unknown combinator {key!r} (use all, any or not)")
    raise PredicateError(requirement_id, where, f"a predicate is a string, boolean or mapping, not {raw!r}")


def _format_scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, int):
        return str(value)
    if _WORD_RE.match(value) and value not in _KEYWORDS and not _NUM_RE.match(value) and not _DATE_RE.match(
        value
    ):
        return value
    return f"'{value}'" if "'" not in value else f'"{value}"'


def _format_value(value: Value) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_format_scalar(v) for v in value) + "]"
    if value is None:
        return ""
    return _format_scalar(value)


def to_raw(predicate: Predicate) -> Any:
    """The YAML form of a parsed predicate; ``parse_predicate(to_raw(p)) == p``."""
    if isinstance(predicate, Const):
        return predicate.value
    if isinstance(predicate, Test):
        if predicate.op is Op.EXISTS:
            return f"{predicate.attribute} exists"
        return f"{predicate.attribute} {predicate.op.value} {_format_value(predicate.value)}"
    if isinstance(predicate, Not):
        return {"not": to_raw(predicate.item)}
    key = "all" if isinstance(predicate, AllOf) else "any"
    return {key: [to_raw(item) for item in predicate.items]}


# --- evaluation ------------------------------------------------------------------------------------------

_MISSING = object()
_ORDER: Mapping[Op, Callable[[Any, Any], bool]] = {
    Op.LT: operator.lt, Op.LE: operator.le, Op.GT: operator.gt, Op.GE: operator.ge
}


def _lookup(attrs: Mapping[str, Any], name: str) -> Any:
    if name in attrs:
        value = attrs[name]
        return _MISSING if value is None else value
    current: Any = attrs
    for part in name.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return _MISSING
        current = current[part]
    return _MISSING if current is None else current


def _coerce(actual: Any, wanted: Scalar) -> Any:
    """Bring the product's value into the type of the literal, or return _MISSING on a mismatch."""
    if isinstance(wanted, bool):
        return actual if isinstance(actual, bool) else _MISSING
    if isinstance(wanted, dt.date):
        if isinstance(actual, dt.date):
            return actual.date() if isinstance(actual, dt.datetime) else actual
        try:
            return dt.date.fromisoformat(actual[:10]) if isinstance(actual, str) else _MISSING
        except ValueError:
            return _MISSING
    if isinstance(wanted, int | float):
        return actual if isinstance(actual, int | float) and not isinstance(actual, bool) else _MISSING
    return actual if isinstance(actual, str) else _MISSING


def _equals(actual: Any, wanted: Scalar) -> bool | None:
    value = _coerce(actual, wanted)
    return None if value is _MISSING else bool(value == wanted)


def _test(test: Test, attrs: Mapping[str, Any]) -> Evaluation:
    actual = _lookup(attrs, test.attribute)
    if test.op is Op.EXISTS:
        return Evaluation(Truth.FALSE if actual is _MISSING else Truth.TRUE)
    if actual is _MISSING:
        return Evaluation(Truth.UNKNOWN, missing=frozenset({test.attribute}))
    elements = list(actual) if isinstance(actual, list | tuple | set | frozenset) else [actual]
    lit = test.value
    wanted: tuple[Scalar, ...] = lit if isinstance(lit, tuple) else (() if lit is None else (lit,))
    if test.op in (Op.IN, Op.NOT_IN, Op.CONTAINS, Op.EQ, Op.NE):
        results = [_equals(elem, w) for elem in elements for w in wanted]
        if test.op in (Op.EQ, Op.NE) and len(elements) != 1:
            results = [None]
        hit = any(r is True for r in results)
        if not hit and any(r is None for r in results):
            return Evaluation(Truth.UNKNOWN, mismatched=frozenset({test.attribute}))
        positive = test.op in (Op.IN, Op.CONTAINS, Op.EQ)
        return Evaluation(Truth.TRUE if hit == positive else Truth.FALSE)
    literal = wanted[0]
    value = _coerce(actual, literal)
    if value is _MISSING or isinstance(actual, list | tuple | set | frozenset):
        return Evaluation(Truth.UNKNOWN, mismatched=frozenset({test.attribute}))
    return Evaluation(Truth.TRUE if _ORDER[test.op](value, literal) else Truth.FALSE)


def _combine(results: list[Evaluation], absorbing: Truth) -> Evaluation:
    truths = [r.truth for r in results]
    missing = frozenset[str]().union(*(r.missing for r in results))
    mismatched = frozenset[str]().union(*(r.mismatched for r in results))
    if absorbing in truths:
        return Evaluation(absorbing)
    if Truth.UNKNOWN in truths:
        return Evaluation(Truth.UNKNOWN, missing, mismatched)
    return Evaluation(~absorbing)


def evaluate(predicate: Predicate, attrs: Mapping[str, Any]) -> Evaluation:
    """Evaluate a parsed predicate against product attributes, in three-valued logic."""
    if isinstance(predicate, Const):
        return Evaluation(Truth.TRUE if predicate.value else Truth.FALSE)
    if isinstance(predicate, Test):
        return _test(predicate, attrs)
    if isinstance(predicate, Not):
        inner = evaluate(predicate.item, attrs)
        return Evaluation(~inner.truth, inner.missing, inner.mismatched)
    results = [evaluate(item, attrs) for item in predicate.items]
    return _combine(results, Truth.FALSE if isinstance(predicate, AllOf) else Truth.TRUE)
