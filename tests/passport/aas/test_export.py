"""A passport as an IDTA 02035 shell: strict loading, round trips (JSON, AASX), views per role, value types."""

from __future__ import annotations

import math
from typing import Any

import pytest
from basyx.aas import model
from hypothesis import given
from hypothesis import strategies as st

from roadpass.passport.aas.export import AasExport, export_view, parse_submodel_id, submodel_id, to_xsd
from roadpass.passport.aas.templates import TemplateElement, submodel_template
from roadpass.passport.aas.values import submodel_value
from roadpass.passport.access import Role, view
from roadpass.passport.domain import BatteryPassport

from .conftest import strict_aasx_round_trip, strict_json_round_trip


def _export(passport: BatteryPassport, role: Role) -> AasExport:
    sections = {str(k): v for k, v in view(passport, role).sections.items()}
    return export_view(passport.passport_id, passport.battery_id, sections)


def _sane(passport: BatteryPassport) -> BatteryPassport:
    """The sample passport with the consortium's fuzzed extremes replaced by plausible figures."""
    condition = dict(passport.sections["PerformanceAndDurability"]["batteryCondition"])  # type: ignore[arg-type]
    condition["numberOfFullCycles"] = {"numberOfFullCyclesValue": 412, "lastUpdate": "2025-01-31T14:06:29+01:00"}
    condition["stateOfCharge"] = {"stateOfChargeValue": 71.5, "lastUpdate": "2025-01-31T14:06:29+01:00"}
    section = {**passport.sections["PerformanceAndDurability"], "batteryCondition": condition}
    return passport.with_section("PerformanceAndDurability", section)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_export_loads_strictly_and_round_trips(passport: BatteryPassport, role: Role) -> None:
    export = _export(_sane(passport), role)
    written, again = strict_json_round_trip(export)
    assert written == again
    written, from_package = strict_aasx_round_trip(export)
    assert written == from_package
    assert len(written["submodels"]) == 7


def _semantic_ids(element: model.SubmodelElement, tmpl: TemplateElement) -> None:
    assert element.semantic_id is not None
    assert element.semantic_id.key[0].value == tmpl.semantic_id
    if isinstance(element, model.SubmodelElementCollection):
        for child in element.value:
            found = tmpl.child(str(child.id_short))
            assert found is not None
            _semantic_ids(child, found)
    elif isinstance(element, model.SubmodelElementList):
        assert tmpl.item is not None
        for item in element.value:
            _semantic_ids(item, tmpl.item)


def _no_id_short_in_lists(node: Any) -> int:
    checked = 0
    if isinstance(node, dict):
        if node.get("modelType") == "SubmodelElementList":
            for item in node.get("value", []):
                assert "idShort" not in item  # AAS Part 1 V3.0 AASd-120
                checked += 1
        for value in node.values():
            checked += _no_id_short_in_lists(value)
    elif isinstance(node, list):
        checked += sum(_no_id_short_in_lists(v) for v in node)
    return checked


def test_list_items_are_written_without_id_short(passport: BatteryPassport) -> None:
    written, _ = strict_json_round_trip(_export(_sane(passport), Role.AUTHORITY))
    assert _no_id_short_in_lists(written) > 10


def test_elements_carry_the_templates_semantic_ids(passport: BatteryPassport) -> None:
    export = _export(_sane(passport), Role.AUTHORITY)
    for submodel in export.submodels:
        template = submodel_template(str(submodel.id_short))
        assert template is not None and submodel.semantic_id is not None
        assert submodel.semantic_id.key[0].value == template.semantic_id
        assert submodel.kind is model.ModellingKind.INSTANCE
        assert parse_submodel_id(submodel.id) == (passport.passport_id, submodel.id_short)
        for element in submodel.submodel_element:
            tmpl = template.element(str(element.id_short))
            assert tmpl is not None
            _semantic_ids(element, tmpl)


def _values(export: AasExport, id_short: str) -> dict[str, Any]:
    submodel = next(s for s in export.submodels if s.id_short == id_short)
    return submodel_value(submodel)


def test_a_role_sees_in_its_aas_exactly_what_its_view_holds(passport: BatteryPassport) -> None:
    sane = _sane(passport)
    public, legit, authority = (_export(sane, r) for r in (Role.PUBLIC, Role.LEGITIMATE_INTEREST, Role.AUTHORITY))
    # Annex XIII(4) dynamic values: legitimate interest (Art. 77(2)(b)), not the public.
    assert "StateOfCharge" not in _values(public, "ProductCondition")
    assert _values(legit, "ProductCondition")["StateOfCharge"]["StateOfChargeValue"] == 71.5
    # Annex XIII(3) test reports: authorities only (Art. 77(2)(c)).
    assert "ResultsOfTestReportsProvingCompliance" in _values(authority, "BatteryNameplate")
    assert "ResultsOfTestReportsProvingCompliance" not in _values(legit, "BatteryNameplate")
    # Public attributes are there for everybody (Annex XIII(1)).
    assert _values(public, "MaterialComposition")["BatteryChemistry"]["ShortName"] == "NMC"


def test_values_that_do_not_fit_the_template_are_listed_not_written(passport: BatteryPassport) -> None:
    # The consortium's samples are fuzzed: -1.79e308 fits no xs:float, negative cycles no xs:unsignedInt.
    export = _export(passport, Role.AUTHORITY)
    reasons = {s.path: s.reason for s in export.skipped}
    assert any("xs:float" in r for r in reasons.values())
    assert "xs:unsignedInt" in reasons["TechnicalData.TechnicalPropertyAreas.Lifetime.ExpectedNumberOfCycles"]
    written, again = strict_json_round_trip(export)
    assert written == again


def test_submodel_ids_parse_back() -> None:
    assert parse_submodel_id(submodel_id("urn:roadpass:abc", "ProductCondition")) == ("urn:roadpass:abc",
                                                                                      "ProductCondition")
    assert parse_submodel_id("urn:roadpass:abc") is None
    assert parse_submodel_id("urn:roadpass:abc/aas/") is None


@given(st.floats(allow_nan=False, allow_infinity=False, width=32))
def test_xs_float_values_survive(value: float) -> None:
    typed = to_xsd(value, "xs:float")
    assert not isinstance(typed, str) and typed[1] == value


@given(st.integers(min_value=-(2**40), max_value=2**40))
def test_unsigned_int_keeps_its_range_though_written_as_unsigned_long(value: int) -> None:
    typed = to_xsd(value, "xs:unsignedInt")
    if 0 <= value <= 4294967295:
        assert not isinstance(typed, str) and typed[1] == value
        assert typed[0] is model.datatypes.UnsignedLong
    else:
        assert isinstance(typed, str)


@given(st.one_of(st.text(max_size=20), st.booleans(), st.floats(), st.none(), st.lists(st.integers(), max_size=2)))
def test_to_xsd_answers_a_type_or_a_reason(value: Any) -> None:
    for value_type in ("xs:string", "xs:float", "xs:double", "xs:decimal", "xs:integer", "xs:boolean", "xs:date",
                       "xs:dateTime", "xs:anyURI"):
        typed = to_xsd(value, value_type)
        if isinstance(value, float) and not math.isfinite(value) and value_type != "xs:string":
            assert isinstance(typed, str)
        assert isinstance(typed, str | tuple)
