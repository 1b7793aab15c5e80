"""Consortium-format import (detect, normalise with a report, validate) and export; round trips."""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable

import pytest

from roadpass.passport.importing import (
    ImportRefused,
    export_consortium,
    export_json,
    identifier_paths,
    import_consortium,
)
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.schemas import SECTION_NAMES, SectionName, validate_section

SAMPLES = [n for n in SECTION_NAMES if n != "Circularity"]
Sample = Callable[[SectionName], JsonObject]


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_payload_round_trips(
    name: SectionName, sample_bytes: Callable[[SectionName], bytes], sections: dict[SectionName, JsonObject]
) -> None:
    result = import_consortium(sample_bytes(name))  # the file as published: UTF-16LE+BOM or UTF-8
    assert result.kind == "section"
    assert list(result.sections) == [name]
    exported = export_consortium(result.sections, section=name)
    assert exported == sections[name]  # equal after the trimming normalisation
    assert validate_section(name, exported) == []
    again = import_consortium(export_json(result.sections, section=name))
    assert again.sections == result.sections
    assert again.changes == ()


def test_the_cas_number_is_trimmed_and_the_change_reported(
    sample_bytes: Callable[[SectionName], bytes],
) -> None:
    result = import_consortium(sample_bytes("MaterialComposition"))
    (change,) = result.changes
    assert change.section == "MaterialComposition"
    assert change.path == "$.batteryMaterials[0].batteryMaterialIdentifier"
    assert (change.old, change.new) == ("7439-93-2 ", "7439-93-2")


def test_free_text_is_never_trimmed_and_a_value_still_invalid_is_refused(sample: Sample) -> None:
    payload = sample("MaterialComposition")
    payload["batteryChemistry"] = {
        "shortName": " NMC ",
        "clearName": "Lithium nickel manganese cobalt oxides ",
    }
    result = import_consortium(payload)
    assert result.sections["MaterialComposition"]["batteryChemistry"] == payload["batteryChemistry"]
    assert [c.path for c in result.changes] == ["$.batteryMaterials[0].batteryMaterialIdentifier"]
    payload["batteryMaterials"][0]["batteryMaterialIdentifier"] = " 7439-93 "  # type: ignore[index]
    with pytest.raises(ImportRefused) as refused:
        import_consortium(payload)
    (issue,) = refused.value.issues
    assert issue.path == "$.batteryMaterials[0].batteryMaterialIdentifier"
    assert issue.keyword == "pattern"
    assert refused.value.changes[0].new == "7439-93"  # the report says what was tried


def test_whole_passport_flat_union_and_envelope(sections: dict[SectionName, JsonObject]) -> None:
    union: JsonObject = {}
    for payload in sections.values():
        union.update(payload)
    flat = import_consortium(json.dumps(union))
    assert flat.kind == "passport"
    assert flat.sections == sections
    assert export_consortium(flat.passport()) == union
    envelope = import_consortium(dict(sections.items()))  # type: ignore[misc]
    assert envelope.kind == "passport"
    assert envelope.sections == sections
    passport = envelope.passport()
    assert passport.passport_id == "urn:bmwk:123456687678"
    assert passport.battery_id == "eOMtThyhVNLWUZNRcBaQKxI"


def test_encodings_of_the_consortium_are_accepted(sample: Sample) -> None:
    text = json.dumps(sample("Labeling"), indent=2).replace("\n", "\r\n")
    for data in (
        codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        text.encode("utf-8"),
        codecs.BOM_UTF8 + text.encode(),
    ):
        assert import_consortium(data).sections["Labeling"] == sample("Labeling")


@pytest.mark.parametrize(
    ("document", "path", "reason"),
    [
        ([1, 2], "$", "expected a JSON object"),
        ({"colour": "blue"}, "$", "no property of any Battery Pass v1.2 section"),
        ({"batteryMass": 1, "labels": [], "colour": "blue"}, "$.colour", "no section declares it"),
        ({"Labeling": "x"}, "$.Labeling", "a section must be a JSON object"),
    ],
)
def test_shapes_that_cannot_be_placed_are_refused_with_path(document: object, path: str, reason: str) -> None:
    with pytest.raises(ImportRefused) as refused:
        import_consortium(document)  # type: ignore[arg-type]
    assert refused.value.issues[0].path == path
    assert reason in refused.value.issues[0].reason


def test_extras_beside_a_section_are_kept_and_section_can_be_forced(sample: Sample) -> None:
    payload = {**sample("SupplyChainDueDiligence"), "vendorScore": 7}
    result = import_consortium(payload)
    assert result.sections["SupplyChainDueDiligence"]["vendorScore"] == 7
    with pytest.raises(ImportRefused, match="required property is missing"):
        import_consortium(payload, section="Labeling")


def test_identifier_like_paths_come_from_the_schemas() -> None:
    material = identifier_paths("MaterialComposition")
    assert "$.batteryMaterials[*].batteryMaterialIdentifier" in material  # CAS number (pattern)
    assert "$.batteryMaterials[*].batteryMaterialLocation.componentId" in material  # ...Id
    assert "$.batteryChemistry.shortName" not in material
    assert "$.productIdentifier" in identifier_paths("GeneralProductInformation")
    assert "$.manufacturerInformation.contactName" not in identifier_paths("GeneralProductInformation")


def test_export_of_a_missing_section_names_it(sections: dict[SectionName, JsonObject]) -> None:
    del sections["Circularity"]
    with pytest.raises(KeyError, match="Circularity"):
        export_consortium(sections, section="Circularity")
    data = export_json(sections)
    assert not data.startswith(codecs.BOM_UTF8)
    assert b"-179769313486231570000" in data  # a 309-digit integer stays exact
