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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from roadpass.trace.timeutil import FOREVER

__all__ = ["GenealogyIndex", "sizes"]

BEGINNING = -FOREVER
MAX_DEPTH = 32
_CHUNK = 200_000

I64 = npt.NDArray[np.int64]


@dataclass(slots=True)
class _State:
    offsets: I64 = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    parent: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    start: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    end: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    link_ids: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # sorted copy for patching
    link_pos: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # position of link_ids[i]
    delta: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=lambda: defaultdict(list))
    delta_size: int = 0
    vin_mask: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=bool))
    vehicles: dict[int, tuple[str, str, str | None]] = field(default_factory=dict)  # id -> key, VIN, market
    supplier_names: dict[int, str | None] = field(default_factory=dict)
    unit_keys: dict[int, str] = field(default_factory=dict)
    supplier_signature: int = 0
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
        result = conn.exec_driver_sql(
            f"SELECT child_id, parent_id, valid_from, valid_to, id FROM link WHERE id <= {max_link}"
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
        child, parent, start, end, ids = (
            child[by_child], parent[by_child], start[by_child], end[by_child], ids[by_child]
        )
        size = max(max_unit, int(child.max()) if filled else 0) + 2
        offsets = np.zeros(size + 1, dtype=np.int64)
        np.add.at(offsets, child + 1, 1)
        np.cumsum(offsets, out=offsets)
        order = np.argsort(ids, kind="stable")
        vin_mask = np.zeros(max_unit + 1, dtype=bool)
        vin_sql = f"SELECT id, key, vin, market FROM unit WHERE vin IS NOT NULL AND id <= {max_unit}"
        vehicles = {int(i): (k, v, m) for i, k, v, m in conn.exec_driver_sql(vin_sql)}
        vin_mask[list(vehicles)] = True
        self._state = _State(
            offsets=offsets, parent=parent, start=start, end=end, link_ids=ids[order], link_pos=order,
            vin_mask=vin_mask, vehicles=vehicles, max_link=max_link, max_change=max_change, max_unit=max_unit,
            built=True,
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
        wanted = sorted(u for u in units if u < len(state.vin_mask) and state.vin_mask[u])
        for start in range(0, len(wanted), 900):
            part = ", ".join(map(str, wanted[start : start + 900]))
            for i, k, v, m in conn.exec_driver_sql(f"SELECT id, key, vin, market FROM unit WHERE id IN ({part})"):
                state.vehicles[int(i)] = (k, v, m)

    def suppliers_of(
        self,
        conn: Connection,
        units: set[int],
        mapping: Mapping[str, str],
        name_of: Callable[[str], str | None],
    ) -> dict[int, str | None]:
        """The supplier party of each unit (by its key's GS1 company prefix), cached: a unit's key never
        changes, so only units not seen before are read. ``mapping`` is the company-prefix table."""
        state = self._state
        signature = hash(tuple(sorted(mapping.items())))
        if signature != state.supplier_signature:
            state.supplier_names.clear()
            state.supplier_signature = signature
        missing = sorted(u for u in units if u not in state.supplier_names)
        for start in range(0, len(missing), 900):
            part = ", ".join(map(str, missing[start : start + 900]))
            for unit, key in conn.exec_driver_sql(f"SELECT id, key FROM unit WHERE id IN ({part})"):
                state.unit_keys[int(unit)] = key
                state.supplier_names[int(unit)] = name_of(key)
        if len(state.supplier_names) > 1_000_000:
            state.supplier_names.clear()
            state.unit_keys.clear()
        return {u: state.supplier_names.get(u) for u in units}

    def unit_keys(self, units: Iterable[int]) -> dict[int, str]:
        """The keys of ``units`` this index has read (vehicles, units seen through :meth:`suppliers_of`);
        "" for the others."""
        vehicles, keys = self._state.vehicles, self._state.unit_keys
        return {u: facts[0] if (facts := vehicles.get(u)) is not None else keys.get(u, "") for u in units}

    def vehicle_facts(self) -> Mapping[int, tuple[str, str, str | None]]:
        """Key, VIN and market of every vehicle unit, by unit id (read-only view)."""
        return self._state.vehicles

    def vehicle(self, unit: int) -> tuple[str, str, str | None] | None:
        """Key, VIN and market of a vehicle unit (None for other units)."""
        return self._state.vehicles.get(unit)

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

    def walk_up(self, conn: Connection, target: int, at: int | None = None) -> tuple[I64, I64, I64, I64]:
        """Every unit above ``target``: arrays (node, start, end, via) — the unit held the target during
        ``[start, end)`` and was reached from ``via``; only spans holding ``at`` when given. Each
        (node, span, via) appears once."""
        with self._lock:
            self.refresh(conn)
            return self._walk(target, at)

    def _walk(self, target: int, at: int | None) -> tuple[I64, I64, I64, I64]:
        state = self._state
        offsets, parent, start, end = state.offsets, state.parent, state.start, state.end
        limit = len(offsets) - 1
        nodes = np.array([target], dtype=np.int64)
        lo = np.array([BEGINNING], dtype=np.int64)
        hi = np.array([FOREVER], dtype=np.int64)
        found: list[I64] = []
        for _depth in range(MAX_DEPTH):
            if len(nodes) == 0:
                break
            known = nodes < limit
            safe = np.where(known, nodes, 0)
            base = np.where(known, offsets[safe], 0)
            counts = np.where(known, offsets[safe + 1] - base, 0)
            owner = np.repeat(np.arange(len(nodes)), counts)
            first = np.cumsum(counts) - counts
            index = np.arange(int(counts.sum())) - np.repeat(first, counts) + np.repeat(base, counts)
            e_start, e_end = start[index], end[index]
            new_lo = np.maximum(lo[owner], e_start)
            new_hi = np.minimum(hi[owner], e_end)
            keep = new_lo < new_hi
            if at is not None:
                keep &= (e_start <= at) & (e_end > at)
            level = [np.stack([parent[index][keep], new_lo[keep], new_hi[keep], nodes[owner[keep]]], axis=1)]
            if state.delta:
                extra = _delta_edges(state.delta, nodes, lo, hi, at)
                if extra is not None:
                    level.append(extra)
            rows = _distinct(np.concatenate(level) if len(level) > 1 else level[0])
            found.append(rows)
            nodes, lo, hi = rows[:, 0], rows[:, 1], rows[:, 2]
        if not found:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty, empty
        rows = np.concatenate(found)
        return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]

    def vehicles(self, nodes: I64) -> npt.NDArray[np.bool_]:
        """Which of ``nodes`` carry a VIN."""
        mask = self._state.vin_mask
        inside = nodes < len(mask)
        out = np.zeros(len(nodes), dtype=bool)
        out[inside] = mask[nodes[inside]]
        return out

    def held_at(self, nodes: I64, instant: int) -> npt.NDArray[np.bool_]:
        """For each of ``nodes``: is some link holding it as a child at ``instant``?"""
        state = self._state
        offsets = state.offsets
        limit = len(offsets) - 1
        known = nodes < limit
        safe = np.where(known, nodes, 0)
        base = np.where(known, offsets[safe], 0)
        counts = np.where(known, offsets[safe + 1] - base, 0)
        owner = np.repeat(np.arange(len(nodes)), counts)
        first = np.cumsum(counts) - counts
        index = np.arange(int(counts.sum())) - np.repeat(first, counts) + np.repeat(base, counts)
        live = (state.start[index] <= instant) & (state.end[index] > instant)
        held = np.bincount(owner[live], minlength=len(nodes)) > 0
        if state.delta:
            for i, node in enumerate(nodes.tolist()):
                if not held[i] and any(s <= instant < e for _p, s, e, _l in state.delta.get(node, ())):
                    held[i] = True
        return held


# Odd 64-bit multipliers: a row's (node, start, end, via) folds into one integer, so rows are told apart
# with a one-dimensional unique (a radix-friendly sort) instead of a lexicographic sort of 4-wide rows.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64)


def _distinct(rows: I64) -> I64:
    """``rows`` without repeats of the same (node, start, end, via)."""
    if len(rows) < 2:
        return rows
    with np.errstate(over="ignore"):
        folded = (rows.view(np.uint64) * _MIX).sum(axis=1, dtype=np.uint64)
    _keys, first = np.unique(folded, return_index=True)
    return rows if len(first) == len(rows) else rows[np.sort(first)]


def _delta_edges(
    delta: dict[int, list[tuple[int, int, int, int]]], nodes: I64, lo: I64, hi: I64, at: int | None
) -> I64 | None:
    out: list[tuple[int, int, int, int]] = []
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
    if not out:
        return None
    return np.array(out, dtype=np.int64)


def sizes(index: GenealogyIndex) -> dict[str, Any]:
    """How big the index is (for status pages and benchmarks)."""
    state = index._state
    return {"links": len(state.parent), "delta": state.delta_size, "units": int(len(state.offsets) - 1)}
