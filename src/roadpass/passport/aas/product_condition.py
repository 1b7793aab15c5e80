"""Import of an IDTA 02035-5 Product Condition submodel sent by another system (a BMS vendor's AAS).

The submodel updates the passport's dynamic data (Reg. (EU) 2023/1542 Annex XIII(4), Art. 77(4)): each
top-level element (``StateOfCharge``, ``NegativeEvents``...) becomes one dynamic value at the passport path
the mapping (``idta-02035-mapping.yaml``, part 5) names, with its ``LastUpdate`` as the value's time.

The document is checked against the template as plain JSON, so that each problem can be named by its JSON
path: the submodel's semantic ID, each element's idShort, kind and value type, each value's lexical form
(the value type xs:unsignedInt, which the template uses and the SDK does not know, is accepted here, as is
the xs:unsignedLong roadpass itself writes for it). A collection whose template carries a ``LastUpdate``
must carry one: a dynamic value without its time is refused. Any problem refuses the whole document.
Elements of the template that roadpass has no passport attribute for are reported as ignored.

Negative events are merged: events already recorded stay, new ones are appended (the passport's history
never loses one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from basyx.aas import model

from roadpass.passport.aas.export import lookup
from roadpass.passport.aas.templates import SubmodelTemplate, TemplateElement, submodel_template, value_type_substitutes
from roadpass.passport.domain import BatteryPassport
from roadpass.passport.jsondata import JsonObject, JsonValue, format_path, parse_pattern, set_value
from roadpass.passport.schemas import SectionName, validate_section
from roadpass.trace.timeutil import parse_time

__all__ = ["ConditionImport", "ConditionIssue", "ConditionRefused", "ConditionWrite", "apply_condition",
           "parse_product_condition", "validate_condition"]

SECTION: SectionName = "PerformanceAndDurability"
TEMPLATE = "ProductCondition"


@dataclass(frozen=True, slots=True)
class ConditionIssue:
    """One reason to refuse the document: where (JSON path in the document) and why."""

    path: str
    reason: str

    def to_json(self) -> JsonObject:
        """``{"path", "reason"}``."""
        return {"path": self.path, "reason": self.reason}


class ConditionRefused(ValueError):
    """The Product Condition document is refused whole; ``issues`` name each JSON path and reason."""

    def __init__(self, issues: list[ConditionIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("Product Condition refused: " + "; ".join(f"{i.path}: {i.reason}" for i in issues))

    def issues_json(self) -> list[JsonValue]:
        """Each issue as ``{"path", "reason"}`` (the API's and CLI's answer)."""
        return [i.to_json() for i in self.issues]


@dataclass(frozen=True, slots=True)
class ConditionWrite:
    """One dynamic value to record: passport path (in PerformanceAndDurability), value, its time, origin."""

    path: str
    value: JsonValue
    last_update: str | None
    element: str
    merge: bool = False

    def to_json(self) -> JsonObject:
        """``{"element", "path", "lastUpdate"}``."""
        return {"element": self.element, "path": self.path, "lastUpdate": self.last_update}


@dataclass(slots=True)
class ConditionImport:
    """A checked Product Condition document: what it writes and what roadpass ignores of it."""

    submodel_id: str | None
    writes: list[ConditionWrite] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _template() -> SubmodelTemplate:
    template = submodel_template(TEMPLATE)
    if template is None or not template.importable:
        raise LookupError("the IDTA 02035-5 Product Condition template is not mapped as importable")
    return template


def _semantic(node: Any) -> str | None:
    try:
        return str(node["semanticId"]["keys"][0]["value"])
    except (KeyError, IndexError, TypeError):
        return None


def _locate(document: Any, semantic_id: str, issues: list[ConditionIssue]) -> tuple[dict[str, Any], str] | None:
    """The submodel object and its JSON path: the document itself, or the one in an environment."""
    if isinstance(document, dict) and document.get("modelType") == "Submodel":
        found: list[tuple[dict[str, Any], str]] = [(document, "$")]
    elif isinstance(document, dict) and isinstance(document.get("submodels"), list):
        found = [(s, f"$.submodels[{i}]") for i, s in enumerate(document["submodels"])
                 if isinstance(s, dict) and _semantic(s) == semantic_id]
        if len(found) != 1:
            issues.append(ConditionIssue("$.submodels", f"expected one submodel with semanticId {semantic_id}, "
                                                        f"found {len(found)}"))
            return None
    else:
        issues.append(ConditionIssue("$", "expected an AAS V3.0 Submodel (modelType Submodel) or an environment"))
        return None
    submodel, path = found[0]
    if _semantic(submodel) != semantic_id:
        issues.append(ConditionIssue(f"{path}.semanticId", f"expected {semantic_id} (IDTA 02035-5)"))
        return None
    return submodel, path


def _typed(element: dict[str, Any], tmpl: TemplateElement, path: str, issues: list[ConditionIssue]) -> JsonValue:
    declared = tmpl.value_type or "xs:string"
    substitute = value_type_substitutes().get(declared)
    allowed = {declared} | ({substitute.write} if substitute else set())
    if element.get("valueType") not in allowed:
        issues.append(ConditionIssue(f"{path}.valueType", f"expected {' or '.join(sorted(allowed))}"))
        return None
    lexical = element.get("value")
    if lexical is None:
        return None  # a property without a value (AAS Part 1 V3.0: value 0..1) records nothing
    if not isinstance(lexical, str):
        issues.append(ConditionIssue(f"{path}.value", "a property's value is a string in AAS JSON"))
        return None
    cls = model.datatypes.XSD_TYPE_CLASSES[substitute.write if substitute else declared]
    try:
        parsed = model.datatypes.from_xsd(lexical, cls)
    except (ValueError, TypeError) as exc:
        issues.append(ConditionIssue(f"{path}.value", f"{lexical!r} is not a {declared} value ({exc})"))
        return None
    if substitute and substitute.max is not None and isinstance(parsed, int) and parsed > substitute.max:
        issues.append(ConditionIssue(f"{path}.value", f"{lexical!r} is above the {declared} maximum"))
        return None
    if declared == "xs:dateTime":
        try:  # the passport's lastUpdate is an RFC 3339 date-time: the offset is not optional (§5.6)
            parse_time(lexical, "LastUpdate")
        except ValueError as exc:
            issues.append(ConditionIssue(f"{path}.value", str(exc)))
            return None
    if isinstance(parsed, bool | int | float | str):
        return parsed
    return lexical  # dates and times keep their lexical form


@dataclass(slots=True)
class _Walk:
    issues: list[ConditionIssue]
    ignored: list[str]
    values: list[tuple[str, JsonValue]]

    def elements(self, items: Any, tmpl: TemplateElement | SubmodelTemplate, node: Any, prefix: str | None,
                 path: str, id_path: str) -> None:
        if not isinstance(items, list):
            self.issues.append(ConditionIssue(path, "expected an array of submodel elements"))
            return
        for index, element in enumerate(items):
            here = f"{path}[{index}]"
            name = element.get("idShort") if isinstance(element, dict) else None
            child = (tmpl.element(name) if isinstance(tmpl, SubmodelTemplate) else tmpl.child(name)) \
                if isinstance(name, str) else None
            if child is None or not isinstance(element, dict):
                self.issues.append(ConditionIssue(f"{here}.idShort", f"{name!r} is not an element of "
                                                                     f"{id_path} in IDTA 02035-5"))
                continue
            sub = node.get(name) if isinstance(node, dict) else None
            self.element(element, child, sub, prefix, here, f"{id_path}.{name}")

    def element(self, element: dict[str, Any], tmpl: TemplateElement, node: Any, prefix: str | None, path: str,
                id_path: str) -> None:
        if element.get("modelType") != tmpl.model_type:
            self.issues.append(ConditionIssue(f"{path}.modelType", f"expected {tmpl.model_type}"))
            return
        if node is None:
            self.ignored.append(id_path)
            return
        if tmpl.model_type == "SubmodelElementCollection":
            children = element.get("value")
            names = {e.get("idShort") for e in children if isinstance(e, dict)} if isinstance(children, list) else set()
            # The passport attribute carries its time (the mapping maps LastUpdate): the value needs one.
            if isinstance(node, dict) and "LastUpdate" in node and "LastUpdate" not in names:
                self.issues.append(ConditionIssue(f"{path}.value", "a dynamic value needs its LastUpdate "
                                                                   "(Annex XIII(4))"))
            self.elements(element.get("value") or [], tmpl, node, prefix, f"{path}.value", id_path)
        elif tmpl.model_type == "SubmodelElementList" and tmpl.item is not None:
            source = node["each"][0]
            base = _target(str(source["from"]), prefix)
            items = element.get("value") or []
            if not isinstance(items, list):
                self.issues.append(ConditionIssue(f"{path}.value", "expected an array of list items"))
                return
            for index, item in enumerate(items):
                if not isinstance(item, dict) or item.get("modelType") != tmpl.item.model_type:
                    self.issues.append(ConditionIssue(f"{path}.value[{index}]", f"expected {tmpl.item.model_type}"))
                    continue
                self.element(item, tmpl.item, source["item"], f"{base}[{index}]", f"{path}.value[{index}]",
                             f"{id_path}[{index}]")
        elif tmpl.model_type == "Property":
            value = _typed(element, tmpl, path, self.issues)
            if value is not None:
                self.values.append((_target(str(node), prefix), value))
        else:
            self.ignored.append(id_path)


def _target(node: str, prefix: str | None) -> str:
    """The absolute passport path (``$...`` in PerformanceAndDurability) of a mapping node."""
    if node.startswith("@"):
        assert prefix is not None
        return prefix + node[1:]
    section, _, rest = node.partition(" ")
    assert section == SECTION, node
    return rest.strip()


def _common(paths: list[str]) -> str:
    parts = [parse_pattern(p) for p in paths]
    common: list[str] = []
    for column in zip(*parts, strict=False):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    return format_path(int(p[1:-1]) if p.startswith("[") else p for p in common)


def _unit_time(value: JsonValue) -> str | None:
    if isinstance(value, dict):
        stamp = value.get("lastUpdate") or value.get("rPCLastUpdated")
        return str(stamp) if stamp else None
    if isinstance(value, list):
        stamps = [s for s in (_unit_time(v) for v in value) if s]
        return max(stamps) if stamps else None
    return None


def parse_product_condition(document: Any) -> ConditionImport:
    """Check a Product Condition submodel (or an environment holding one) and say what it writes.

    Raises :class:`ConditionRefused` naming every problem's JSON path."""
    template = _template()
    issues: list[ConditionIssue] = []
    located = _locate(document, template.semantic_id, issues)
    if located is None:
        raise ConditionRefused(issues)
    submodel, path = located
    elements: Any = submodel.get("submodelElements") or []
    if not isinstance(elements, list):
        raise ConditionRefused([ConditionIssue(f"{path}.submodelElements", "expected an array of elements")])
    result = ConditionImport(str(submodel["id"]) if isinstance(submodel.get("id"), str) else None)
    for index, element in enumerate(elements):
        here = f"{path}.submodelElements[{index}]"
        name = element.get("idShort") if isinstance(element, dict) else None
        tmpl = template.element(name) if isinstance(name, str) else None
        if tmpl is None or not isinstance(element, dict):
            issues.append(ConditionIssue(f"{here}.idShort", f"{name!r} is not an element of IDTA 02035-5"))
            continue
        walk = _Walk(issues, result.ignored, [])
        node: Any = template.mapping.get(str(name))
        walk.element(element, tmpl, node, None, here, f"{template.id_short}.{name}")
        if not walk.values:
            continue
        is_list = isinstance(node, dict) and "each" in node
        fragment: JsonObject = {}
        for target, value in walk.values:
            fragment = set_value(fragment, target, value)
        unit = _target(str(node["each"][0]["from"]), None) if is_list else _common([t for t, _ in walk.values])
        found = lookup(f"{SECTION} {unit}", {SECTION: fragment})
        value = found[0] if found else None
        result.writes.append(ConditionWrite(unit, value, _unit_time(value), here, merge=is_list))
    if issues:
        raise ConditionRefused(issues)
    if not result.writes:
        raise ConditionRefused([ConditionIssue(f"{path}.submodelElements", "no dynamic value roadpass records")])
    return result


def apply_condition(passport: BatteryPassport, parsed: ConditionImport, *, at: str, source: str) -> BatteryPassport:
    """The passport with the document's dynamic values written (each a history entry)."""
    for write in parsed.writes:
        value = write.value
        if write.merge and isinstance(value, list):
            existing = passport.value_at(SECTION, write.path)
            kept = list(existing) if isinstance(existing, list) else []
            value = kept + [v for v in value if v not in kept]
        passport = passport.with_dynamic(SECTION, write.path, value, write.last_update or at, source)
    return passport


def validate_condition(after: BatteryPassport, parsed: ConditionImport) -> None:
    """Refuse (:class:`ConditionRefused`) when a written value breaks the section's schema, naming the
    document's element and the passport path."""
    payload = after.sections.get(SECTION, {})
    issues: list[ConditionIssue] = []
    for problem in validate_section(SECTION, payload):
        for write in parsed.writes:
            if problem.path == write.path or problem.path.startswith((write.path + ".", write.path + "[")):
                issues.append(ConditionIssue(write.element, f"{problem.path}: {problem.reason}"))
                break
    if issues:
        raise ConditionRefused(issues)
