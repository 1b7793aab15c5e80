"""The fleet simulation: plans production, export, sale and service, and releases events in time order.

Planning runs kit batch by kit batch (up to 60 vehicles of one plant). Each batch schedules its events into
per-day buckets as (time, sequence, builder, record); an event is only built when its day is released. A day
is released once no future batch can schedule into it: every batch's earliest event is at most the longest
supply lead time before the batch starts, and batches start in time order. The stream is therefore sorted by
event time (so causal: ADD before DELETE, shipping before receiving), and memory holds only the events of the
supply lead window and the logistics pipeline plus a small record per future service visit: it does not grow
with the fleet. All randomness is drawn while planning, from one ``random.Random(seed)``.
"""

from __future__ import annotations

import bisect
import random
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from roadpass.demo.fleet_events_market import Events
from roadpass.demo.fleet_model import FleetSpec, as_datetime, model_year_code, vin_check_digit
from roadpass.demo.fleet_truth import TruthRecorder
from roadpass.demo.fleet_world import (
    SERIAL_BASE,
    SPARE_BASE,
    V_PACK,
    V_SOLD,
    Consignment,
    LotRec,
    Market,
    PackRec,
    ServiceRec,
    VehicleRec,
    World,
)

__all__ = ["Planner"]

DAY = 86400
HOUR = 3600
KIT = 60  # vehicles per kit batch: parts are commissioned and delivered per kit batch
CONSIGNMENT_MAX = 250  # vehicles per bill of lading
SHIFT_SECONDS = 16 * HOUR  # two shifts per plant and working day

# Builder kinds: jobs name their builder by index into Planner.builders (no bound-method object per job).
(LOT, MODULES, BMS, PARTS, PACK_START, PACK_BUILT, PACK_TEST, VIN_STAMP, BUILT, TESTED, LOADED, SHIPPED,
 ARRIVED, RECEIVED, CLEARED, DISPATCHED, DELIVERED, SOLD, SPARE, DIAGNOSED, REMOVED, INSTALLED, RETURNED,
 ACCEPTED, DISMANTLED, DEPARTED) = range(26)


class Planner:
    """Plans a fleet and yields its events in event-time order (``events``) or only plans (``plan``)."""

    def __init__(self, spec: FleetSpec, world: World | None = None, truth: bool = False) -> None:
        self.spec = spec
        self.w = w = world or World()
        self.ev = Events(w)
        self.truth = TruthRecorder(w) if truth else None
        self.rng = random.Random(spec.seed)
        # Jobs of the batch being planned, by day; committed to ``buckets`` as one tuple per day and batch, so
        # that the collector walks a few chunk references instead of every waiting job.
        self.pending: defaultdict[int, list[tuple[int, int, int, Any]]] = defaultdict(list)
        self.buckets: defaultdict[int, list[tuple[tuple[int, int, int, Any], ...]]] = defaultdict(list)
        ev = self.ev
        self.builders: list[Callable[[int, Any], dict[str, Any] | None]] = [
            ev.lot_made, ev.modules_made, ev.bms_made, ev.parts_made, ev.pack_started, ev.pack_built,
            ev.pack_tested, ev.vin_stamped, ev.vehicle_built, ev.vehicle_tested, ev.loaded, ev.shipped,
            ev.arrived, ev.received, ev.cleared, ev.dispatched, ev.delivered, ev.sold, ev.spare_made,
            ev.diagnosed, ev.removed, ev.installed, ev.pack_returned, ev.pack_accepted, ev.pack_dismantled,
            ev.departed,
        ]
        self.seq = 0
        self.lead = (max(w.max_lead_days(), 11) + 2) * DAY
        self.start = int(spec.start.timestamp())
        self.flush_day = self.start // DAY
        self.last_time = self.start
        self.next_vehicle = 0
        self.plant_seq = [0] * len(w.plants)
        self.line_lot: list[LotRec | None] = [None] * w.module_lines
        self.line_left = [0] * w.module_lines
        self.lot_no = 0
        self.next_module = SERIAL_BASE
        self.next_pack = 0
        self.groups: dict[tuple[int, int], tuple[LotRec, list[int]]] = {}
        per_line = sum(float(v["weight"]) * int(v["modules"]) for v in w.variants) / w.module_lines
        # A cell lot feeds ~1.5 % of the fleet (at least 4 vehicles): big enough that a lot recall reaches
        # thousands of VINs in a large fleet, small enough that there are ~200 lots.
        self.lot_modules = max(4.0, 0.015 * spec.vehicles) * per_line
        self.variants = [(str(v["code"]), int(v["modules"]), str(v["vds"])) for v in w.variants]
        self.variant_cum = _cumulative([float(v["weight"]) for v in w.variants])
        self.market_cum = _cumulative([m.weight for m in w.markets])
        self.open: dict[tuple[str, int], Consignment] = {}
        self.consignments = 0
        self.services = 0
        self.svc_acc = 0.0
        self.svc_threshold = 0.3 + 1.4 * self.rng.random()
        self.service_parts = [p for p in w.parts if p.service == "ecu"]
        self.tcu = next(p for p in w.parts if p.service == "tcu")
        self._ym: dict[int, tuple[int, int]] = {}

    # ------------------------------------------------------------------------------------ scheduling

    def at(self, t: int, kind: int, record: Any) -> None:
        """Schedule the event ``builders[kind](t, record)`` at UTC instant ``t``."""
        day = t // DAY
        if day < self.flush_day:  # a planning bug, never bad input: the released stream would lose order
            raise AssertionError(f"event scheduled at {as_datetime(t)} after its day was released")
        self.seq += 1
        self.pending[day].append((t, self.seq, kind, record))

    def _commit(self) -> None:
        buckets = self.buckets
        for day, jobs in self.pending.items():
            buckets[day].append(tuple(jobs))
        self.pending.clear()

    def _release(self, until_day: int | None) -> Iterator[dict[str, Any]]:
        """Build and yield the events of every day before ``until_day`` (all days if None), in time order."""
        buckets, builders = self.buckets, self.builders
        if until_day is None:
            until_day = max(buckets) + 1 if buckets else self.flush_day
        day = self.flush_day
        self.flush_day = max(self.flush_day, until_day)
        while day < until_day:
            chunks = buckets.pop(day, None)
            day += 1
            if chunks:
                jobs = [job for chunk in chunks for job in chunk]
                jobs.sort()
                for t, _, kind, record in jobs:
                    event = builders[kind](t, record)
                    if event is not None:
                        self.last_time = t
                        yield event

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event of the fleet, in event-time order (``last_time`` is the latest one's UTC time)."""
        for batch in self._batches():
            self._plan_batch(*batch)
            yield from self._release((batch[0] - self.lead) // DAY)
        yield from self._release(None)

    def plan(self) -> None:
        """Plan the whole fleet without building events (fills the ground truth)."""
        for batch in self._batches():
            self._plan_batch(*batch)
            until = (batch[0] - self.lead) // DAY
            for day in range(self.flush_day, until):
                self.buckets.pop(day, None)
            self.flush_day = max(self.flush_day, until)
        self.buckets.clear()

    # ------------------------------------------------------------------------------------ production

    def _batches(self) -> Iterator[tuple[int, int, int, int]]:
        plant = self.w.plants[0][0]
        day = plant.day_start(self.start + self.lead) + DAY
        remaining = self.spec.vehicles
        while remaining:
            local_day = (day + plant.minutes(day) * 60) // DAY
            if (local_day + 3) % 7 == 6:  # 1970-01-01 was a Thursday; plants rest on Sundays
                day += DAY
                continue
            today = min(self.spec.vehicles_per_day, remaining)
            takt = min(120, len(self.w.plants) * SHIFT_SECONDS // today)
            kits = -(-today // KIT)
            size = -(-today // kits)
            done = 0
            for k in range(kits):
                n = min(size, today - done)
                yield day + 7 * HOUR + (k // len(self.w.plants)) * size * takt, k % len(self.w.plants), n, takt
                done += n
            remaining -= today
            day += DAY

    def _plan_batch(self, start: int, plant_index: int, n: int, takt: int) -> None:
        w, rng, at = self.w, self.rng, self.at
        plant, plant_code = w.plants[plant_index]
        for key in [k for k, c in self.open.items() if c.loading < start]:
            del self.open[key]
        self.groups = {}
        vehicles: list[VehicleRec] = []
        packs: list[PackRec] = []
        pack_time = start - 2 * DAY
        for i in range(n):
            assembled = start + i * takt + int(rng.random() * takt * 0.5)
            code, modules, vds = self.variants[bisect.bisect(self.variant_cum, rng.random())]
            market = w.markets[bisect.bisect(self.market_cum, rng.random())]
            dealer = market.dealers[int(rng.random() * len(market.dealers))].loc.key
            self.plant_seq[plant_index] += 1
            vin, model_year = self._vin(plant_code, vds, assembled, self.plant_seq[plant_index])
            pack = self._new_pack(code, modules, start)
            eol = assembled + 3 * HOUR + int(rng.random() * HOUR)
            c, sold = self._consign(market, dealer, eol)
            idx = self.next_vehicle
            self.next_vehicle += 1
            v: VehicleRec = (idx, str(SERIAL_BASE + idx), vin, w.giai_prefix + vin, plant.loc.key, code,
                             model_year, market.country, dealer, pack, assembled, sold)
            c.vehicles.append(v)
            c.by_dealer.setdefault(dealer, []).append(v)
            vehicles.append(v)
            packs.append(pack)
            self._schedule_pack(pack, pack_time + i * takt)
            at(assembled - 20 * HOUR - int(rng.random() * 2 * HOUR), VIN_STAMP, v)
            at(assembled, BUILT, v)
            at(eol, TESTED, v)
            at(sold, SOLD, v)
            if self.truth is not None:
                self.truth.vehicle(v)
            spare = self._service(v, market, modules, start)
            if spare is not None:
                packs.append(spare)
                self._schedule_pack(spare, pack_time + i * takt + 900)
        batch = tuple(vehicles)
        for j, part in enumerate(w.parts):
            at(start - self._days(part.lead), PARTS, (j, batch))
        at(start - self._days(w.bms.lead), BMS, tuple(packs))
        for g, ((line, _), (lot, members)) in enumerate(self.groups.items()):
            at(start - 4 * DAY + line * 2 * HOUR + g * 600, MODULES, (lot, tuple(members)))
        self._commit()

    def _days(self, span: tuple[int, int]) -> int:
        return int((span[0] + (span[1] - span[0]) * self.rng.random()) * DAY)

    def _vin(self, plant_code: str, vds: str, ts: int, seq: int) -> tuple[str, int]:
        local_day = (ts + 8 * HOUR) // DAY  # both plants are in China (UTC+08:00)
        ym = self._ym.get(local_day)
        if ym is None:
            d = datetime.fromtimestamp(local_day * DAY, UTC)
            ym = self._ym[local_day] = (d.year, d.month)
        model_year = ym[0] + 1 if ym[1] >= 7 else ym[0]  # a new model year from July, as Chinese OEMs do
        m = self.w.model
        body = f"{self.w.wmi}{m['line']}{m['body']}{vds}{m['restraint']}{m['drive']}0{model_year_code(model_year)}"
        body += f"{plant_code}{seq:06d}"
        return body[:8] + vin_check_digit(body) + body[9:], model_year

    def _new_pack(self, variant: str, modules: int, start: int) -> PackRec:
        """A new pack: its modules come from each module line in turn, each line from its current lot."""
        lines, truth = self.w.module_lines, self.truth
        serials: list[int] = []
        for line in range(lines):
            need = (modules - line + lines - 1) // lines
            while need:
                lot, left = self.line_lot[line], self.line_left[line]
                if lot is None or left == 0:
                    lot, left = self._open_lot(line, start), self.line_left[line]
                take = need if need < left else left
                first = self.next_module
                self.next_module = first + take
                block = range(first, first + take)
                serials.extend(block)
                group = self.groups.get((line, lot[0]))
                if group is None:
                    self.groups[(line, lot[0])] = (lot, list(block))
                else:
                    group[1].extend(block)
                self.line_left[line] = left - take
                need -= take
                if truth is not None:
                    truth.modules(lot[1], block)
        pack: PackRec = (self.next_pack, tuple(serials), variant)
        self.next_pack += 1
        if truth is not None:
            truth.pack(self.w.pack_epc(pack), self.w.pack_children(pack))
        return pack

    def _open_lot(self, line: int, start: int) -> LotRec:
        self.lot_no += 1
        modules = max(1, round(self.lot_modules * (0.7 + 0.6 * self.rng.random())))
        made = start - 4 * DAY - self._days((3, 6))
        code = f"MJ{as_datetime(made).year % 100:02d}{self.lot_no:05d}"
        lot: LotRec = (self.lot_no, self.w.lot_prefix + code, code, modules * self.ev.cells_per_module)
        self.at(made, LOT, lot)
        self.line_lot[line] = lot
        self.line_left[line] = modules
        return lot

    def _schedule_pack(self, pack: PackRec, t: int) -> None:
        self.at(t - 1800, PACK_START, pack)
        self.at(t, PACK_BUILT, pack)
        self.at(t + 2400, PACK_TEST, pack)

    # ------------------------------------------------------------------------------------ export and sale

    def _consign(self, market: Market, dealer: str, eol: int) -> tuple[Consignment, int]:
        """The consignment (sailing and bill of lading) a vehicle ready at ``eol`` joins, and its sale time."""
        origin = market.origin
        ready = eol + 2 * DAY  # trucked from the plant to the port compound
        day = origin.day_start(ready)
        weekday = ((day + origin.minutes(day) * 60) // DAY + 3) % 7
        loading = day + ((market.weekday - weekday) % 7) * DAY + 8 * HOUR
        if loading < ready:
            loading += 7 * DAY
        key = (market.country, loading)
        c = self.open.get(key)
        if c is None or len(c.vehicles) >= CONSIGNMENT_MAX:
            c = self.open[key] = self._consignment(market, loading + (1800 * (c.no % 8) if c else 0))
        site = self.w.sites[dealer]
        sold = site.day_start(c.delivered[dealer] + self._days((3, 75))) + 10 * HOUR
        return c, sold + int(self.rng.random() * 8 * HOUR)

    def _consignment(self, market: Market, loading: int) -> Consignment:
        rng, at = self.rng, self.at
        self.consignments += 1
        c = Consignment(self.consignments, market, loading)
        at(loading + int(rng.random() * 3 * HOUR), LOADED, c)
        at(loading + 6 * HOUR, SHIPPED, c)
        departure = loading + 12 * HOUR
        at(departure, DEPARTED, c)
        arrival = departure + self._days(market.transit)
        at(arrival, ARRIVED, c)
        receipt = arrival + 6 * HOUR + int(rng.random() * 24 * HOUR)
        at(receipt, RECEIVED, c)
        clearance = receipt + self._days((1, 4))
        at(clearance, CLEARED, c)
        for dealer in market.dealers:
            key = dealer.loc.key
            out = market.port.day_start(clearance + self._days((1, 3))) + 7 * HOUR + int(rng.random() * 4 * HOUR)
            at(out, DISPATCHED, (c, key))
            arrive = dealer.day_start(out + self._days((1, 4))) + 9 * HOUR + int(rng.random() * 6 * HOUR)
            c.delivered[key] = arrive
            at(arrive, DELIVERED, (c, key))
        return c

    # ------------------------------------------------------------------------------------ aftermarket

    def _service(self, v: VehicleRec, market: Market, modules: int, start: int) -> PackRec | None:
        # Error diffusion with a random threshold: the serviced share matches service_share within about
        # one vehicle however small the fleet, yet visits are irregularly spaced.
        self.svc_acc += self.spec.service_share
        if self.svc_acc < self.svc_threshold:
            return None
        rng, at, w = self.rng, self.at, self.w
        self.svc_acc -= 1.0
        self.svc_threshold = 0.3 + 1.4 * rng.random()
        self.services += 1
        kind = rng.random()
        workshop = market.workshops[int(rng.random() * len(market.workshops))]
        visit = workshop.day_start(v[V_SOLD] + self._days((60, 540))) + 9 * HOUR + int(rng.random() * 7 * HOUR)
        spare: PackRec | None = None
        if kind < 0.3:
            spare = self._new_pack(v[V_PACK][2], modules, start)
            part = w.pack
            removed, installed = w.pack_epc(v[V_PACK]), w.pack_epc(spare)
        else:
            part = self.tcu if kind < 0.55 else self.service_parts[int(rng.random() * len(self.service_parts))]
            removed, installed = w.part_serial(part, v, 0), part.prefix + str(SPARE_BASE + self.services)
        recycler = ""
        if spare is not None and rng.random() < self.spec.pack_recycling_share:
            recycler = market.recycler.loc.key
        s: ServiceRec = (self.services, v, part.key, removed, installed, workshop.loc.key, recycler)
        if spare is None:
            at(visit - self._days((14, 60)), SPARE, s)
        at(visit, DIAGNOSED, s)
        removed_at = visit + HOUR + int(rng.random() * 2 * HOUR)
        at(removed_at, REMOVED, s)
        installed_at = removed_at + HOUR + int(rng.random() * 2 * HOUR)
        at(installed_at, INSTALLED, s)
        dismantled = None
        if recycler:
            returned = workshop.day_start(installed_at + self._days((5, 20))) + 10 * HOUR
            at(returned, RETURNED, s)
            accepted = market.recycler.day_start(returned + self._days((2, 6))) + 9 * HOUR
            at(accepted, ACCEPTED, s)
            dismantled = accepted + self._days((7, 45))
            at(dismantled, DISMANTLED, s)
        if self.truth is not None:
            self.truth.service(s, workshop.loc.country, removed_at, installed_at, dismantled)
        return spare


def _cumulative(weights: list[float]) -> list[float]:
    total = sum(weights)
    out: list[float] = []
    acc = 0.0
    for weight in weights:
        acc += weight / total
        out.append(acc)
    out[-1] = 1.0 + 1e-9
    return out
