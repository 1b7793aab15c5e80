"""Issuing from battery-model data: the compiled fast validator agrees with the reference validator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from roadpass.passport.issuing import (
    UnitFacts,
    _fast_validator,
    battery_models,
    merge_sections,
    unit_sections,
    validate_for_issue,
)
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.schemas import SECTION_NAMES, SectionName, validate_section

FACTS = UnitFacts(1, "https://id.gs1.org/01/06944120000318/21/100000001", "2025-02-24T06:32:00.000+08:00")


@pytest.mark.parametrize("model", battery_models(), ids=lambda m: m.key)
def test_every_demo_model_issues_a_valid_passport(model: object) -> None:
    m = battery_models()[[x.key for x in battery_models()].index(model.key)]  # type: ignore[attr-defined]
    sections = merge_sections(m.sections, unit_sections(m, FACTS, "urn:roadpass:abc"))
    assert set(sections) == set(SECTION_NAMES)
    assert validate_for_issue(sections) == []  # puttingIntoService is not known yet: tolerated, openly
    assert [i.path for i in validate_section("GeneralProductInformation", sections["GeneralProductInformation"])] == [
        "$.puttingIntoService"]


@pytest.mark.parametrize("name", [n for n in SECTION_NAMES if n != "Circularity"])
def test_fast_and_reference_validators_agree(name: SectionName, sample: Callable[[SectionName], JsonObject]) -> None:
    payload = sample(name)
    mutations: list[JsonObject] = [payload, {**payload, next(iter(payload)): None}, {}]
    for candidate in mutations:
        reference = [i for i in validate_section(name, candidate)
                     if not (i.keyword == "required" and i.path == "$.puttingIntoService")]
        assert _fast_validator(name).is_valid(candidate) == (reference == [])
