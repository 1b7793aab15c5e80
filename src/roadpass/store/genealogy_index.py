"""An in-memory index of the genealogy's upward links, for where-used at fleet scale.

A recall question about a cell lot walks from the lot to thousands of modules, packs and vehicles. The
link table answers it correctly (see :mod:`roadpass.store.genealogy`), but row-at-a-time SQL costs a few
microseconds per row; a graph database keeps adjacency in memory instead, and so does this index:

* the links as arrays sorted by child (CSR: ``offsets[child]`` .. ``offsets[child + 1]``), built once from
  the table in chunks;
* links added since, read by id (``id > last seen``) into a small per-child delta;
* links closed or removed since, read from the ``link_change`` log and patched in place.

Each query first asks the database what changed (three indexed ``MAX`` look-ups) and applies it, so the
index never answers from a stale picture. The walk itself is vectorised with numpy, level by level.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from roadpass.trace.timeutil import FOREVER

__all__ = ["Climb", "GenealogyIndex", "VehicleTable"]

BEGINNING = -FOREVER
MAX_DEPTH = 32
_CHUNK = 50_000  # rows per fetch: Python rows cost ~250 bytes each while a chunk is turned into arrays

I64 = npt.NDArray[np.int64]


Objects = npt.NDArray[np.object_]


@dataclass(slots=True)
class VehicleTable:
    """Key, VIN and market of every vehicle unit as columns in unit-id order, so that a recall over
    thousands of vehicles picks its facts with array indexing rather than one dictionary probe each."""

    ids: I64
    keys: Objects
    vins: Objects
    vin_text: npt.NDArray[np.str_]  # the VINs again as fixed-width text, for ordering without Python compares
    market_code: npt.NDArray[np.intp]  # position of each vehicle's market in market_names
    market_names: list[str | None]  # append-only, so a code read once keeps its meaning

    @classmethod
    def of(cls, facts: Mapping[int, tuple[str, str, str | None]]) -> VehicleTable:
        """A table of ``facts`` (unit id -> key, VIN, market)."""
        ids = np.array(sorted(facts), dtype=np.int64)
        rows = [facts[i] for i in ids.tolist()]
        keys, vins = np.empty(len(rows), dtype=object), np.empty(len(rows), dtype=object)
        keys[:] = [r[0] for r in rows]
        vins[:] = [r[1] for r in rows]
        names: dict[str | None, int] = {}
        codes = np.array([names.setdefault(r[2], len(names)) for r in rows], dtype=np.intp)
        vin_text = np.array(vins.tolist() or [""], dtype=str)[: len(rows)]
        return cls(ids, keys, vins, vin_text, codes, list(names))

    def _code(self, market: str | None) -> int:
        if market not in self.market_names:
            self.market_names.append(market)
        return self.market_names.index(market)

    def markets(self, slots: I64) -> list[str | None]:
        """The markets of the vehicles in ``slots``."""
        names = self.market_names
        return [names[c] for c in self.market_code[slots].tolist()]

    def slots(self, units: I64) -> I64:
        """Row of each of ``units`` in the table, -1 for units that are not vehicles."""
        if len(self.ids) == 0:
            return np.full(len(units), -1, dtype=np.int64)
        where = np.minimum(np.searchsorted(self.ids, units), len(self.ids) - 1)
        return np.where(self.ids[where] == units, where, -1)

    def get(self, unit: int) -> tuple[str, str, str | None] | None:
        """Key, VIN and market of one unit, None when it is not a vehicle."""
        slot = int(self.slots(np.array([unit], dtype=np.int64))[0])
        if slot < 0:
            return None
        return self.keys[slot], self.vins[slot], self.market_names[int(self.market_code[slot])]

    def merged(self, facts: Mapping[int, tuple[str, str, str | None]]) -> VehicleTable:
        """This table with ``facts`` added or, for units already in it, their market replaced (a unit's
        key and VIN never change)."""
        if not facts:
            return self
        units = np.array(sorted(facts), dtype=np.int64)
        slots = self.slots(units)
        known = slots >= 0
        for unit, slot in zip(units[known].tolist(), slots[known].tolist(), strict=True):
            self.market_code[slot] = self._code(facts[unit][2])
        if known.all():
            return self
        fresh = {u: facts[u] for u in units[~known].tolist()}
        if len(self.ids) and min(fresh) <= self.ids[-1]:  # not past the end (ids are handed out rising)
            current = zip(self.keys, self.vins, self.markets(np.arange(len(self.ids))), strict=True)
            return VehicleTable.of({**dict(zip(self.ids.tolist(), current, strict=True)), **fresh})
        added = VehicleTable.of(fresh)
        codes = np.array([self._code(m) for m in added.markets(np.arange(len(added.ids)))], dtype=np.intp)
        return VehicleTable(
            np.concatenate([self.ids, added.ids]),
            np.concatenate([self.keys, added.keys]),
            np.concatenate([self.vins, added.vins]),
            np.concatenate([self.vin_text, added.vin_text]),
            np.concatenate([self.market_code, codes]),
            self.market_names,
        )


class Climb(NamedTuple):
    """The upward walk from a target, for a where-used answer. Rows (``node``, ``start``, ``end``,
    ``via``): the unit held the target during ``[start, end)`` and was reached from ``via``; each (node,
    span, via) once. ``vehicle``: which rows' units carry a VIN. ``loose``: the units that may be at the
    top of the chain (sorted), and ``slot``: each row's unit's position among them (-1: none of them;
    empty when there are no such units).
    ``link_owner``, ``link_start``, ``link_end``: every up-link of those units (position among them, span;
    a removed link comes out empty)."""

    node: I64
    start: I64
    end: I64
    via: I64
    vehicle: npt.NDArray[np.bool_]
    loose: I64
    slot: I64
    link_owner: I64
    link_start: I64
    link_end: I64


@dataclass(slots=True)
class _State:
    offsets: I64 = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    parent: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    start: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    end: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    link_ids: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sorted copy for patching
    link_pos: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # position of link_ids[i]
    delta: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    multi_linked: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sorted child ids
    delta_size: int = 0
    vin_mask: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    vehicles: VehicleTable = field(default_factory=lambda: VehicleTable.of({}))
    # Supplier party of units seen below a hit, by unit id: -2 not read yet, -1 none, else a position in
    # supplier_names; and the keys of those units (kept for building hits).
    supplier_code: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, dtype=np.int16))
    supplier_names: list[str] = field(default_factory=list)
    unit_keys: dict[int, str] = field(default_factory=dict)
    # Key and market of units other than vehicles that topped a where-used answer (loose or removed
    # parts); a market change drops the unit from here (every change is in the change log).
    holders: dict[int, tuple[str, str | None]] = field(default_factory=dict)
    supplier_signature: int = 0
    scratch: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # -1 over unit ids, see _positions
    max_link: int = 0
    max_change: int = 0
    max_unit: int = 0
    built: bool = False


class GenealogyIndex:
    """Upward adjacency of one database, kept current from the link table and its change log."""

    def __init__(self, *, rebuild_after: int = 500_000) -> None:
        self.rebuild_after = rebuild_after
        self._lock = threading.Lock()
        self._state = _State()

    # -- keeping current ------------------------------------------------------------------------------

    def _marks(self, conn: Connection) -> tuple[int, int, int]:
        row = conn.exec_driver_sql(
            "SELECT (SELECT COALESCE(MAX(id), 0) FROM link), (SELECT COALESCE(MAX(seq), 0) FROM link_change), "
            "(SELECT COALESCE(MAX(id), 0) FROM unit)"
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    def _build(self, conn: Connection, marks: tuple[int, int, int]) -> None:
        max_link, max_change, max_unit = marks
        count = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM link WHERE id <= {max_link}").scalar_one())
        child = np.empty(count, dtype=np.int64)
        parent = np.empty(count, dtype=np.int64)
        start = np.empty(count, dtype=np.int64)
        end = np.empty(count, dtype=np.int64)
        ids = np.empty(count, dtype=np.int64)
        filled = 0
        # Streamed (a server-side cursor on PostgreSQL): psycopg would otherwise hold the whole result in
        # libpq's memory before the first chunk, several times the arrays it fills.
        result = conn.exec_driver_sql(
            f"SELECT child_id, parent_id, valid_from, valid_to, id FROM link WHERE id <= {max_link}",
            execution_options={"stream_results": True, "max_row_buffer": _CHUNK},
        )
        while True:
            rows = result.fetchmany(_CHUNK)
            if not rows:
                break
            n = len(rows)
            block = np.fromiter(chain.from_iterable(rows), dtype=np.int64, count=n * 5).reshape(n, 5)
            child[filled : filled + n] = block[:, 0]
            parent[filled : filled + n] = block[:, 1]
            start[filled : filled + n] = block[:, 2]
            end[filled : filled + n] = block[:, 3]
            ids[filled : filled + n] = block[:, 4]
            filled += n
        # Read in table order (a sequential scan), then sort by child here: far cheaper than ORDER BY.
        by_child = np.argsort(child[:filled], kind="stable")
        # One column at a time, so that only one old column is alive beside its sorted copy.
        child = child[by_child]
        parent = parent[by_child]
        start = start[by_child]
        end = end[by_child]
        ids = ids[by_child]
        del by_child
        size = max(max_unit, int(child.max()) if filled else 0) + 2
        offsets = np.zeros(size + 1, dtype=np.int64)
        np.add.at(offsets, child + 1, 1)
        np.cumsum(offsets, out=offsets)
        order = np.argsort(ids, kind="stable")
        vin_mask = np.zeros(max_unit + 1, dtype=bool)
        vin_sql = f"SELECT id, key, vin, market FROM unit WHERE vin IS NOT NULL AND id <= {max_unit}"
        facts = {int(i): (k, v, m) for i, k, v, m in conn.exec_driver_sql(vin_sql)}
        vin_mask[list(facts)] = True
        vehicles = VehicleTable.of(facts)
        # Children linked to one parent more than once (the same cell lot named twice as an input): the
        # only units whose climb can yield the same row twice, so the only ones the walk must dedupe.
        several = np.repeat(np.diff(offsets) >= 2, np.diff(offsets))  # rows of children with 2+ links
        few_child, few_parent = child[several], parent[several]
        with np.errstate(over="ignore"):
            pair = few_child.view(np.uint64) * _MIX[0] + few_parent.view(np.uint64) * _MIX[1]
        ordered = np.sort(pair)
        repeated = ordered[1:][ordered[1:] == ordered[:-1]]
        multi = np.unique(few_child[np.isin(pair, repeated)]) if len(repeated) else np.zeros(0, dtype=np.int64)
        self._state = _State(
            offsets=offsets, parent=parent, start=start, end=end, link_ids=ids[order], link_pos=order,
            vin_mask=vin_mask, vehicles=vehicles, multi_linked=multi, max_link=max_link, max_change=max_change,
            max_unit=max_unit, built=True,
        )

    def refresh(self, conn: Connection) -> None:
        """Bring the index up to what ``conn`` sees (builds it on first use)."""
        marks = self._marks(conn)
        state = self._state
        if not state.built:
            self._build(conn, marks)
            return
        max_link, max_change, max_unit = marks
        if max_change > state.max_change:
            log = conn.exec_driver_sql(
                f"SELECT link_id, unit_id FROM link_change WHERE seq > {state.max_change} AND seq <= {max_change}"
            ).all()
            changed = sorted({int(link) for link, _unit in log if link is not None})
            self._forget(changed)
            self._refresh_markets(conn, {int(unit) for _link, unit in log if unit is not None})
            # Re-read what still exists of the changed links (closed links come back with their end).
            self._add_links(conn, f"id IN ({', '.join(map(str, changed))})" if changed else "1 = 0")
            state.max_change = max_change
        if max_link > state.max_link:
            self._add_links(conn, f"id > {state.max_link} AND id <= {max_link}")
            state.max_link = max_link
        if max_unit > state.max_unit:
            grown = np.zeros(max_unit + 1, dtype=bool)
            grown[: len(state.vin_mask)] = state.vin_mask
            vin_ids = [
                int(r[0])
                for r in conn.exec_driver_sql(
                    f"SELECT id FROM unit WHERE id > {state.max_unit} AND id <= {max_unit} AND vin IS NOT NULL"
                )
            ]
            grown[vin_ids] = True
            state.vin_mask = grown
            self._refresh_markets(conn, set(vin_ids))
            state.max_unit = max_unit
        if state.delta_size > self.rebuild_after:
            self._build(conn, marks)

    def _refresh_markets(self, conn: Connection, units: set[int]) -> None:
        """Re-read key, VIN and market of vehicles that are new or whose market changed."""
        state = self._state
        for unit in units:
            state.holders.pop(unit, None)
        wanted = sorted(u for u in units if u < len(state.vin_mask) and state.vin_mask[u])
        facts: dict[int, tuple[str, str, str | None]] = {}
        for start in range(0, len(wanted), 900):
            part = ", ".join(map(str, wanted[start : start + 900]))
            for i, k, v, m in conn.exec_driver_sql(f"SELECT id, key, vin, market FROM unit WHERE id IN ({part})"):
                facts[int(i)] = (k, v, m)
        state.vehicles = state.vehicles.merged(facts)

    def suppliers(
        self,
        conn: Connection,
        units: I64,
        mapping: Mapping[str, str],
        name_of: Callable[[str], str | None],
    ) -> tuple[npt.NDArray[np.int16], list[str], Mapping[int, str]]:
        """The supplier party of each of ``units`` (by its key's GS1 company prefix) as codes into a list
        of names (-1: none), and a mapping that holds the units' keys.

        Cached as an array over unit ids: a unit's key never changes, so only units not seen before are
        read, and a recall over thousands of units looks its suppliers up in one indexing operation.
        ``mapping`` is the company-prefix table; when it changes, the suppliers are worked out again."""
        with self._lock:  # the caches are shared by the server's threads
            state = self._state
            signature = hash(tuple(sorted(mapping.items())))
            if signature != state.supplier_signature or len(state.unit_keys) > 1_000_000:
                state.supplier_code = np.full(len(state.supplier_code), -2, dtype=np.int16)
                state.supplier_names, state.unit_keys = [], {}
                state.supplier_signature = signature
            top = int(units.max()) + 1 if len(units) else 0
            if top > len(state.supplier_code):
                grown = np.full(max(top, state.max_unit + 1), -2, dtype=np.int16)
                grown[: len(state.supplier_code)] = state.supplier_code
                state.supplier_code = grown
            codes = state.supplier_code[units]
            missing = units[codes == -2].tolist()
            if missing:
                position = {name: i for i, name in enumerate(state.supplier_names)}
                for begin in range(0, len(missing), 900):
                    part = ", ".join(map(str, missing[begin : begin + 900]))
                    for unit, key in conn.exec_driver_sql(f"SELECT id, key FROM unit WHERE id IN ({part})"):
                        name = name_of(key)
                        if name is not None and name not in position:
                            position[name] = len(state.supplier_names)
                            state.supplier_names.append(name)
                        state.supplier_code[int(unit)] = -1 if name is None else position[name]
                        state.unit_keys[int(unit)] = key
                codes = state.supplier_code[units]
            return codes, state.supplier_names, state.unit_keys

    def holders(self, conn: Connection, units: list[int]) -> dict[int, tuple[str, str | None]]:
        """Key and market of units that are not vehicles (cached until their market changes)."""
        with self._lock:
            state = self._state
            if len(state.holders) > 200_000:
                state.holders = {}
            known = state.holders
            missing = [u for u in units if u not in known]
            for begin in range(0, len(missing), 900):
                part = ", ".join(map(str, missing[begin : begin + 900]))
                for unit, key, market in conn.exec_driver_sql(f"SELECT id, key, market FROM unit WHERE id IN ({part})"):
                    known[int(unit)] = (key, market)
            return {u: known[u] for u in units if u in known}

    def vehicle_table(self) -> VehicleTable:
        """Key, VIN and market of every vehicle unit, as columns (read-only)."""
        return self._state.vehicles

    def _forget(self, link_ids: list[int]) -> None:
        state = self._state
        if not link_ids:
            return
        wanted = np.array(sorted(set(link_ids)), dtype=np.int64)
        where = np.searchsorted(state.link_ids, wanted)
        inside = where < len(state.link_ids)
        hit = np.zeros(len(wanted), dtype=bool)
        hit[inside] = state.link_ids[where[inside]] == wanted[inside]
        positions = state.link_pos[where[hit]]
        state.end[positions] = state.start[positions]  # an empty span: the link no longer counts
        gone = set(link_ids)
        for child, edges in list(state.delta.items()):
            kept = [e for e in edges if e[3] not in gone]
            state.delta_size -= len(edges) - len(kept)
            state.delta[child] = kept

    def _add_links(self, conn: Connection, where: str) -> None:
        state = self._state
        for child, parent, start, end, link_id in conn.exec_driver_sql(
            f"SELECT child_id, parent_id, valid_from, valid_to, id FROM link WHERE {where}"
        ):
            state.delta[int(child)].append((int(parent), int(start), int(end), int(link_id)))
            state.delta_size += 1

    # -- asking ---------------------------------------------------------------------------------------

    def top_of_chain(self, conn: Connection, target: int, at: int | None = None) -> Climb:
        """The upward walk from ``target`` (only spans holding ``at`` when given), which of its units are
        vehicles, and for the units that may be at the top of the chain (units without a VIN that sat in
        no parent at the last instant of one of their rows, or at ``at`` when given) where their rows are
        and their up-links. All from one look at the index, so they agree."""
        with self._lock:
            self.refresh(conn)
            nodes, lo, hi, via, held = self._walk(target, at)
            vehicle = self.vehicles(nodes)
            free = ~(held | vehicle)
            if not free.any():  # the usual case for a serialised part: only vehicles answer
                none = np.zeros(0, dtype=np.int64)
                return Climb(nodes, lo, hi, via, vehicle, none, none, none, none, none)
            loose = np.unique(nodes[free])
            return Climb(nodes, lo, hi, via, vehicle, loose, self._positions(nodes, loose), *self._up_links(loose))

    def _positions(self, nodes: I64, units: I64) -> I64:
        """Position in ``units`` of each of ``nodes``' unit, -1 for others: one look-up per node in an array
        over unit ids (kept, all -1 between calls) rather than a search per node."""
        state = self._state
        size = int(nodes.max()) + 1
        if len(state.scratch) < size:
            state.scratch = np.full(max(size, state.max_unit + 1), -1, dtype=np.int64)
        state.scratch[units] = np.arange(len(units))
        out = state.scratch[nodes]
        state.scratch[units] = -1
        return out

    def _up_links(self, units: I64) -> tuple[I64, I64, I64]:
        """(position in ``units``, start, end) of every link in which one of ``units`` is the child (a
        removed link comes out empty)."""
        state = self._state
        known = units < len(state.offsets) - 1
        safe = np.where(known, units, 0)
        base = np.where(known, state.offsets[safe], 0)
        counts = np.where(known, state.offsets[safe + 1] - base, 0)
        index = np.arange(int(counts.sum())) + np.repeat(base - (np.cumsum(counts) - counts), counts)
        owner, start, end = np.repeat(np.arange(len(units)), counts), state.start[index], state.end[index]
        added = [(i, s, e) for i, u in enumerate(units.tolist()) for _p, s, e, _l in state.delta.get(u, ())]
        if not added:
            return owner, start, end
        block = np.array(added, dtype=np.int64)
        return np.r_[owner, block[:, 0]], np.r_[start, block[:, 1]], np.r_[end, block[:, 2]]

    def _walk(self, target: int, at: int | None) -> tuple[I64, I64, I64, I64, npt.NDArray[np.bool_]]:
        """The upward walk as arrays (node, start, end, via, held): ``held`` tells whether the unit itself
        sat in a parent at ``at``, or without ``at`` at the row's last instant (``end - 1``): a unit that
        sat in none then ended that holding at the top of its chain, so it may answer (see
        :func:`roadpass.trace.genealogy.holder_spans`); one that did cannot, for that row."""
        state = self._state
        offsets, parent, start, end = state.offsets, state.parent, state.start, state.end
        limit = len(offsets) - 1
        nodes = np.array([target], dtype=np.int64)
        lo = np.array([BEGINNING], dtype=np.int64)
        hi = np.array([FOREVER], dtype=np.int64)
        found: list[tuple[I64, I64, I64, I64]] = []  # per level: columns (node, start, end, via)
        held: list[npt.NDArray[np.bool_]] = []
        came_from = np.zeros(0, dtype=np.int64)  # for each row of the last level, its frontier position
        for _depth in range(MAX_DEPTH):
            if len(nodes) == 0:
                break
            if int(nodes.max()) < limit:
                base = offsets[nodes]
                counts = offsets[nodes + 1] - base
            else:  # units newer than the build: only their links in the delta
                known = nodes < limit
                safe = np.where(known, nodes, 0)
                base = np.where(known, offsets[safe], 0)
                counts = np.where(known, offsets[safe + 1] - base, 0)
            owner = np.repeat(np.arange(len(nodes)), counts)
            index = np.arange(int(counts.sum())) + np.repeat(base - (np.cumsum(counts) - counts), counts)
            e_start, e_end = start[index], end[index]
            new_lo = np.maximum(lo[owner], e_start)
            new_hi = np.minimum(hi[owner], e_end)
            keep = new_lo < new_hi
            if at is not None:
                keep &= (e_start <= at) & (e_end > at)
            owner = owner[keep]
            columns = (parent[index[keep]], new_lo[keep], new_hi[keep], nodes[owner])
            extra = _delta_edges(state.delta, nodes, lo, hi, at) if state.delta else None
            if extra is not None:
                rows, owners = extra
                columns = (
                    np.r_[columns[0], rows[:, 0]], np.r_[columns[1], rows[:, 1]], np.r_[columns[2], rows[:, 2]],
                    np.r_[columns[3], rows[:, 3]],
                )
                owner = np.r_[owner, owners]
            if found:  # this level's frontier came from the previous level's rows: which of them sit in a parent
                moment = at if at is not None else (hi - 1)[owner]  # the instant asked, or each row's last
                live = (columns[1] <= moment) & (columns[2] > moment)
                sitting = np.zeros(len(nodes), dtype=bool)
                sitting[owner[live]] = True
                held.append(sitting[came_from])
            # From a frontier of distinct (unit, span), rows repeat only through a unit linked twice to one
            # parent, or through links added since the build: only then is the level deduped.
            if extra is not None or _any_in(nodes, state.multi_linked):
                kept = _first_of_each(columns)
                if kept is not None:
                    columns = (columns[0][kept], columns[1][kept], columns[2][kept], columns[3][kept])
            found.append(columns)
            # The next level climbs from each (unit, span) once, whichever unit below it was reached from
            # (a pack reached through its several modules made from one lot).
            if len(nodes) == 1:
                nodes, lo, hi = columns[0], columns[1], columns[2]
                came_from = np.arange(len(nodes))
            else:
                picked, came_from = _groups(columns[:3])
                nodes, lo, hi = columns[0][picked], columns[1][picked], columns[2][picked]
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty, np.zeros(0, dtype=bool)
        held.extend(np.zeros(len(level[0]), dtype=bool) for level in found[len(held) :])
        node, low, high, via = (np.concatenate([level[c] for level in found]) for c in range(4))
        return node, low, high, via, np.concatenate(held)

    def vehicles(self, nodes: I64) -> npt.NDArray[np.bool_]:
        """Which of ``nodes`` carry a VIN."""
        mask = self._state.vin_mask
        inside = nodes < len(mask)
        out = np.zeros(len(nodes), dtype=bool)
        out[inside] = mask[nodes[inside]]
        return out


# Odd 64-bit multipliers: a row's (node, start, end, via) folds into one integer, so rows are told apart
# with a one-dimensional unique (a radix-friendly sort) instead of a lexicographic sort of 4-wide rows.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64)


def _fold(columns: tuple[I64, ...]) -> npt.NDArray[np.uint64]:
    """One 64-bit number per row of ``columns``."""
    with np.errstate(over="ignore"):
        folded: npt.NDArray[np.uint64] = columns[0].view(np.uint64) * _MIX[0]
        for c in range(1, len(columns)):
            folded += columns[c].view(np.uint64) * _MIX[c]
    return folded


def _any_in(values: I64, ordered: I64) -> bool:
    """Whether any of ``values`` is in the sorted array ``ordered``."""
    if len(ordered) == 0 or len(values) == 0:
        return False
    where = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return bool((ordered[where] == values).any())


def _groups(columns: tuple[I64, ...]) -> tuple[I64, I64]:
    """One row of each group of equal rows (positions, in no particular order) and, for every row, the
    position of its group's row in that list."""
    if len(columns[0]) < 2:
        return np.arange(len(columns[0])), np.zeros(len(columns[0]), dtype=np.int64)
    folded = _fold(columns)
    order = np.argsort(folded)
    ordered = folded[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return order[starts], inverse


def _first_of_each(columns: tuple[I64, ...]) -> I64 | None:
    """Positions (in order) of the first of each group of equal rows; None when no row repeats."""
    if len(columns[0]) < 2:
        return None
    folded = _fold(columns)
    order = np.argsort(folded, kind="stable")
    ordered = folded[order]
    repeat = ordered[1:] == ordered[:-1]
    if not repeat.any():
        return None
    return np.sort(order[np.r_[True, ~repeat]])


def _delta_edges(
    delta: dict[int, list[tuple[int, int, int, int]]], nodes: I64, lo: I64, hi: I64, at: int | None
) -> tuple[I64, I64] | None:
    """Rows (parent, start, end, via) from the links added since the build, with the frontier row each
    climbed from."""
    out: list[tuple[int, int, int, int]] = []
    owners: list[int] = []
    for i, node in enumerate(nodes.tolist()):
        edges = delta.get(node)
        if not edges:
            continue
        low, high = int(lo[i]), int(hi[i])
        for parent, start, end, _link in edges:
            if at is not None and not (start <= at < end):
                continue
            s, e = max(low, start), min(high, end)
            if s < e:
                out.append((parent, s, e, node))
                owners.append(i)
    if not out:
        return None
    return np.array(out, dtype=np.int64), np.array(owners, dtype=np.int64)
