"""Import of an IDTA 02035-5 Product Condition submodel: checked, applied as dynamic data, refused whole."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.passport.aas.export import build_submodel, submodel_id, to_json_bytes
from roadpass.passport.aas.product_condition import (
    ConditionImport,
    ConditionRefused,
    ConditionWrite,
    apply_condition,
    parse_product_condition,
    validate_condition,
)
from roadpass.passport.aas.templates import submodel_template
from roadpass.passport.access import Role, view
from roadpass.passport.domain import BatteryPassport

AT = "2026-03-01T10:00:00+00:00"
PD = "PerformanceAndDurability"


def _condition(passport: BatteryPassport) -> dict[str, Any]:
    """The passport's own Product Condition submodel as AAS JSON (what a BMS vendor's AAS looks like)."""
    template = submodel_template("ProductCondition")
    assert template is not None
    sections = {str(k): v for k, v in view(passport, Role.LEGITIMATE_INTEREST).sections.items()}
    submodel, _ = build_submodel(template, sections, identifier=submodel_id(passport.passport_id, "ProductCondition"))
    document: dict[str, Any] = json.loads(to_json_bytes(submodel))
    return document


def _sane(passport: BatteryPassport) -> BatteryPassport:
    condition = {
        "stateOfCharge": {"stateOfChargeValue": 71.5, "lastUpdate": "2025-01-31T14:06:29+01:00"},
        "numberOfFullCycles": {"numberOfFullCyclesValue": 412, "lastUpdate": "2025-01-31T14:06:29+01:00"},
        "negativeEvents": [{"negativeEvent": "deep discharge", "lastUpdate": "2025-01-02T10:00:00+01:00"}],
    }
    section = {**passport.sections[PD], "batteryCondition": condition}
    return passport.with_section(PD, section)


def _element(document: dict[str, Any], id_short: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e for e in document["submodelElements"] if e["idShort"] == id_short)
    return found


def _set(document: dict[str, Any], id_short: str, child: str, value: str) -> None:
    for prop in _element(document, id_short)["value"]:
        if prop["idShort"] == child:
            prop["value"] = value


def test_a_submodel_round_trips_into_the_passports_dynamic_data(passport: BatteryPassport) -> None:
    source = _sane(passport)
    document = _condition(source)
    _set(document, "StateOfCharge", "StateOfChargeValue", "64.25")
    _set(document, "StateOfCharge", "LastUpdate", AT)
    parsed = parse_product_condition(document)
    after = apply_condition(source, parsed, at=AT, source="aas:test")
    validate_condition(after, parsed)
    assert after.value_at(PD, "$.batteryCondition.stateOfCharge") == {"stateOfChargeValue": 64.25, "lastUpdate": AT}
    assert after.value_at(PD, "$.batteryCondition.numberOfFullCycles.numberOfFullCyclesValue") == 412
    assert len(after.history) == len(source.history) + len(parsed.writes)
    assert {u.source for u in after.history[len(source.history):]} == {"aas:test"}


def test_negative_events_are_merged_never_lost(passport: BatteryPassport) -> None:
    source = _sane(passport)
    document = _condition(source)
    events = _element(document, "NegativeEvents")
    item = copy.deepcopy(events["value"][0])
    for prop in item["value"]:
        prop["value"] = "overheating" if prop["idShort"] == "NegativeEventValue" else AT
    events["value"] = [item]  # the vendor knows only its newest event
    after = apply_condition(source, parse_product_condition(document), at=AT, source="aas:test")
    assert after.value_at(PD, "$.batteryCondition.negativeEvents") == [
        {"negativeEvent": "deep discharge", "lastUpdate": "2025-01-02T10:00:00+01:00"},
        {"negativeEvent": "overheating", "lastUpdate": AT},
    ]


def _refused(document: Any) -> dict[str, str]:
    with pytest.raises(ConditionRefused) as caught:
        parse_product_condition(document)
    return {i.path: i.reason for i in caught.value.issues}


def test_refused_whole_with_each_json_path(passport: BatteryPassport) -> None:
    document = _condition(_sane(passport))
    index = [e["idShort"] for e in document["submodelElements"]].index("StateOfCharge")
    _set(document, "StateOfCharge", "StateOfChargeValue", "seventy")
    _element(document, "NumberOfFullCycles")["value"][0]["value"] = "4294967296"
    cycles = [e["idShort"] for e in document["submodelElements"]].index("NumberOfFullCycles")
    document["submodelElements"].append({"idShort": "Mood", "modelType": "Property", "valueType": "xs:string"})
    issues = _refused(document)
    assert "not a xs:float" in issues[f"$.submodelElements[{index}].value[0].value"]
    assert "maximum" in issues[f"$.submodelElements[{cycles}].value[0].value"]
    assert f"$.submodelElements[{len(document['submodelElements']) - 1}].idShort" in issues


def test_refusals_of_shape(passport: BatteryPassport) -> None:
    document = _condition(_sane(passport))
    wrong = copy.deepcopy(document)
    wrong["semanticId"]["keys"][0]["value"] = "urn:other"
    assert "$.semanticId" in _refused(wrong)
    assert "$.submodels" in _refused({"submodels": [wrong]})
    assert "$" in _refused([1, 2])
    typed = copy.deepcopy(document)
    _element(typed, "StateOfCharge")["value"][0]["valueType"] = "xs:string"
    assert any(p.endswith(".value[0].valueType") for p in _refused(typed))
    kind = copy.deepcopy(document)
    _element(kind, "StateOfCharge")["modelType"] = "Property"
    assert any(p.endswith(".modelType") for p in _refused(kind))
    timeless = copy.deepcopy(document)
    soc = _element(timeless, "StateOfCharge")
    soc["value"] = [p for p in soc["value"] if p["idShort"] != "LastUpdate"]
    assert any("LastUpdate" in r for r in _refused(timeless).values())
    assert "$.submodelElements" in _refused({**document, "submodelElements": []})


def test_a_time_without_offset_is_refused(passport: BatteryPassport) -> None:
    document = _condition(_sane(passport))
    _set(document, "StateOfCharge", "LastUpdate", "2026-03-01T10:00:00")  # RFC 3339 §5.6 needs the offset
    index = [e["idShort"] for e in document["submodelElements"]].index("StateOfCharge")
    assert "offset" in _refused(document)[f"$.submodelElements[{index}].value[1].value"]


def test_a_value_the_passport_schema_refuses_names_the_element(passport: BatteryPassport) -> None:
    source = _sane(passport)
    parsed = ConditionImport("urn:x", [ConditionWrite("$.batteryCondition.stateOfCharge",
                                                      {"stateOfChargeValue": "high", "lastUpdate": AT}, AT,
                                                      "$.submodelElements[3]")])
    with pytest.raises(ConditionRefused) as caught:
        validate_condition(apply_condition(source, parsed, at=AT, source="aas:test"), parsed)
    assert [i.path for i in caught.value.issues] == ["$.submodelElements[3]"]


def test_the_upstream_template_is_read_as_a_vendor_would_send_it(conformance: Path) -> None:
    raw = json.loads((conformance / "aas" / "idta-02035" / "IDTA_02035-5_DBP-Part-5_ProductCondition.json")
                     .read_text(encoding="utf-8-sig"))
    # An environment; its xs:unsignedInt and its named list items are accepted, but its example times carry
    # no offset, so it is refused, each LastUpdate named.
    issues = _refused(raw)
    assert issues and all("offset" in r for r in issues.values())
    assert "$.submodels[0].submodelElements[13].value[1].value" in issues
    for element in raw["submodels"][0]["submodelElements"]:
        _stamp(element)
    parsed = parse_product_condition(raw)
    assert "$.batteryCondition.stateOfCharge" in {w.path for w in parsed.writes}
    assert "ProductCondition.InformationOnAccidents" in parsed.ignored


def _stamp(element: Any) -> None:
    if isinstance(element, dict):
        if element.get("valueType") == "xs:dateTime":
            element["value"] = AT
        for child in element.get("value") or [] if isinstance(element.get("value"), list) else []:
            _stamp(child)


_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
_json = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _issues(document: Any) -> list[str] | None:
    """The refusal's paths, or None when the document was accepted."""
    try:
        parse_product_condition(document)
    except ConditionRefused as exc:
        return [i.path for i in exc.issues]
    return None


@given(_json)
def test_any_json_is_parsed_or_refused_with_paths(document: Any) -> None:
    paths = _issues(document)
    assert paths is None or (paths and all(p.startswith("$") for p in paths))


@given(st.lists(st.sampled_from(["StateOfCharge", "NumberOfFullCycles", "Mood", "NegativeEvents"]), max_size=5),
       st.text(max_size=6))
def test_mutated_documents_are_refused_with_paths_or_accepted(names: list[str], value: str) -> None:
    document = {"modelType": "Submodel", "id": "urn:x",
                "semanticId": {"keys": [{"value": "urn:samm:io.admin-shell.idta.batterypass.product_condition:"
                                                  "1.0.0#ProductCondition"}]},
                "submodelElements": [{"idShort": n, "modelType": "SubmodelElementCollection",
                                      "value": [{"idShort": "StateOfChargeValue", "modelType": "Property",
                                                 "valueType": "xs:float", "value": value}]} for n in names]}
    paths = _issues(document)
    assert paths is None or all(p.startswith("$.submodelElements") for p in paths)


_element_shapes = st.fixed_dictionaries({
    "idShort": st.sampled_from(["StateOfCharge", "NegativeEvents", "EnergyThroughput", "RemainingPowerCapability"]),
    "modelType": st.sampled_from(["SubmodelElementCollection", "SubmodelElementList", "Property"]),
    "value": _json,
})


@given(st.lists(_element_shapes, max_size=4))
def test_elements_of_any_shape_are_refused_with_paths_or_accepted(elements: list[dict[str, Any]]) -> None:
    document = {"modelType": "Submodel", "id": "urn:x", "submodelElements": elements,
                "semanticId": {"keys": [{"value": "urn:samm:io.admin-shell.idta.batterypass.product_condition:"
                                                  "1.0.0#ProductCondition"}]}}
    paths = _issues(document)
    assert paths is None or all(p.startswith("$.submodelElements") for p in paths)
