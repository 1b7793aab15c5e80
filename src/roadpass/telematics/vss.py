"""The COVESA Vehicle Signal Specification 6.0 tree, read from the standard's own JSON export, and the check
each reported datum passes.

VSS 6.0 "Nodes" (docs: covesa.github.io/vehicle_signal_specification/rule_set/basics): a ``branch`` only
groups; data live in the leaves ``sensor``, ``actuator`` and ``attribute``. A leaf declares its ``datatype``
(VSS "Datatypes": ``uint8`` … ``int64``, ``float``, ``double``, ``boolean``, ``string``, and arrays
``…[]``), optionally its ``unit``, ``min``/``max`` and ``allowed`` values. The tree is the artefact in
``conformance/vss/vss-6.0.json`` (exported with ``vspec export json``; instances already expanded, e.g.
``Row1.DriverSide``); it is read once, on first use.

Departures: VSS ``pattern`` (regular expressions on strings) is not checked; no unit conversion is done
(a value stated in another unit than the leaf's is refused).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

import orjson

from roadpass.conformance import conformance_path

__all__ = ["BATTERY_BRANCH", "LEAF_TYPES", "Leaf", "Refusal", "VssTree", "vss_tree"]

#: VSS 6.0 "Nodes": the node types that carry data.
LEAF_TYPES: Final = frozenset({"sensor", "actuator", "attribute"})

# VSS 6.0 "Datatypes": integer types and their ranges.
_INT_RANGES: Final = {
    "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1), "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1),
    "int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
}
_FLOATS: Final = frozenset({"float", "double"})
#: VSS 6.0: the traction battery's branch; its signals are the pack's, not the vehicle's.
BATTERY_BRANCH: Final = "Vehicle.Powertrain.TractionBattery."


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a datum or message was refused: a reason code (counted) and a sentence naming the field."""

    reason: str
    detail: str
    path: str = "$"


@dataclass(frozen=True, slots=True)
class Leaf:
    """A VSS data node: its path, node type, datatype, unit and bounds as the specification gives them."""

    path: str
    type: str
    datatype: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    allowed: frozenset[Any] | None = None
    #: Under ``Vehicle.Powertrain.TractionBattery`` (the pack's data, see roadpass.telematics.attribution).
    battery: bool = False
    #: A float or double without min, max or allowed values: any finite number fits (the fast path).
    plain: bool = False

    @property
    def numeric(self) -> bool:
        """True for integer and floating-point leaves (the ones rolled up)."""
        return self.datatype in _FLOATS or self.datatype in _INT_RANGES

    def check(self, value: Any, at: str) -> Refusal | None:
        """None when ``value`` fits this leaf; else the refusal naming ``at`` (the datum's JSON path)."""
        datatype = self.datatype
        if datatype.endswith("[]"):
            if not isinstance(value, list):
                return Refusal("bad_datatype", f"{self.path}: expected an array of {datatype[:-2]}", at)
            for index, item in enumerate(value):
                refusal = self._check_one(datatype[:-2], item, f"{at}[{index}]")
                if refusal is not None:
                    return refusal
            return None
        return self._check_one(datatype, value, at)

    def _check_one(self, datatype: str, value: Any, at: str) -> Refusal | None:
        bounds = _INT_RANGES.get(datatype)
        if bounds is not None:
            if type(value) is not int:
                if type(value) is float and value.is_integer():
                    value = int(value)
                else:
                    return Refusal("bad_datatype", f"{self.path}: expected an integer ({datatype})", at)
            if not bounds[0] <= value <= bounds[1]:
                return Refusal("bad_datatype", f"{self.path}: {value} is outside {datatype}", at)
        elif datatype in _FLOATS:
            if type(value) not in (int, float) or not math.isfinite(value):
                return Refusal("bad_datatype", f"{self.path}: expected a finite number ({datatype})", at)
        elif datatype == "boolean":
            if type(value) is not bool:
                return Refusal("bad_datatype", f"{self.path}: expected true or false", at)
            return None
        elif datatype == "string" and not isinstance(value, str):
            return Refusal("bad_datatype", f"{self.path}: expected a string", at)
        if self.min is not None and value < self.min:
            return Refusal("below_min", f"{self.path}: {value} is below the minimum {self.min:g}", at)
        if self.max is not None and value > self.max:
            return Refusal("above_max", f"{self.path}: {value} is above the maximum {self.max:g}", at)
        if self.allowed is not None and value not in self.allowed:
            return Refusal("not_allowed", f"{self.path}: {value!r} is not an allowed value", at)
        return None


class VssTree:
    """Every node of a VSS tree by dotted path; answers whether a reported datum is acceptable."""

    def __init__(self, root: dict[str, Any]) -> None:
        self.leaves: dict[str, Leaf] = {}
        self.branches: set[str] = set()
        for name, node in root.items():
            self._walk(name, node)

    def _walk(self, path: str, node: dict[str, Any]) -> None:
        kind = node.get("type")
        if kind == "branch":
            self.branches.add(path)
            for name, child in (node.get("children") or {}).items():
                self._walk(f"{path}.{name}", child)
        elif kind in LEAF_TYPES:
            allowed, low, high, datatype = node.get("allowed"), node.get("min"), node.get("max"), node.get("datatype")
            self.leaves[path] = Leaf(
                path, kind, str(datatype or ""), node.get("unit"), low, high, frozenset(allowed) if allowed else None,
                battery=path.startswith(BATTERY_BRANCH),
                plain=datatype in _FLOATS and low is None and high is None and not allowed)

    def check(self, path: str, value: Any, at: str) -> tuple[Leaf | None, Any, Refusal | None]:
        """``(leaf, value, None)`` for a good datum (``value`` unwrapped from ``{"value", "unit"}``), else
        ``(None, None, refusal)``."""
        leaf = self.leaves.get(path)
        if leaf is None:
            if path in self.branches:
                return None, None, Refusal("not_a_leaf", f"{path} is a branch, not a sensor/actuator/attribute", at)
            return None, None, Refusal("unknown_path", f"{path} is not a VSS 6.0 signal", at)
        if type(value) is dict:
            unit = value.get("unit")
            if "value" not in value or set(value) - {"value", "unit"}:
                return None, None, Refusal("bad_shape", "expected a value or {\"value\", \"unit\"}", at)
            if unit is not None and unit != leaf.unit:
                return None, None, Refusal(
                    "wrong_unit", f"{path}: unit {unit!r} is not the signal's unit {leaf.unit!r}", f"{at}.unit")
            value = value["value"]
        refusal = leaf.check(value, at)
        return (None, None, refusal) if refusal else (leaf, value, None)


@cache
def vss_tree() -> VssTree:
    """The VSS 6.0 tree from the conformance folder (read on first use)."""
    return VssTree(orjson.loads(conformance_path("vss", "vss-6.0.json").read_bytes()))
