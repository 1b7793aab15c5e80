"""JSON path helpers shared by the passport modules."""

from __future__ import annotations

import pytest

from roadpass.passport.jsondata import format_path, iter_pattern, join_pattern, parse_pattern, set_value


def test_paths_format_parse_and_join() -> None:
    assert format_path([]) == "$"
    assert format_path(["batteryMaterials", 0, "batteryMaterialIdentifier"]) == (
        "$.batteryMaterials[0].batteryMaterialIdentifier"
    )
    assert format_path(["a.b", "it's"]) == "$['a.b']['it\\'s']"
    parts = parse_pattern("$.labels[*].labelingSymbol")
    assert parts == ("labels", "[*]", "labelingSymbol")
    assert join_pattern(parts) == "$.labels[*].labelingSymbol"
    with pytest.raises(ValueError, match="must start with"):
        parse_pattern("labels")
    with pytest.raises(ValueError, match="not of the form"):
        parse_pattern("$.labels[x]")


def test_iter_pattern_fans_out_over_arrays() -> None:
    doc = {"a": [{"b": 1}, {"b": 2}, {"c": 3}]}
    assert list(iter_pattern(doc, parse_pattern("$.a[*].b"))) == [1, 2]
    assert list(iter_pattern(doc, parse_pattern("$.a[2].c"))) == [3]
    assert list(iter_pattern(doc, parse_pattern("$.a[9].c"))) == []


def test_set_value_copies_creates_and_appends() -> None:
    doc = {"a": {"b": [1]}}
    assert set_value(doc, "$.a.b[1]", 2) == {"a": {"b": [1, 2]}}
    assert doc == {"a": {"b": [1]}}
    assert set_value({}, "$.x.y[0].z", 1) == {"x": {"y": [{"z": 1}]}}
    with pytest.raises(ValueError, match=r"\$\.a\.b: no array item \[5\]"):
        set_value(doc, "$.a.b[5]", 0)
    with pytest.raises(ValueError, match="concrete path"):
        set_value(doc, "$.a.b[*]", 0)
    with pytest.raises(ValueError, match=r"\$\.a\.b\[0\]: expected an object"):
        set_value(doc, "$.a.b[0].c", 0)
