"""The IDTA 02035 templates read in place, and the mapping onto them (data) checked against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from roadpass.passport.aas.export import lookup
from roadpass.passport.aas.templates import TemplateElement, submodel_template, submodel_templates
from roadpass.passport.schemas import SECTION_NAMES


def test_seven_parts_with_their_templates_identity(conformance: Path) -> None:
    parts = submodel_templates()
    assert [t.part for t in parts] == [1, 2, 3, 4, 5, 6, 7]
    assert [t.id_short for t in parts] == ["BatteryNameplate", "HandoverDocumentation", "CarbonFootprint",
                                          "TechnicalData", "ProductCondition", "MaterialComposition", "Circularity"]
    for template in parts:
        raw = json.loads(next((conformance / "aas" / "idta-02035").glob(f"IDTA_02035-{template.part}_*.json"))
                         .read_text(encoding="utf-8-sig"))["submodels"][0]
        assert template.semantic_id == raw["semanticId"]["keys"][0]["value"]
        assert template.template_id == raw["id"]
    assert [t.id_short for t in parts if t.importable] == ["ProductCondition"]


def _walk(node: Any, tmpl: TemplateElement, where: str, paths: list[str]) -> None:
    if isinstance(node, str):
        paths.append(node)
        return
    if isinstance(node, dict) and "const" in node:
        return
    if isinstance(node, dict) and "each" in node:
        assert tmpl.model_type == "SubmodelElementList" and tmpl.item is not None, where
        for source in node["each"]:
            paths.append(source["from"])
            _walk(source["item"], tmpl.item, f"{where}[]", paths)
        return
    assert tmpl.model_type == "SubmodelElementCollection", where
    for name, child in node.items():
        found = tmpl.child(name)
        assert found is not None, f"{where}.{name} is not in the template"
        _walk(child, found, f"{where}.{name}", paths)


@pytest.mark.parametrize("id_short", [t.id_short for t in submodel_templates()])
def test_mapping_names_only_template_elements_and_known_sections(id_short: str) -> None:
    template = submodel_template(id_short)
    assert template is not None
    paths: list[str] = []
    for name, node in template.mapping.items():
        tmpl = template.element(name)
        assert tmpl is not None, f"{id_short}.{name} is not in the template"
        _walk(node, tmpl, f"{id_short}.{name}", paths)
    for path in paths:
        if not path.startswith("@"):
            assert path.split(" ", 1)[0] in SECTION_NAMES, path
        lookup(path, {}, {})  # every path parses


def test_list_items_have_no_id_short_as_aasd_120_asks() -> None:
    for template in submodel_templates():
        stack = list(template.elements)
        while stack:
            element = stack.pop()
            if element.item is not None:
                assert element.item.id_short is None
                stack.append(element.item)
            stack.extend(element.children)


def test_lookup_paths() -> None:
    sections: dict[str, Any] = {"S": {"a": [{"k": "x", "v": 1}, {"k": "y", "v": 2}], "b": {"c": 3}}}
    assert lookup("S $.b.c", sections) == [3]
    assert lookup("S $.a[k=y].v", sections) == [2]
    assert lookup("S $.a[*].v", sections) == [1, 2]
    assert lookup("S $.a[1].k", sections) == ["y"]
    assert lookup("S $.missing", sections) == []
    assert lookup("@.v", sections, {"v": 5}) == [5]
    assert lookup("@", sections, "z") == ["z"]
