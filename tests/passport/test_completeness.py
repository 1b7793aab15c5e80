"""Mandatory long-list attributes still missing, for the battery's category."""

from __future__ import annotations

from collections.abc import Callable

from roadpass.passport.completeness import is_complete, missing_attributes, missing_in_sections
from roadpass.passport.domain import BatteryCategory, BatteryPassport
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.longlist import Requirement
from roadpass.passport.schemas import SectionName


def test_samples_as_an_lmt_battery_lack_what_the_sample_data_leaves_out(passport: BatteryPassport) -> None:
    missing = missing_attributes(passport)
    numbers = [m.number for m in missing]
    assert numbers == [13, 21, 22, 23, 85, 86]
    cadmium = missing[0]
    assert cadmium.attribute == "Symbols for cadmium and lead"
    assert cadmium.section == "Labeling"
    assert cadmium.path == "$.labels[?@.labelingSubject=='HazardousMaterial'].labelingSymbol"
    assert cadmium.regulation_reference == "Annex XIII (1s) Art. 13(5);"
    assert cadmium.requirement is Requirement.MANDATORY
    assert missing[-1].representable is False
    assert missing[-1].path is None
    assert not is_complete(passport)


def test_missing_section_and_category_rules(sections: dict[SectionName, JsonObject]) -> None:
    del sections["Circularity"]
    lmt = {m.number for m in missing_in_sections(sections, BatteryCategory.LMT)}
    assert set(range(36, 52)) <= lmt
    assert 15 in lmt  # extinguishing agent lives in Circularity.safetyMeasures
    ev = missing_in_sections({}, BatteryCategory.EV)
    ev_numbers = {m.number for m in ev}
    assert 57 in ev_numbers  # SOCE: EV only
    assert 7 not in ev_numbers  # date of putting into service: LMT and stationary only
    assert 7 in {m.number for m in missing_in_sections({}, BatteryCategory.STATIONARY)}
    assert all(m.reason == "section missing" for m in ev if m.representable)


def test_voluntary_attributes_on_request(sections: dict[SectionName, JsonObject]) -> None:
    sections["SupplyChainDueDiligence"] = {"supplyChainDueDiligenceReport": "https://example.com/dd"}
    mandatory = {m.number for m in missing_in_sections(sections, BatteryCategory.EV)}
    everything = {m.number for m in missing_in_sections(sections, BatteryCategory.EV, include_voluntary=True)}
    assert 29 not in mandatory
    assert {29, 30} <= everything


def test_a_full_passport_is_complete_but_for_what_v1_2_cannot_carry(
    make_passport: Callable[..., BatteryPassport],
) -> None:
    passport = make_passport()
    labeling = dict(passport.sections["Labeling"])
    labels = list(labeling["labels"])  # type: ignore[arg-type]
    for subject in ("HazardousMaterial", "CarbonFootPrint", "ExtinguishingAgent"):
        labels.append(
            {
                "labelingSubject": subject,
                "labelingSymbol": "https://example.com/s.svg",
                "labelingMeaning": {"en": subject},
            }
        )
    footprint = dict(passport.sections["CarbonFootprintForBatteries"])
    footprint["carbonFootprintPerLifecycleStage"] = [
        {"lifecycleStage": stage, "carbonFootprint": 1.0}
        for stage in ("RawMaterialExtraction", "MainProduction", "Distribution", "Recycling")
    ]
    passport = passport.with_section("Labeling", {**labeling, "labels": labels}).with_section(
        "CarbonFootprintForBatteries", footprint
    )
    assert [m.number for m in missing_attributes(passport)] == [85, 86]
    assert is_complete(passport)
    blank = passport.with_section(
        "SupplyChainDueDiligence",
        {**passport.sections["SupplyChainDueDiligence"], "supplyChainDueDiligenceReport": "  "},
    )
    assert [m.number for m in missing_attributes(blank)] == [28, 85, 86]
