"""The applies_to predicate language: parsing, three-valued evaluation, error messages, and properties."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roadpass.compliance.predicates import (
    AllOf,
    AnyOf,
    Const,
    Not,
    Op,
    Predicate,
    PredicateError,
    Truth,
    attributes_of,
    evaluate,
    parse_predicate,
    to_raw,
)
from roadpass.compliance.predicates import Test as AttrTest

CAR = {
    "product_type": "vehicle",
    "category": "M1",
    "connectivity": True,
    "model_year": 2027,
    "battery": {"energy_kwh": 75.0},
    "registration_date": "2027-02-01",
    "vcs.software_nexus": ["CN", "DE"],
}


@pytest.mark.parametrize(
    ("raw", "truth"),
    [
        ("category in [M1, N1]", Truth.TRUE),
        ("category not in [M1, N1]", Truth.FALSE),
        ("battery.energy_kwh > 2", Truth.TRUE),
        ("battery.energy_kwh <= 2.5", Truth.FALSE),
        ("connectivity == true", Truth.TRUE),
        ("model_year >= 2027", Truth.TRUE),
        ("registration_date < 2027-01-01", Truth.FALSE),
        ("vcs.software_nexus contains CN", Truth.TRUE),
        ("vcs.software_nexus in [RU, CN]", Truth.TRUE),
        ("vcs.software_nexus not in [RU]", Truth.TRUE),
        ("ads_level >= 3", Truth.UNKNOWN),
        ("ads_level exists", Truth.FALSE),
        ("model_year exists", Truth.TRUE),
        ("category == 'M1'", Truth.TRUE),
        ("connectivity == 1", Truth.UNKNOWN),
        ("category >= 3", Truth.UNKNOWN),
        ({"all": ["category in [M1]", "ads_level >= 3"]}, Truth.UNKNOWN),
        ({"all": ["category in [N1]", "ads_level >= 3"]}, Truth.FALSE),
        ({"any": ["category in [M1]", "ads_level >= 3"]}, Truth.TRUE),
        ({"not": "ads_level >= 3"}, Truth.UNKNOWN),
        ({"not": {"any": ["category == N1", "model_year < 2000"]}}, Truth.TRUE),
        (True, Truth.TRUE),
        (False, Truth.FALSE),
    ],
)
def test_evaluates_three_valued(raw: Any, truth: Truth) -> None:
    assert evaluate(parse_predicate(raw, requirement_id="T-1"), CAR).truth is truth


def test_unknown_names_missing_and_mismatched_attributes() -> None:
    result = evaluate(parse_predicate({"all": ["ads_level >= 3", "connectivity == 1"]}), CAR)
    assert result.truth is Truth.UNKNOWN
    assert not result.known
    assert result.missing == {"ads_level"}
    assert result.mismatched == {"connectivity"}


def test_parses_into_typed_ast() -> None:
    pred = parse_predicate({"all": ["category in [M1, N1]", {"not": "ads_level >= 3"}]})
    assert pred == AllOf((AttrTest("category", Op.IN, ("M1", "N1")), Not(AttrTest("ads_level", Op.GE, 3))))
    assert attributes_of(pred) == {"category", "ads_level"}
    assert parse_predicate("d >= 2027-07-07") == AttrTest("d", Op.GE, dt.date(2027, 7, 7))
    assert parse_predicate("x in ['a, b', \"c\"]") == AttrTest("x", Op.IN, ("a, b", "c"))


@pytest.mark.parametrize(
    ("raw", "where", "reason"),
    [
        ("model_year", "/", "operator"),
        ("a >= [1]", "/", "single value"),
        ("a in M1", "/", "expected a list"),
        ("a < foo", "/", "number or a date"),
        ("a == ", "/", "value is missing"),
        ("a in [1,,2]", "/", "empty item"),
        ("a == 'x", "/", "quoted string"),
        ("a exists 3", "/", "takes no value"),
        ("a == 2027-02-30", "/", "calendar date"),
        ("a == in", "/", "keyword"),
        ({"all": []}, "/all", "non-empty list"),
        ({"all": ["a == 1", {"bogus": 1}]}, "/all/1", "unknown combinator"),
        ({"all": ["a == 1"], "any": ["b == 1"]}, "/", "exactly one key"),
        (3, "/", "string, boolean or mapping"),
    ],
)
def test_parse_errors_name_requirement_place_and_reason(raw: Any, where: str, reason: str) -> None:
    with pytest.raises(PredicateError) as info:
        parse_predicate(raw, requirement_id="EU-GSR-R155")
    message = str(info.value)
    assert message.startswith("requirement EU-GSR-R155: predicate at ")
    assert info.value.where in ("", where.lstrip("/")) or info.value.where.endswith(where.lstrip("/"))
    assert reason in message


# --- properties -------------------------------------------------------------------------------------------

names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}(\.[a-z_][a-z0-9_]{0,6}){0,2}", fullmatch=True)
texts = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"], exclude_characters='"'),
    max_size=10,
)
numbers = st.one_of(
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
)
ordered = st.one_of(numbers, st.dates())
scalars = st.one_of(st.booleans(), ordered, texts)


@st.composite
def attribute_tests(draw: st.DrawFn) -> AttrTest:
    attr = draw(names)
    op = draw(st.sampled_from(list(Op)))
    if op is Op.EXISTS:
        return AttrTest(attr, op, None)
    if op in (Op.IN, Op.NOT_IN):
        return AttrTest(attr, op, tuple(draw(st.lists(scalars, min_size=1, max_size=4))))
    if op in (Op.LT, Op.LE, Op.GT, Op.GE):
        return AttrTest(attr, op, draw(ordered))
    return AttrTest(attr, op, draw(scalars))


leaves = st.one_of(attribute_tests(), st.booleans().map(Const))
predicates: st.SearchStrategy[Predicate] = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: AllOf(tuple(xs))),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: AnyOf(tuple(xs))),
        inner.map(Not),
    ),
    max_leaves=8,
)
values = st.one_of(st.none(), scalars, st.lists(scalars, max_size=3))
attrs = st.dictionaries(names, values, max_size=6)


@settings(max_examples=300, deadline=None)
@given(predicates)
def test_to_raw_round_trips(pred: Predicate) -> None:
    assert parse_predicate(to_raw(pred), requirement_id="P") == pred


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.recursive(
            st.one_of(st.text(max_size=20), st.booleans(), st.integers(), st.none()),
            lambda inner: st.one_of(
                st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=2)
            ),
            max_leaves=6,
        ),
    )
)
def test_parser_only_ever_raises_predicate_error(raw: Any) -> None:
    error: PredicateError | None = None
    try:
        parse_predicate(raw, requirement_id="FUZZ")
    except PredicateError as exc:
        error = exc
    assert error is None or error.requirement_id == "FUZZ"


@settings(max_examples=300, deadline=None)
@given(predicates, attrs)
def test_evaluation_never_raises_and_obeys_kleene_laws(pred: Predicate, product: dict[str, Any]) -> None:
    result = evaluate(pred, product)
    assert evaluate(Not(Not(pred)), product).truth is result.truth
    assert evaluate(Not(pred), product).truth is ~result.truth
    other = AttrTest("model_year", Op.GE, 2027)
    de_morgan_left = evaluate(Not(AllOf((pred, other))), product).truth
    de_morgan_right = evaluate(AnyOf((Not(pred), Not(other))), product).truth
    assert de_morgan_left is de_morgan_right
    if result.truth is not Truth.UNKNOWN:
        assert evaluate(pred, {**product, "unrelated_attribute_xyz": 1}).truth is result.truth
