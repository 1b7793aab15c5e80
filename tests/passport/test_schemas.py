"""Section schemas read in place (UTF-16LE+BOM / UTF-8) and validated with JSON paths and reasons."""

from __future__ import annotations

import codecs
from collections.abc import Callable

import pytest

from roadpass.conformance import conformance_path
from roadpass.passport import schemas
from roadpass.passport.jsondata import JsonObject, decode_text, loads
from roadpass.passport.schemas import (
    SECTION_NAMES,
    SectionName,
    schema_properties,
    section_schema,
    split_passport,
    validate_passport,
    validate_section,
)

SAMPLE_SECTIONS = [n for n in SECTION_NAMES if n != "Circularity"]
Sample = Callable[[SectionName], JsonObject]


@pytest.mark.parametrize("name", SECTION_NAMES)
def test_every_section_schema_loads_whatever_its_encoding(name: str) -> None:
    raw = conformance_path("batterypass", f"{name}-schema.json").read_bytes()
    schema = section_schema(name)  # type: ignore[arg-type]
    assert schema["type"] == "object"
    assert str(schema["$schema"]).startswith("http://json-schema.org/draft-04/schema")
    # The artefacts really are mixed: most UTF-16LE with BOM, GeneralProductInformation UTF-8.
    assert raw.startswith(codecs.BOM_UTF16_LE) == (name != "GeneralProductInformation")


def test_decode_text_handles_boms_and_bomless_utf16() -> None:
    text = '{"a": "Ü"}\r\n'
    for data in (
        codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
        codecs.BOM_UTF8 + text.encode("utf-8"),
        text.encode("utf-8"),
        text.encode("utf-16-le"),
        text.encode("utf-16-be"),
    ):
        assert decode_text(data) == text
        assert loads(data) == {"a": "Ü"}


@pytest.mark.parametrize("name", [n for n in SAMPLE_SECTIONS if n != "MaterialComposition"])
def test_upstream_samples_validate_against_their_own_schema(name: str, sample: Sample) -> None:
    assert validate_section(name, sample(name)) == []  # type: ignore[arg-type]


def test_material_composition_sample_breaks_the_cas_pattern_at_a_named_path(sample: Sample) -> None:
    issues = validate_section("MaterialComposition", sample("MaterialComposition"))
    where = [(i.path, i.keyword) for i in issues]
    assert where == [("$.batteryMaterials[0].batteryMaterialIdentifier", "pattern")]
    assert "7439-93-2 " in issues[0].reason


def test_made_circularity_payload_is_valid(sample: Sample) -> None:
    assert validate_section("Circularity", sample("Circularity")) == []


def test_missing_required_property_is_named_in_the_path(sample: Sample) -> None:
    payload = sample("SupplyChainDueDiligence")
    del payload["supplyChainDueDiligenceReport"]
    (issue,) = validate_section("SupplyChainDueDiligence", payload)
    assert issue.path == "$.supplyChainDueDiligenceReport"
    assert issue.keyword == "required"
    assert issue.reason == "required property is missing"


def test_formats_are_asserted_uri_and_date_time(sample: Sample) -> None:
    labels = sample("Labeling")
    labels["declarationOfConformity"] = "not a uri"
    issues = validate_section("Labeling", labels)
    assert [(i.path, i.keyword) for i in issues] == [("$.declarationOfConformity", "format")]

    gpi = sample("GeneralProductInformation")
    gpi["manufacturingDate"] = "2025-02-30T10:00:00Z"  # no 30 February
    issues = validate_section("GeneralProductInformation", gpi)
    assert [(i.path, i.keyword) for i in issues] == [("$.manufacturingDate", "format")]
    gpi["manufacturingDate"] = "2025-06-17T11:14:27.698+02:00"
    assert validate_section("GeneralProductInformation", gpi) == []


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2025-06-17T11:14:27Z", True),
        ("2016-12-31T23:59:60Z", True),  # RFC 3339 leap second
        ("2025-06-17t11:14:27+14:00", True),
        ("2025-06-17T11:14:27", False),  # no offset
        ("2025-06-17 11:14:27Z", False),
        ("2025-13-01T00:00:00Z", False),
        ("2025-01-01T24:00:00Z", False),
        ("2025-01-01T00:00:00+24:00", False),
    ],
)
def test_date_time_format_follows_rfc_3339(value: str, ok: bool) -> None:
    assert schemas.format_checker().conforms(value, "date-time") is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("telnet://192.0.2.16:80/", True),
        ("urn:bmwk:123", True),
        ("https://example.com/a%20b?x=1#f", True),
        ("https://example.com/a b", False),
        ("example.com/path", False),
        ("https://example.com/%zz", False),
    ],
)
def test_uri_format_follows_rfc_3986(value: str, ok: bool) -> None:
    assert schemas.format_checker().conforms(value, "uri") is ok


def test_validators_are_compiled_once() -> None:
    assert schemas._validator("Labeling") is schemas._validator("Labeling")


def test_sections_share_no_top_level_property() -> None:
    seen: set[str] = set()
    for name in SECTION_NAMES:
        assert not (schema_properties(name) & seen)
        seen |= schema_properties(name)


def test_whole_passport_validates_as_union_of_sections(sections: dict[SectionName, JsonObject]) -> None:
    union: dict[str, object] = {}
    for payload in sections.values():
        union.update(payload)
    assert validate_passport(union, require_all_sections=True) == []
    sections, unknown = split_passport(union)  # type: ignore[arg-type]
    assert list(sections) == list(SECTION_NAMES)
    assert unknown == []


def test_whole_passport_reports_unknown_keys_missing_sections_and_section_errors(sample: Sample) -> None:
    union = {**sample("Labeling"), "batteryMass": "heavy", "colour": "blue"}
    issues = validate_passport(union, require_all_sections=True)
    paths = {(i.section, i.path) for i in issues}
    assert (None, "$.colour") in paths
    assert ("GeneralProductInformation", "$.batteryMass") in paths
    assert ("Circularity", "$") in paths
    assert ("Labeling", "$.labels") not in paths
    assert validate_passport([1, 2])[0].reason == "a passport must be a JSON object"


def test_upstream_email_pattern_defect_is_visible(sample: Sample) -> None:
    """GeneralProductInformation's e-mail pattern lacks its backslashes (``[w.-]`` for ``[\\w.-]``), so
    ordinary addresses fail; roadpass reports it like any other breach rather than patching the schema.
    Circularity's supplier e-mail pattern has them and accepts the same address."""
    gpi = sample("GeneralProductInformation")
    gpi["manufacturerInformation"]["emailAddress"] = "info@example.com"  # type: ignore[index]
    issues = validate_section("GeneralProductInformation", gpi)
    assert [(i.path, i.keyword) for i in issues] == [("$.manufacturerInformation.emailAddress", "pattern")]
    circularity = sample("Circularity")
    circularity["sparePartSources"][0]["emailAddressOfSupplier"] = "info@example.com"  # type: ignore[index]
    assert validate_section("Circularity", circularity) == []
