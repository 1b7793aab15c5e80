"""Every long-list attribute is mapped to schema paths, or listed as not represented in v1.2."""

from __future__ import annotations

from collections import Counter

import pytest

from roadpass.passport import attribute_paths as ap
from roadpass.passport.access import access_of
from roadpass.passport.longlist import load_longlist
from roadpass.passport.schemas import SECTION_NAMES, schema_fields


def test_every_long_list_attribute_is_mapped_or_listed_as_not_represented() -> None:
    mappings = ap.attribute_paths()
    assert [m.attribute.number for m in mappings] == [a.number for a in load_longlist()]
    for mapping in mappings:
        if mapping.how == "not_represented":
            assert mapping.paths == ()
            assert mapping.why
        else:
            assert mapping.paths, mapping.attribute.name
    assert Counter(m.how for m in mappings) == {"name": 27, "table": 64, "not_represented": 2}
    assert {m.attribute.number for m in mappings if m.how == "not_represented"} == {85, 86}


def test_table_paths_exist_and_name_matches_are_exact() -> None:
    known = {(f.section, f.path) for name in SECTION_NAMES for f in schema_fields(name)}
    for mapping in ap.attribute_paths():
        for ref in mapping.paths:
            assert (ref.section, ref.path) in known
        if mapping.how == "name":
            names = {ap.normalise_name(r.path.rsplit(".", 1)[-1]) for r in mapping.paths}
            assert names == {ap.normalise_name(mapping.attribute.name)}


def test_some_mappings() -> None:
    assert (
        str(ap.paths_for(57).paths[0]) == "PerformanceAndDurability $.batteryCondition.stateOfCertifiedEnergy"
    )
    assert str(ap.paths_for(8).paths[0]) == "GeneralProductInformation $.warrentyPeriod"
    assert ap.paths_for(22).paths[0].jsonpath == (
        "$.carbonFootprintPerLifecycleStage[?@.lifecycleStage=='Distribution'].carbonFootprint"
    )
    with pytest.raises(KeyError):
        ap.paths_for(94)


def test_where_filters_list_items(sample) -> None:  # type: ignore[no-untyped-def]
    ref = ap.paths_for(12).paths[0]  # separate collection symbol
    labels = sample("Labeling")
    assert ref.values(labels) == ["http://www.ietf.org/rfc/rfc2396.txt"]
    assert ap.paths_for(13).paths[0].values(labels) == []


def test_every_schema_leaf_has_an_access_right() -> None:
    for name in SECTION_NAMES:
        for field in schema_fields(name):
            if field.type not in ("object", "array") or not field.item_properties:
                assert access_of(name, field.path) is not None, f"{name} {field.path}"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {
                "table": {
                    2: {"attribute": "Wrong name", "paths": ["GeneralProductInformation $.productIdentifier"]}
                }
            },
            "is 'Battery identifier'",
        ),
        ({"table": {999: {"attribute": "x", "paths": []}}}, "not in the long-list"),
        (
            {
                "table": {
                    1: {
                        "attribute": "Battery passport identifier",
                        "paths": ["GeneralProductInformation $.x"],
                    }
                }
            },
            "already matches by name",
        ),
        (
            {
                "table": {
                    2: {"attribute": "Battery identifier", "paths": ["GeneralProductInformation $.nope"]}
                }
            },
            "declares no",
        ),
        ({"table": {}}, "neither matched nor listed"),
    ],
)
def test_a_table_that_disagrees_is_refused_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch, table: dict[str, object], message: str
) -> None:
    monkeypatch.setattr(ap, "_load_table", lambda: table)
    ap.attribute_paths.cache_clear()
    try:
        with pytest.raises(ap.MappingError, match=message):
            ap.attribute_paths()
    finally:
        ap.attribute_paths.cache_clear()
