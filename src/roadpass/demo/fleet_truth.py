"""The fleet's ground truth: what its events say about each VIN, computed by the planner itself.

Tests on small fleets compare this with what a reader of the events derives; it holds per-VIN sets, so its
memory grows with the fleet (unlike the event stream).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from roadpass.demo.fleet_model import as_datetime
from roadpass.demo.fleet_world import (
    S_INSTALLED,
    S_PART,
    S_REMOVED,
    S_VEHICLE,
    S_WORKSHOP,
    V_ASSEMBLED,
    V_COUNTRY,
    V_DEALER,
    V_EPC,
    V_SOLD,
    V_VIN,
    ServiceRec,
    VehicleRec,
    World,
)

__all__ = ["FleetTruth", "SwapRecord", "TruthRecorder"]


@dataclass(frozen=True, slots=True)
class SwapRecord:
    """One part swapped at a workshop: removed from and installed into ``vin`` (times in UTC)."""

    vin: str
    vehicle: str
    part: str
    removed: str
    installed: str
    removed_at: datetime
    installed_at: datetime
    workshop: str
    country: str


@dataclass
class FleetTruth:
    """What the generated events say, computed by the generator itself (for tests on small fleets).

    ``parts_*`` hold serialised EPCs inside each VIN, transitively (a pack's modules and BMS count);
    ``lots_*`` the cell lots (LGTIN classes) those modules were made from; ``*_now`` is the state after the
    last event, ``*_ever`` everything the VIN ever contained.
    """

    vehicle_epc: dict[str, str] = field(default_factory=dict)
    markets: dict[str, str] = field(default_factory=dict)
    dealers: dict[str, str] = field(default_factory=dict)
    assembled_at: dict[str, datetime] = field(default_factory=dict)
    sold_at: dict[str, datetime] = field(default_factory=dict)
    parts_now: dict[str, frozenset[str]] = field(default_factory=dict)
    parts_ever: dict[str, frozenset[str]] = field(default_factory=dict)
    lots_now: dict[str, frozenset[str]] = field(default_factory=dict)
    lots_ever: dict[str, frozenset[str]] = field(default_factory=dict)
    module_lot: dict[str, str] = field(default_factory=dict)
    pack_children: dict[str, tuple[str, ...]] = field(default_factory=dict)
    swaps: list[SwapRecord] = field(default_factory=list)
    disassembled: dict[str, datetime] = field(default_factory=dict)

    def vins_with_lot(self, lot: str, *, ever: bool = False) -> frozenset[str]:
        """VINs that contain (``ever=True``: ever contained) a module made from cell lot ``lot``."""
        table = self.lots_ever if ever else self.lots_now
        return frozenset(vin for vin, lots in table.items() if lot in lots)

    def vins_with_part(self, epc: str, *, ever: bool = False) -> frozenset[str]:
        """VINs that contain (``ever=True``: ever contained) the serialised part ``epc``."""
        table = self.parts_ever if ever else self.parts_now
        return frozenset(vin for vin, parts in table.items() if epc in parts)

    def parts_at(self, vin: str, when: datetime) -> frozenset[str]:
        """The serialised parts inside ``vin`` at instant ``when`` (time-aware genealogy)."""
        if when < self.assembled_at[vin]:
            return frozenset()
        parts = set(self.parts_ever[vin])
        for swap in self.swaps:
            if swap.vin != vin:
                continue
            if when < swap.installed_at:
                parts -= {swap.installed, *self.pack_children.get(swap.installed, ())}
            if when < swap.removed_at:
                continue
            parts -= {swap.removed, *self.pack_children.get(swap.removed, ())}
        return frozenset(parts)


class TruthRecorder:
    """Collects the ground truth while the planner plans (only when asked for: it costs memory)."""

    def __init__(self, world: World) -> None:
        self.w = world
        self.truth = FleetTruth()
        self._ever: dict[str, set[str]] = {}
        self._gone: dict[str, set[str]] = {}

    def modules(self, lot_class: str, serials: range) -> None:
        """Modules ``serials`` were made from cell lot ``lot_class``."""
        prefix, table = self.w.module.prefix, self.truth.module_lot
        for m in serials:
            table[prefix + str(m)] = lot_class

    def pack(self, epc: str, children: list[str]) -> None:
        """Pack ``epc`` was built from ``children`` (modules and BMS)."""
        self.truth.pack_children[epc] = tuple(children)

    def _inside(self, epc: str) -> set[str]:
        return {epc, *self.truth.pack_children.get(epc, ())}

    def vehicle(self, v: VehicleRec) -> None:
        """Vehicle ``v`` was built, shipped and sold as planned."""
        truth, vin = self.truth, v[V_VIN]
        truth.vehicle_epc[vin] = v[V_EPC]
        truth.markets[vin] = v[V_COUNTRY]
        truth.dealers[vin] = self.w.sites[v[V_DEALER]].biz
        truth.assembled_at[vin] = as_datetime(v[V_ASSEMBLED])
        truth.sold_at[vin] = as_datetime(v[V_SOLD])
        ever = self._ever[vin] = set()
        for epc in self.w.vehicle_children(v):
            ever |= self._inside(epc)
        self._gone[vin] = set()

    def service(self, s: ServiceRec, country: str, removed_at: int, installed_at: int, dismantled: int | None) -> None:
        """A workshop swapped a part of a vehicle; the removed pack may be dismantled later."""
        v = s[S_VEHICLE]
        vin = v[V_VIN]
        self._ever[vin] |= self._inside(s[S_INSTALLED])
        self._gone[vin] |= self._inside(s[S_REMOVED])
        self.truth.swaps.append(
            SwapRecord(vin, v[V_EPC], s[S_PART], s[S_REMOVED], s[S_INSTALLED], as_datetime(removed_at),
                       as_datetime(installed_at), self.w.sites[s[S_WORKSHOP]].biz, country)
        )
        if dismantled is not None:
            self.truth.disassembled[s[S_REMOVED]] = as_datetime(dismantled)

    def finish(self) -> FleetTruth:
        """The completed ground truth (now/ever part and lot sets per VIN)."""
        truth = self.truth
        lot_of = truth.module_lot
        for vin, ever in self._ever.items():
            now = ever - self._gone[vin]
            truth.parts_ever[vin] = frozenset(ever)
            truth.parts_now[vin] = frozenset(now)
            truth.lots_ever[vin] = frozenset(lot_of[e] for e in ever if e in lot_of)
            truth.lots_now[vin] = frozenset(lot_of[e] for e in now if e in lot_of)
        truth.swaps.sort(key=lambda s: (s.removed_at, s.vin))
        return truth
