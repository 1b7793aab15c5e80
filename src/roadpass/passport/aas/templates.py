"""The IDTA 02035 submodel templates, read in place, and roadpass's mapping onto them (data).

Each template (``aas/idta-02035/IDTA_02035-{1..7}_*.json`` in the conformance folder, AAS V3.0 JSON) gives
the submodel's idShort, identifier, semantic ID and version, and for every element its idShort, kind
(``modelType``), semantic ID and value type. The templates themselves do not load strictly with the SDK
(items of a ``SubmodelElementList`` carry an idShort against AASd-120, a value type the SDK does not know,
a display name over 64 characters), so they are read as plain JSON: structure, names and semantic IDs only.

The mapping from passport attributes to template elements is ``idta-02035-mapping.yaml`` beside this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from roadpass.conformance import conformance_path
from roadpass.passport.jsondata import load_json_file

__all__ = [
    "MAPPING_FILE",
    "SubmodelTemplate",
    "TemplateElement",
    "ValueTypeSubstitute",
    "submodel_template",
    "submodel_templates",
    "value_type_substitutes",
]

MAPPING_FILE = Path(__file__).with_name("idta-02035-mapping.yaml")


@dataclass(frozen=True, slots=True)
class TemplateElement:
    """One submodel element of a template: what roadpass copies into what it writes."""

    id_short: str | None
    model_type: str
    semantic_id: str | None
    value_type: str | None = None
    children: tuple[TemplateElement, ...] = ()
    item: TemplateElement | None = None

    def child(self, id_short: str) -> TemplateElement | None:
        """The child element (of a collection) named ``id_short``, if the template has it."""
        return next((c for c in self.children if c.id_short == id_short), None)


@dataclass(frozen=True, slots=True)
class ValueTypeSubstitute:
    """A template value type the SDK cannot write, the type written instead, and the range kept."""

    write: str
    max: int | None = None


@dataclass(frozen=True, slots=True)
class SubmodelTemplate:
    """One IDTA 02035 part: the template's identity and elements, and roadpass's mapping onto it."""

    part: int
    name: str
    id_short: str
    template_id: str
    semantic_id: str
    version: str | None
    revision: str | None
    elements: tuple[TemplateElement, ...]
    mapping: dict[str, Any]
    importable: bool

    def element(self, id_short: str) -> TemplateElement | None:
        """The top-level element named ``id_short``, if the template has it."""
        return next((e for e in self.elements if e.id_short == id_short), None)


def _semantic_id(node: dict[str, Any]) -> str | None:
    ref = node.get("semanticId")
    if not isinstance(ref, dict):
        return None
    keys = ref.get("keys")
    if isinstance(keys, list) and keys and isinstance(keys[0], dict):
        value = keys[0].get("value")
        return str(value) if value is not None else None
    return None


def _element(node: dict[str, Any], *, in_list: bool = False) -> TemplateElement:
    model_type = str(node["modelType"])
    value = node.get("value")
    children: tuple[TemplateElement, ...] = ()
    item: TemplateElement | None = None
    if model_type == "SubmodelElementCollection" and isinstance(value, list):
        children = tuple(_element(v) for v in value if isinstance(v, dict))
    elif model_type == "SubmodelElementList" and isinstance(value, list) and value and isinstance(value[0], dict):
        item = _element(value[0], in_list=True)
    value_type = node.get("valueType", node.get("valueTypeListElement"))
    # AASd-120: an item of a SubmodelElementList has no idShort (the templates give them one anyway).
    id_short = None if in_list else str(node["idShort"])
    return TemplateElement(id_short, model_type, _semantic_id(node),
                           str(value_type) if value_type is not None else None, children, item)


def _mapping() -> dict[str, Any]:
    data: Any = yaml.safe_load(MAPPING_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{MAPPING_FILE.name}: expected a mapping at the top level")
    return data


@cache
def value_type_substitutes() -> dict[str, ValueTypeSubstitute]:
    """Template value types the SDK cannot write, with what roadpass writes instead (mapping data)."""
    raw: Any = _mapping().get("value_type_substitutes") or {}
    assert isinstance(raw, dict)
    return {str(k): ValueTypeSubstitute(str(v["write"]), v.get("max")) for k, v in raw.items()}


@cache
def submodel_templates() -> tuple[SubmodelTemplate, ...]:
    """The seven IDTA 02035 parts, in part order, each read from its template file in place."""
    out: list[SubmodelTemplate] = []
    entries: Any = _mapping().get("submodels")
    assert isinstance(entries, list)
    for entry in entries:
        doc: Any = load_json_file(conformance_path("aas", "idta-02035", str(entry["template"])))
        if not isinstance(doc, dict) or not isinstance(doc.get("submodels"), list):
            raise ValueError(f"{entry['template']}: expected an AAS environment with submodels")
        submodel = doc["submodels"][0]
        assert isinstance(submodel, dict)
        admin: dict[str, Any] = submodel.get("administration") or {}
        elements = submodel.get("submodelElements")
        out.append(SubmodelTemplate(
            part=int(entry["part"]), name=str(entry["name"]), id_short=str(submodel["idShort"]),
            template_id=str(submodel["id"]), semantic_id=_semantic_id(submodel) or "",
            version=str(admin["version"]) if "version" in admin else None,
            revision=str(admin["revision"]) if "revision" in admin else None,
            elements=tuple(_element(e) for e in elements or [] if isinstance(e, dict)),
            mapping=dict(entry.get("elements") or {}), importable=bool(entry.get("importable", False)),
        ))
    return tuple(out)


def submodel_template(id_short: str) -> SubmodelTemplate | None:
    """The part whose submodel idShort is ``id_short`` (``BatteryNameplate``, ``ProductCondition``...)."""
    return next((t for t in submodel_templates() if t.id_short == id_short), None)
