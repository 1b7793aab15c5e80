"""Whose data is it: a unit reports for the vehicle it is fitted in at the sample's instant, and battery
signals belong to the traction pack fitted in that vehicle at that instant (the as-built genealogy).

Reg. (EU) 2023/1542 Art. 77(1) and Annex XIII(4) tie the passport's dynamic data (state of health, cycles,
negative events) to the individual battery, so a pack's history follows it into another vehicle or a second
life; a unit moved to another car reports for the new car from the swap on. The genealogy is asked through
:class:`~roadpass.telematics.ports.Genealogy`; answers are kept until the next capture commits (a swap) or
for :data:`CACHE_SECONDS` (a capture in another process).
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Final

from roadpass.telematics.ports import Genealogy, Holding, Subject
from roadpass.telematics.vss import BATTERY_BRANCH, Refusal
from roadpass.trace.genealogy import AsBuiltNode
from roadpass.trace.identifiers import IdentifierError
from roadpass.trace.service import TraceService, UnitNotFound

__all__ = ["BATTERY_BRANCH", "CACHE_SECONDS", "Attributor", "TraceGenealogy", "is_battery_signal", "pack_by_gtin"]

#: How long genealogy answers are reused when no capture in this process says they changed.
CACHE_SECONDS: Final = 60.0


def is_battery_signal(path: str) -> bool:
    """True for ``Vehicle.Powertrain.TractionBattery.*`` (stored on the pack)."""
    return path.startswith(BATTERY_BRANCH)


def pack_by_gtin(gtins: Callable[[], Iterable[str]]) -> Callable[[str], bool]:
    """A pack test on canonical keys: a serialised unit (SGTIN) of one of the traction pack GTINs
    (``gtins`` is asked on first use, so nothing is read at construction)."""
    prefixes: list[tuple[str, ...]] = []

    def is_pack(key: str) -> bool:
        if not prefixes:
            prefixes.append(tuple(f"https://id.gs1.org/01/{g.zfill(14)}/21/" for g in gtins()))
        return key.startswith(prefixes[0])

    return is_pack


class Attributor:
    """Answers which vehicle a unit reports for, and which pack a vehicle holds, at an instant (cached)."""

    def __init__(self, genealogy: Genealogy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.genealogy = genealogy
        self.clock = clock
        self._stale = True
        self._since = 0.0
        self._units: dict[str, tuple[Subject, list[Holding]] | None] = {}
        self._packs: dict[int, list[Holding]] = {}
        self._no_pack: set[tuple[int, int]] = set()

    def forget(self) -> None:
        """Drop every cached answer (called when a capture commits: a swap may have been recorded)."""
        self._stale = True

    def _fresh(self) -> None:
        now = self.clock()
        if self._stale or now - self._since > CACHE_SECONDS:
            self._units.clear()
            self._packs.clear()
            self._no_pack.clear()
            self._stale, self._since = False, now

    def unit(self, key: str) -> tuple[Subject, list[Holding]] | None:
        """The unit and every vehicle that held it, with when; None if the trace store does not know it."""
        self._fresh()
        if key not in self._units:
            self._units[key] = self.genealogy.unit_holders(key)
        return self._units[key]

    def vehicle_of(self, key: str, ts: int) -> tuple[Subject, Subject] | Refusal:
        """``(unit, vehicle)`` the unit ``key`` reports for at ``ts`` (UTC µs), or the refusal."""
        found = self.unit(key)
        if found is None:
            return Refusal("unknown_unit", f"unit {key} is not known to the trace store")
        unit, holdings = found
        for holding in holdings:
            if holding.start <= ts < holding.end:
                return unit, holding.subject
        return Refusal("not_fitted", f"unit {key} is fitted in no vehicle at that instant")

    def pack_of(self, vehicle: Subject, ts: int) -> Subject | Refusal:
        """The traction pack fitted in ``vehicle`` at ``ts``, or the refusal."""
        self._fresh()
        spans = self._packs.setdefault(vehicle.id, [])
        if spans:
            if spans[0].start <= ts < spans[0].end:  # the common case: one pack for the vehicle's life so far
                return spans[0].subject
            index = bisect_right(spans, ts, key=lambda h: h.start) - 1
            if index >= 0 and spans[index].start <= ts < spans[index].end:
                return spans[index].subject
        second = ts // 1_000_000
        if (vehicle.id, second) not in self._no_pack:
            holding = self.genealogy.pack_at(vehicle.key, ts)
            if holding is not None:
                spans.append(holding)
                spans.sort(key=lambda h: h.start)
                return holding.subject
            self._no_pack.add((vehicle.id, second))
        return Refusal("no_pack", f"vehicle {vehicle.key} holds no traction pack at that instant")


class TraceGenealogy:
    """:class:`~roadpass.telematics.ports.Genealogy` answered by the trace service (where-used, as-built)."""

    def __init__(self, trace: TraceService, is_pack: Callable[[str], bool]) -> None:
        self.trace = trace
        self.is_pack = is_pack

    def unit_holders(self, key: str) -> tuple[Subject, list[Holding]] | None:
        """The unit and each interval a vehicle (a unit with a VIN) held it."""
        try:
            ref, hits = self.trace.where_used(key)
        except (UnitNotFound, IdentifierError, ValueError):
            return None
        holdings: list[Holding] = []
        for hit in hits:
            if hit.vin is None:
                continue
            vehicle = Subject(self.trace.resolve(hit.key).id, hit.key)
            holdings.extend(Holding(vehicle, span.start, span.end) for span in hit.spans)
        return Subject(ref.id, ref.key), sorted(holdings, key=lambda h: h.start)

    def pack_at(self, vehicle_key: str, ts: int) -> Holding | None:
        """The traction pack in the vehicle's as-built tree at ``ts``, with its fitted interval."""
        tree = self.trace.as_built(vehicle_key, ts)
        node = _find(tree, self.is_pack)
        if node is None:
            return None
        start = node.since if node.since is not None else ts
        end = node.until if node.until is not None else 2**62
        return Holding(Subject(self.trace.resolve(node.key).id, node.key), start, end)


def _find(node: AsBuiltNode, test: Callable[[str], bool]) -> AsBuiltNode | None:
    for child in node.children:
        if test(child.key):
            return child
        found = _find(child, test)
        if found is not None:
            return found
    return None
