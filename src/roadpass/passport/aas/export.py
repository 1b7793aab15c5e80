"""A battery passport as an Asset Administration Shell with the IDTA 02035 submodels, parts 1-7.

The shell is built from a passport *view* (:func:`roadpass.passport.access.view`), so a role's AAS holds
exactly what that role's passport view holds (Reg. (EU) 2023/1542 Art. 77(2)): an attribute left out of
the view is absent from the submodel, and a collection or list left empty is absent too.

Each element takes its idShort, kind, semantic ID and value type from the template; the value comes from
the passport as ``idta-02035-mapping.yaml`` says. What roadpass writes loads strictly with the SDK
(``failsafe=False``): items of a ``SubmodelElementList`` carry no idShort (AAS Part 1 V3.0, AASd-120), the
list's ``semanticIdListElement``/``valueTypeListElement`` agree with its items (AASd-107, AASd-109), no
display names are copied, and a value type the SDK does not know is written as its declared substitute.

A value that does not fit the template's value type (a fraction where the template says xs:integer, say)
is not written; it is listed in :attr:`AasExport.skipped` with its idShort path and the reason, never
dropped silently.
"""

from __future__ import annotations

import io
import json
import math
import mimetypes
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import orjson
from basyx.aas import model
from basyx.aas.adapter.aasx import AASXWriter, DictSupplementaryFileContainer
from basyx.aas.adapter.json.json_serialization import AASToJsonEncoder, write_aas_json_file

from roadpass.passport.aas.templates import (
    SubmodelTemplate,
    TemplateElement,
    submodel_templates,
    value_type_substitutes,
)
from roadpass.passport.jsondata import JsonObject, JsonValue

__all__ = [
    "AasExport",
    "Skipped",
    "build_submodel",
    "export_view",
    "lookup",
    "parse_submodel_id",
    "shell",
    "shell_id",
    "submodel_id",
    "to_json_bytes",
    "to_xsd",
]

_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\*|\d+|[A-Za-z0-9_]+=[^\]]*)\]")


def shell_id(passport_id: str) -> str:
    """The identifier of a passport's shell: globally unique (AAS Part 1 V3.0, Identifiable), as the
    passport identifier it extends is (Art. 77(3))."""
    return f"{passport_id}/aas"


def submodel_id(passport_id: str, id_short: str) -> str:
    """The identifier of one IDTA 02035 submodel of a passport (the part's idShort under the shell)."""
    return f"{passport_id}/aas/{id_short}"


def parse_submodel_id(identifier: str) -> tuple[str, str] | None:
    """``(passport id, submodel idShort)`` of an identifier :func:`submodel_id` made, else ``None``."""
    head, sep, id_short = identifier.rpartition("/")
    if not sep or not head.endswith("/aas") or not id_short:
        return None
    return head[: -len("/aas")], id_short


@dataclass(frozen=True, slots=True)
class Skipped:
    """A passport value that was not written: where (idShort path) and why."""

    path: str
    reason: str

    def to_json(self) -> JsonObject:
        """``{"path", "reason"}``."""
        return {"path": self.path, "reason": self.reason}


def _steps(rest: str) -> list[str]:
    steps: list[str] = []
    pos = 0
    while pos < len(rest):
        match = _STEP.match(rest, pos)
        if match is None:
            raise ValueError(f"bad mapping path {rest!r} at {pos}")
        steps.append(match.group(1) if match.group(1) is not None else f"[{match.group(2)}]")
        pos = match.end()
    return steps


def _step(nodes: list[JsonValue], step: str) -> list[JsonValue]:
    out: list[JsonValue] = []
    for node in nodes:
        if not step.startswith("["):
            if isinstance(node, dict) and node.get(step) is not None:
                out.append(node[step])
            continue
        if not isinstance(node, list):
            continue
        inner = step[1:-1]
        if inner == "*":
            out.extend(v for v in node if v is not None)
        elif inner.isdigit():
            if int(inner) < len(node):
                out.append(node[int(inner)])
        else:
            key, _, wanted = inner.partition("=")
            match = next((v for v in node if isinstance(v, dict) and str(v.get(key)) == wanted), None)
            if match is not None:
                out.append(match)
    return out


def lookup(path: str, sections: Mapping[str, JsonValue], item: JsonValue = None) -> list[JsonValue]:
    """The values at a mapping path: ``"Section $.a.b"``, or ``"@.a"`` / ``"@"`` relative to ``item``."""
    if path.startswith("@"):
        root: JsonValue = item
        rest = path[1:]
    else:
        section, _, rest = path.partition(" ")
        root = sections.get(section)
        rest = rest.strip()[1:]  # drop "$"
    nodes: list[JsonValue] = [] if root is None else [root]
    for step in _steps(rest):
        nodes = _step(nodes, step)
    return nodes


def _lexical(value: JsonValue, value_type: str) -> str | None:
    if isinstance(value, dict | list) or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and value_type in _INTEGERS:
        return str(int(value)) if float(value).is_integer() else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if value_type == "xs:date" and isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}T", value):
        return value[:10]  # the day of a date-time, in its own offset
    return str(value)


_INTEGERS = frozenset({"xs:integer", "xs:long", "xs:int", "xs:short", "xs:byte", "xs:unsignedLong", "xs:unsignedInt",
                       "xs:unsignedShort", "xs:unsignedByte", "xs:nonNegativeInteger", "xs:positiveInteger"})
_FLOAT_MAX = 3.4028234663852886e38  # XML Schema 1.1 Part 2 §3.3.5: the largest finite xs:float


def to_xsd(value: JsonValue, value_type: str) -> tuple[type[Any], Any] | str:
    """The SDK type and value for a passport value under a template value type, or why it does not fit."""
    substitute = value_type_substitutes().get(value_type)
    written = substitute.write if substitute else value_type
    cls = model.datatypes.XSD_TYPE_CLASSES.get(written)
    if cls is None:
        return f"value type {value_type} is unknown to the SDK and has no substitute"
    lexical = _lexical(value, value_type)
    if lexical is None:
        return f"{value!r} is not a {value_type} value"
    try:
        parsed = model.datatypes.from_xsd(lexical, cls)
    except (ValueError, TypeError) as exc:
        return f"{value!r} is not a {value_type} value ({exc})"
    if value_type == "xs:float" and isinstance(parsed, float) and abs(parsed) > _FLOAT_MAX:
        return f"{value!r} is out of the xs:float range"
    if substitute and substitute.max is not None and isinstance(parsed, int) and parsed > substitute.max:
        return f"{value!r} is above the {value_type} maximum {substitute.max}"
    return cls, parsed


def _ref(semantic_id: str | None) -> model.ExternalReference | None:
    if not semantic_id:
        return None
    return model.ExternalReference((model.Key(model.KeyTypes.GLOBAL_REFERENCE, semantic_id),))


@dataclass(slots=True)
class _Build:
    sections: Mapping[str, JsonValue]
    skipped: list[Skipped] = field(default_factory=list)

    def leaf(self, node: Any, tmpl: TemplateElement, item: JsonValue, path: str) -> model.SubmodelElement | None:
        if isinstance(node, dict):
            values: list[JsonValue] = [node["const"]]
        else:
            values = lookup(str(node), self.sections, item)
        if not values:
            return None
        value = values[0]
        semantic = _ref(tmpl.semantic_id)
        if tmpl.model_type == "Property":
            typed = to_xsd(value, tmpl.value_type or "xs:string")
            if isinstance(typed, str):
                self.skipped.append(Skipped(path, typed))
                return None
            return model.Property(tmpl.id_short, typed[0], typed[1], semantic_id=semantic)
        if tmpl.model_type == "MultiLanguageProperty":
            # A plain string carries no language; roadpass's passport data is in English unless tagged.
            texts = {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {"en": str(value)}
            return model.MultiLanguageProperty(tmpl.id_short, model.MultiLanguageTextType(texts), semantic_id=semantic)
        if tmpl.model_type == "File" and isinstance(value, str):
            content_type = mimetypes.guess_type(value)[0] or "application/octet-stream"
            return model.File(tmpl.id_short, content_type, value, semantic_id=semantic)
        self.skipped.append(Skipped(path, f"{tmpl.model_type} is not written from a {type(value).__name__}"))
        return None

    def element(self, node: Any, tmpl: TemplateElement, item: JsonValue, path: str) -> model.SubmodelElement | None:
        if isinstance(node, dict) and "each" in node:
            return self.listed(node["each"], tmpl, item, path)
        if isinstance(node, dict) and "const" not in node:
            children: list[model.SubmodelElement] = []
            for name, child_node in node.items():
                child = tmpl.child(name)
                if child is None:
                    raise ValueError(f"mapping names {path}.{name}, which the template does not have")
                built = self.element(child_node, child, item, f"{path}.{name}")
                if built is not None:
                    children.append(built)
            if not children:
                return None
            return model.SubmodelElementCollection(tmpl.id_short, children, semantic_id=_ref(tmpl.semantic_id))
        return self.leaf(node, tmpl, item, path)

    def listed(
        self, sources: list[Any], tmpl: TemplateElement, item: JsonValue, path: str
    ) -> model.SubmodelElement | None:
        if tmpl.item is None:
            raise ValueError(f"mapping lists items of {path}, whose template has no item")
        items: list[model.SubmodelElement] = []
        for source in sources:
            for found in lookup(str(source["from"]), self.sections, item):
                for one in found if isinstance(found, list) else [found]:
                    built = self.element(source["item"], tmpl.item, one, f"{path}[{len(items)}]")
                    if built is not None:
                        items.append(built)
        if not items:
            return None
        value_type = None
        if tmpl.item.model_type == "Property":
            value_type = items[0].value_type if isinstance(items[0], model.Property) else None
        return model.SubmodelElementList(
            tmpl.id_short, type(items[0]), items, semantic_id=_ref(tmpl.semantic_id),
            semantic_id_list_element=_ref(tmpl.item.semantic_id), value_type_list_element=value_type,
        )


def build_submodel(
    template: SubmodelTemplate, sections: Mapping[str, JsonValue], *, identifier: str
) -> tuple[model.Submodel, list[Skipped]]:
    """One IDTA 02035 submodel of a passport view's sections, and the values that could not be written."""
    build = _Build(sections)
    elements: list[model.SubmodelElement] = []
    for name, node in template.mapping.items():
        tmpl = template.element(name)
        if tmpl is None:
            raise ValueError(f"mapping names {template.id_short}.{name}, which the template does not have")
        built = build.element(node, tmpl, None, f"{template.id_short}.{name}")
        if built is not None:
            elements.append(built)
    admin = model.AdministrativeInformation(version=template.version, revision=template.revision,
                                            template_id=template.template_id)
    submodel = model.Submodel(identifier, elements, id_short=template.id_short, administration=admin,
                              semantic_id=_ref(template.semantic_id), kind=model.ModellingKind.INSTANCE)
    return submodel, build.skipped


@dataclass(slots=True)
class AasExport:
    """A passport's shell and submodels as one role may see them, and what could not be written."""

    shell: model.AssetAdministrationShell
    submodels: list[model.Submodel]
    skipped: list[Skipped]

    def object_store(self) -> model.DictObjectStore[model.Identifiable]:
        """The shell and its submodels in an SDK object store."""
        store: model.DictObjectStore[model.Identifiable] = model.DictObjectStore()
        store.add(self.shell)
        for submodel in self.submodels:
            store.add(submodel)
        return store

    def write_json(self, file: IO[str]) -> None:
        """Write an AAS V3.0 JSON environment (AAS Part 1 V3.0 §5.2, JSON serialisation)."""
        write_aas_json_file(file, self.object_store(), indent=1)

    def json_text(self) -> str:
        """The AAS V3.0 JSON environment as text."""
        buffer = io.StringIO()
        self.write_json(buffer)
        return buffer.getvalue()

    def write_aasx(self, file: IO[bytes]) -> None:
        """Write an AASX package (AAS Part 5) holding the environment as JSON."""
        with AASXWriter(file) as writer:
            writer.write_aas(self.shell.id, self.object_store(), DictSupplementaryFileContainer(),  # type: ignore[no-untyped-call]
                             write_json=True)


def shell(passport_id: str, battery_id: str) -> model.AssetAdministrationShell:
    """A passport's shell referring to its seven IDTA 02035 submodels by identifier (nothing is rendered).

    The asset is the battery itself (AAS Part 1 V3.0 AssetInformation: ``assetKind`` Instance, the
    battery identifier as ``globalAssetId``, Art. 77(3)); each reference is a ModelReference with one
    ``Submodel`` key holding the submodel's id, as ``ModelReference.from_referable`` makes it."""
    return model.AssetAdministrationShell(
        model.AssetInformation(model.AssetKind.INSTANCE, global_asset_id=battery_id),
        shell_id(passport_id), id_short="BatteryPassport",
        submodel={model.ModelReference((model.Key(model.KeyTypes.SUBMODEL, submodel_id(passport_id, t.id_short)),),
                                       model.Submodel)
                  for t in submodel_templates()},
    )


def export_view(passport_id: str, battery_id: str, sections: Mapping[str, JsonValue]) -> AasExport:
    """The shell of a passport (:func:`shell`) and its seven IDTA 02035 submodels, built from a view's
    sections."""
    submodels: list[model.Submodel] = []
    skipped: list[Skipped] = []
    for template in submodel_templates():
        built, missed = build_submodel(template, sections, identifier=submodel_id(passport_id, template.id_short))
        submodels.append(built)
        skipped.extend(missed)
    return AasExport(shell(passport_id, battery_id), submodels, skipped)


_ENCODER = AASToJsonEncoder(separators=(",", ":"))


def to_json_bytes(obj: model.Referable) -> bytes:
    """One shell or submodel in AAS V3.0 JSON (the API's body).

    orjson driven by the SDK encoder's ``default`` writes the same JSON as ``json.dumps`` with the SDK
    encoder (non-ASCII text as UTF-8, RFC 8259 §8.1, rather than ``\\u`` escapes) in about two thirds of
    the time; an integer beyond 64 bits (an unbounded ``xs:integer``),
    which orjson refuses, falls back to the SDK's own path."""
    try:
        return orjson.dumps(obj, default=_ENCODER.default)
    except orjson.JSONEncodeError:
        return json.dumps(obj, cls=AASToJsonEncoder, separators=(",", ":")).encode("utf-8")
