"""Residency as data: the regions, the classification of every stored field, and the transfer policy per
origin × destination × class — loaded, checked whole (a mistake names its path), and asked.

Anything the policy does not name is denied; a field the classification does not name is personal until
classified (user extensions and anything new stay home). The files are data so that a change of law or of
contract is an edit a reviewer can read, and takes effect for the next transfer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from roadpass.regions.model import DataClass, Decision, FieldRule, Region, TransferRule

__all__ = [
    "UNCLASSIFIED",
    "Classification",
    "PolicyError",
    "TransferPolicy",
    "load_classification",
    "load_policy",
    "load_regions",
]

#: The rule for a field no classification names (GDPR Art. 4(1) read widely: personal until shown not to be).
UNCLASSIFIED = FieldRule(DataClass.PERSONAL, "unclassified: personal until classified")
_WILDCARD = "*"
_CBV_PREFIXES = ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:")


class PolicyError(ValueError):
    """A residency file is wrong: ``path`` names the place (``borders[3].decision``), ``reason`` the fault."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _read(name: str) -> Any:
    return yaml.safe_load(resources.files("roadpass.regions").joinpath(name).read_text(encoding="utf-8"))


def _enum(kind: type[DataClass] | type[Decision], value: Any, path: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise PolicyError(path, f"{value!r} is not one of {allowed}") from None


def load_regions(data: Mapping[str, Any] | None = None) -> dict[str, Region]:
    """The regions (``regions.yaml`` unless ``data`` is given)."""
    data = _read("regions.yaml") if data is None else data
    found: dict[str, Region] = {}
    for key, region in (data.get("regions") or {}).items():
        for field in ("city", "country", "law", "source"):
            if not region.get(field):
                raise PolicyError(f"regions.{key}.{field}", "is required")
        found[key] = Region(key=key, city=region["city"], country=region["country"], law=region["law"],
                            source=region["source"], to_confirm=region.get("to_confirm"))
    if not found:
        raise PolicyError("regions", "names no region")
    return found


@dataclass(frozen=True, slots=True)
class Classification:
    """Every stored field's class, by kind of record (``epcis_event``, ``service_record``, …)."""

    kinds: Mapping[str, Mapping[str, FieldRule]]
    citations: Mapping[str, str]
    in_use_biz_steps: frozenset[str]

    def rule(self, kind: str, field: str) -> FieldRule:
        """The rule for ``field`` of a ``kind`` record: :data:`UNCLASSIFIED` (personal) when none names it."""
        return self.kinds.get(kind, {}).get(field, UNCLASSIFIED)

    def in_use(self, biz_step: str | None) -> bool:
        """Whether an event with this business step concerns a unit in a keeper's hands (CJEU C-319/22)."""
        if not biz_step:
            return False
        for prefix in _CBV_PREFIXES:
            biz_step = biz_step.removeprefix(prefix)
        return biz_step in self.in_use_biz_steps


def load_classification(data: Mapping[str, Any] | None = None, *, regions: Mapping[str, Region]) -> Classification:
    """The classification (``classification.yaml`` unless ``data`` is given), checked against ``regions``."""
    data = _read("classification.yaml") if data is None else data
    citations = dict(data.get("citations") or {})
    kinds: dict[str, dict[str, FieldRule]] = {}
    for kind, body in data.items():
        if kind in ("citations", "in_use_biz_steps"):
            continue
        fields: dict[str, FieldRule] = {}
        for name, spec in ((body or {}).get("fields") or {}).items():
            path = f"{kind}.fields.{name}"
            cite = spec.get("cite")
            if cite not in citations:
                raise PolicyError(f"{path}.cite", f"{cite!r} is not among the citations")
            places = {}
            for key in ("important_in", "geo_important_in"):
                places[key] = frozenset(spec.get(key) or ())
                unknown = places[key] - set(regions)
                if unknown:
                    raise PolicyError(f"{path}.{key}", f"unknown region(s) {sorted(unknown)}")
            fields[name] = FieldRule(
                data_class=_enum(DataClass, spec.get("class"), f"{path}.class"), citation=citations[cite],
                in_use=_enum(DataClass, spec["in_use"], f"{path}.in_use") if "in_use" in spec else None,
                geo=_enum(DataClass, spec["geo"], f"{path}.geo") if "geo" in spec else None,
                important_in=places["important_in"], geo_important_in=places["geo_important_in"])
        kinds[kind] = fields
    return Classification(kinds=kinds, citations=citations,
                          in_use_biz_steps=frozenset(data.get("in_use_biz_steps") or ()))


@dataclass(frozen=True, slots=True)
class TransferPolicy:
    """Decisions per origin × destination × class; the most specific rule wins, anything unnamed is denied."""

    version: str
    rules: tuple[TransferRule, ...]
    defaults: Mapping[DataClass, TransferRule]
    regions: Mapping[str, Region]

    def decide(self, origin: str, destination: str, data_class: DataClass) -> TransferRule:
        """The rule for ``data_class`` going from ``origin`` to ``destination`` (within one region: allow)."""
        for region in (origin, destination):
            if region not in self.regions:
                raise PolicyError("region", f"{region!r} is not a known region")
        if origin == destination:
            return TransferRule(origin, destination, data_class, Decision.ALLOW, "same-region",
                                "Within one region nothing crosses a border")
        best: TransferRule | None = None
        best_score = -1
        for rule in self.rules:
            if rule.data_class != data_class or rule.origin not in (origin, _WILDCARD):
                continue
            if rule.destination not in (destination, _WILDCARD):
                continue
            score = (rule.origin != _WILDCARD) + (rule.destination != _WILDCARD)
            if score > best_score:
                best, best_score = rule, score
        if best is not None:
            return best
        default = self.defaults.get(data_class)
        if default is not None:
            return TransferRule(origin, destination, data_class, default.decision, default.basis, default.citation)
        return TransferRule(origin, destination, data_class, Decision.DENY, "not-named",
                            "The transfer policy names no rule for this class at this border: denied")


def load_policy(data: Mapping[str, Any] | None = None, *, regions: Mapping[str, Region],
                path: Path | None = None) -> TransferPolicy:
    """The transfer policy (``transfer-policies.yaml``, the file at ``path``, or ``data``), checked whole."""
    if data is None:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) if path else _read("transfer-policies.yaml")
    if not isinstance(data, Mapping):
        raise PolicyError("$", "the transfer policy is not a mapping")
    bases = dict(data.get("bases") or {})

    def rule(spec: Mapping[str, Any], where: str, origin: str, destination: str, data_class: DataClass) -> TransferRule:
        basis = str(spec.get("basis"))
        if basis not in bases:
            raise PolicyError(f"{where}.basis", f"{basis!r} is not among the bases")
        return TransferRule(origin, destination, data_class, _enum(Decision, spec.get("decision"),
                                                                   f"{where}.decision"), basis, bases[basis])

    defaults = {}
    for name, spec in (data.get("defaults") or {}).items():
        data_class = _enum(DataClass, name, f"defaults.{name}")
        defaults[data_class] = rule(spec, f"defaults.{name}", _WILDCARD, _WILDCARD, data_class)
    rules = []
    for i, spec in enumerate(data.get("borders") or ()):
        where = f"borders[{i}]"
        for end in ("from", "to"):
            if spec.get(end) != _WILDCARD and spec.get(end) not in regions:
                raise PolicyError(f"{where}.{end}", f"{spec.get(end)!r} is not a known region")
        data_class = _enum(DataClass, spec.get("class"), f"{where}.class")
        rules.append(rule(spec, where, spec["from"], spec["to"], data_class))
    return TransferPolicy(version=str(data.get("version", "")), rules=tuple(rules), defaults=defaults,
                          regions=regions)
