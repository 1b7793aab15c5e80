"""The ``vss`` message: ``{"ts": …, "signals": {path: value}}`` or a list of such objects.

Parsing is pure: a payload gives the good samples and a refusal for each bad part, each naming its JSON
path; one bad datum never spoils its neighbours, and nothing here raises on bad input (the ingester never
stops on it). Times: ``ts`` is an ISO 8601 date-time with an offset, or integer epoch milliseconds; samples
are placed by it, not by arrival.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from math import isfinite
from typing import Any, Final, NamedTuple

import orjson

from roadpass.telematics.vss import Leaf, Refusal, VssTree
from roadpass.trace.timeutil import parse_time

__all__ = ["MAX_OBJECTS", "Parsed", "Sample", "parse_vss"]

#: Most sample objects one message may carry (a buffered burst); more is refused whole.
MAX_OBJECTS: Final = 10_000
# Epoch milliseconds before 2000-01-01 or after 2100-01-01 are taken for a unit whose clock is not set.
_MIN_MS: Final = 946_684_800_000
_MAX_MS: Final = 4_102_444_800_000


class Sample(NamedTuple):
    """One good datum: when it was sampled (UTC µs), its VSS leaf, its value."""

    ts: int
    leaf: Leaf
    value: Any


@dataclass(slots=True)
class Parsed:
    """What a message gave: good data grouped by sample time, and refusals (each with its JSON path)."""

    groups: list[tuple[int, list[tuple[Leaf, Any]]]]
    refusals: list[Refusal]

    @property
    def samples(self) -> list[Sample]:
        """The good data one by one."""
        return [Sample(ts, leaf, value) for ts, pairs in self.groups for leaf, value in pairs]


def _ts(raw: Any, at: str) -> int | Refusal:
    if type(raw) is int:
        if not _MIN_MS <= raw <= _MAX_MS:
            return Refusal("bad_ts", f"ts {raw} is not epoch milliseconds between 2000 and 2100", at)
        return raw * 1000
    if isinstance(raw, str):
        try:
            return parse_time(raw, "ts")
        except ValueError as exc:
            return Refusal("bad_ts", str(exc), at)
    return Refusal("bad_ts", "ts must be an ISO 8601 date-time with an offset or epoch milliseconds", at)


def _one(obj: Any, at: str, tree: VssTree, out: Parsed) -> None:
    if type(obj) is not dict or type(obj.get("signals")) is not dict or set(obj) - {"ts", "signals"}:
        out.refusals.append(Refusal("bad_shape", 'expected {"ts": …, "signals": {path: value}}', at))
        return
    ts = _ts(obj.get("ts"), f"{at}.ts")
    if isinstance(ts, Refusal):
        out.refusals.append(ts)
        return
    leaves, check = tree.leaves, tree.check
    good: list[tuple[Leaf, Any]] = []
    for path, value in obj["signals"].items():
        leaf = leaves.get(path)
        if leaf is not None and leaf.plain and (type(value) is float or type(value) is int) and isfinite(value):
            good.append((leaf, value))  # the common case, decided without building a JSON path
            continue
        leaf, value, refusal = check(path, value, "")
        if leaf is not None:
            good.append((leaf, value))
        elif refusal is not None:
            out.refusals.append(replace(refusal, path=f'{at}.signals["{path}"]{refusal.path}'))
    if good:
        out.groups.append((ts, good))


def parse_vss(payload: bytes, tree: VssTree) -> Parsed:
    """Every good sample of a ``vss`` payload and a refusal for each bad part."""
    out = Parsed([], [])
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        out.refusals.append(Refusal("not_json", f"not JSON: {exc}"))
        return out
    if type(body) is list:
        if len(body) > MAX_OBJECTS:
            out.refusals.append(Refusal("bad_shape", f"more than {MAX_OBJECTS} objects in one message"))
            return out
        for index, obj in enumerate(body):
            _one(obj, f"$[{index}]", tree, out)
    else:
        _one(body, "$", tree, out)
    return out
