"""Genealogy reads: as-built trees as recursive SQL over the link table (one statement over its covering
index by parent, never N+1 round trips), and where-used (recall) sets from the in-memory genealogy index."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

from roadpass.store.genealogy_index import GenealogyIndex, VehicleTable
from roadpass.trace.genealogy import (
    AsBuiltNode,
    LinkKind,
    Span,
    WhereUsedHit,
    WhereUsedResult,
    holder_spans,
    normalise,
    ranked,
    supplier_of,
)
from roadpass.trace.timeutil import FOREVER, NOW

__all__ = ["as_built", "resolve_unit", "where_used_indexed"]

I64 = npt.NDArray[np.int64]

MAX_DEPTH = 32
BEGINNING = -FOREVER

_AS_BUILT = text(
    """
    WITH RECURSIVE tree(node, parent, kind, since, until, depth) AS (
        SELECT CAST(:root AS BIGINT), CAST(NULL AS BIGINT), CAST(NULL AS SMALLINT), CAST(NULL AS BIGINT),
               CAST(NULL AS BIGINT), 0
        UNION ALL
        SELECT l.child_id, l.parent_id, l.kind, l.valid_from, l.valid_to, tree.depth + 1
        FROM tree JOIN link l ON l.parent_id = tree.node
        WHERE l.valid_to > :at AND l.valid_from <= :at AND tree.depth < :max_depth
    )
    SELECT tree.node, tree.parent, tree.kind, tree.since, tree.until, u.key, u.vin
    FROM tree JOIN unit u ON u.id = tree.node
    ORDER BY tree.depth, tree.kind, u.key
    """
)

def resolve_unit(conn: Connection, key: str | None, vin: str | None) -> tuple[int, str, str | None] | None:
    """Find a unit by canonical key or by VIN: (id, key, vin)."""
    if vin is not None:
        row = conn.execute(text("SELECT id, key, vin FROM unit WHERE vin = :v ORDER BY id LIMIT 1"), {"v": vin}).first()
        if row is not None:
            return int(row[0]), row[1], row[2]
    if key is not None:
        row = conn.execute(text("SELECT id, key, vin FROM unit WHERE key = :k"), {"k": key}).first()
        if row is not None:
            return int(row[0]), row[1], row[2]
    return None


def as_built(conn: Connection, root: int, at: int | None = None) -> AsBuiltNode | None:
    """The tree under ``root`` at instant ``at`` (default: now), children ordered by kind then key."""
    instant = NOW if at is None else at
    rows = conn.execute(_AS_BUILT, {"root": root, "at": instant, "max_depth": MAX_DEPTH}).all()
    if not rows:
        return None
    nodes: dict[int, AsBuiltNode] = {}
    top: AsBuiltNode | None = None
    for node, parent, kind, since, until, key, vin in rows:
        item = AsBuiltNode(
            key=key,
            kind=LinkKind(kind) if kind is not None else None,
            since=since,
            until=None if until is None or until == FOREVER else until,
            vin=vin,
        )
        if parent is None:
            top = item
        else:
            holder = nodes.get(int(parent))
            if holder is not None:
                holder.children.append(item)
        nodes.setdefault(int(node), item)
    return top


def where_used_indexed(
    conn: Connection,
    index: GenealogyIndex,
    target: int,
    at: int | None = None,
    *,
    suppliers: Mapping[str, str] | None = None,
) -> WhereUsedResult:
    """Where-used answered from the in-memory :class:`GenealogyIndex` (the property test holds it to the
    recursive SQL over the link table: same rules, same result).

    The answer is worked out on arrays: the walk, which units top it, their order (by VIN through the
    index's fixed-width VIN column), the counts and the roll-ups. Only the hit tuples are left to build
    on first access."""
    nodes, lo, hi, via = _top_holders(conn, index, target, at)
    if len(nodes) == 0:
        return WhereUsedResult.empty()

    table = index.vehicle_table()
    units, row_unit = np.unique(nodes, return_inverse=True)
    vehicle_hits, by_vin, vehicle_slots, other_order, others = _hit_order(conn, index, table, units)
    hit_order = np.concatenate([vehicle_hits[by_vin], np.array(other_order, dtype=np.int64)])
    rank = np.empty(len(units), dtype=np.int64)
    rank[hit_order] = np.arange(len(units))
    row_hit = rank[row_unit]
    order = np.lexsort((lo, row_hit))
    row_hit, lo, hi, via = row_hit[order], lo[order], hi[order], via[order]
    first = np.flatnonzero(np.r_[True, row_hit[1:] != row_hit[:-1]])
    n_vehicles = len(vehicle_hits)
    hit_slots = vehicle_slots[by_vin]

    # Counts and roll-ups on the arrays. Market codes are copied now (the table follows later market
    # changes); its list of names only ever grows.
    vehicle_rows = row_hit < n_vehicles
    open_hits = np.maximum.reduceat((hi == FOREVER).astype(np.int8), first)[:n_vehicles]
    market_codes = table.market_code[hit_slots]
    market_counts = _per_market(table, market_codes)
    below, row_below = np.unique(via, return_inverse=True)
    below_code, names, unit_keys = index.suppliers(
        conn, below, suppliers or {}, lambda key: supplier_of(key, suppliers)
    )
    names = list(names)
    row_code = below_code[row_below].astype(np.int64)
    supplier_counts = _per_supplier(row_hit[vehicle_rows], row_code[vehicle_rows], n_vehicles, names)

    vins = table.vins[hit_slots].tolist()
    vehicle_keys = table.keys[hit_slots]  # copied now: the table's columns follow later market changes

    def other(i: int) -> tuple[str, str | None]:  # (key, market) of the i-th holder that is not a vehicle
        return others[int(units[other_order[i]])]

    def keys() -> list[str]:
        return [*vehicle_keys.tolist(), *(other(i)[0] for i in range(len(other_order)))]

    @functools.cache
    def below_keys() -> list[str]:
        return [unit_keys.get(u, "") for u in below.tolist()]

    def build(start: int, stop: int) -> list[WhereUsedHit]:
        # Hits [start, stop) are rows [first[start], first[stop]) of the sorted walk; vehicles come first.
        if stop <= start:
            return []
        held = [other(i) for i in range(max(start, n_vehicles) - n_vehicles, stop - n_vehicles)]
        rows = slice(int(first[start]), int(first[stop]) if stop < len(first) else len(lo))
        return _hits(
            [*vehicle_keys[start:stop].tolist(), *(k for k, _m in held)],
            [*vins[start:stop], *([None] * len(held))],
            [*(table.market_names[c] for c in market_codes[start:stop].tolist()), *(m for _k, m in held)],
            first[start:stop] - first[start], lo[rows], hi[rows], row_code[rows], row_below[rows], below_keys(), names,
        )

    return WhereUsedResult(
        count=len(units),
        vins=vins,
        vehicles_now=int(np.count_nonzero(open_hits)),
        by_market=ranked(market_counts),
        by_supplier=ranked(supplier_counts),
        build=build,
        keys=keys,
    )


def _top_holders(conn: Connection, index: GenealogyIndex, target: int, at: int | None) -> tuple[I64, I64, I64, I64]:
    """The rows of the upward walk whose unit answers: vehicles, and the other units at the top of the
    chain for the spans :func:`holder_spans` gives (a removed pack at a workshop, loose stock, a unit
    that held the target and let go of it), each row cut to those spans."""
    climb = index.top_of_chain(conn, target, at)
    nodes, lo, hi, via = climb.node, climb.start, climb.end, climb.via
    keep = np.flatnonzero(climb.vehicle)
    if len(climb.loose) == 0:
        return nodes[keep], lo[keep], hi[keep], via[keep]
    rows = np.flatnonzero(climb.slot >= 0)  # every row of those units, held or not
    unit, row_lo, row_hi = climb.slot[rows], lo[rows], hi[rows]
    # Most such units (a removed pack, a loose module) hold the target over one stretch, the same span on
    # every row: their piece is worked out on the arrays. It ends where the stretch ends (without `at`:
    # the unit sat in no parent just before) or at the first parent link after `at`, and starts at the
    # end of the last parent link before that, or where the stretch starts — what holder_spans gives.
    first, last = np.empty(len(climb.loose), dtype=np.int64), np.empty(len(climb.loose), dtype=np.int64)
    first[unit], last[unit] = row_lo, row_hi  # one row's span per unit; the others' compared with it
    one = np.ones(len(climb.loose), dtype=bool)
    one[unit[(row_lo != first[unit]) | (row_hi != last[unit])]] = False
    owner, start, end = climb.link_owner, climb.link_start, climb.link_end
    real = start < end
    before = real & (end < last[owner] if at is None else end <= at)
    np.maximum.at(first, owner[before], end[before])
    if at is not None:
        after = real & (start > at)
        np.minimum.at(last, owner[after], start[after])
    fast = one[unit]
    mine = rows[fast]
    # The others (a unit that held the target over several stretches) take the rule itself, one by one.
    extra: list[tuple[int, int, int, int]] = []
    for u in np.flatnonzero(~one).tolist():
        held = [(int(lo[r]), int(hi[r]), int(via[r])) for r in rows[unit == u].tolist()]
        holding = normalise(Span(a, b) for a, b, _below in held)
        parents = normalise(Span(a, b) for a, b in zip(start[owner == u].tolist(), end[owner == u].tolist(),
                                                        strict=True))
        key = int(climb.loose[u])
        for piece in holder_spans(holding, parents, at):
            extra.extend(
                (key, max(a, piece.start), min(b, piece.end), below)
                for a, b, below in held if a < piece.end and b > piece.start
            )
    cut = np.array(extra, dtype=np.int64).reshape(-1, 4).T
    return (
        np.concatenate((nodes[keep], nodes[mine], cut[0])),
        np.concatenate((lo[keep], first[unit[fast]], cut[1])),
        np.concatenate((hi[keep], last[unit[fast]], cut[2])),
        np.concatenate((via[keep], via[mine], cut[3])),
    )


def _hit_order(
    conn: Connection, index: GenealogyIndex, table: VehicleTable, units: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], list[int],
           dict[int, tuple[str, str | None]]]:
    """Hits in answer order: vehicles by VIN (then key), then other holders by key. Returns the positions
    of the vehicle hits among ``units``, their order by VIN, their slots in the vehicle table, the order of
    the other holders' positions, and those holders' (key, market)."""
    slots = table.slots(units)
    vehicle_hits = np.flatnonzero(slots >= 0)
    vehicle_slots = slots[vehicle_hits]
    vin_text = table.vin_text[vehicle_slots]
    by_vin = np.argsort(vin_text, kind="stable")
    ordered_vins = vin_text[by_vin]
    if len(ordered_vins) > 1 and (ordered_vins[1:] == ordered_vins[:-1]).any():  # one VIN on two units
        by_vin = np.array(
            sorted(by_vin.tolist(), key=lambda h: (table.vins[vehicle_slots[h]], table.keys[vehicle_slots[h]])),
            dtype=np.int64,
        )
    other_hits = np.flatnonzero(slots < 0)
    others = index.holders(conn, units[other_hits].tolist())
    other_order = sorted(other_hits.tolist(), key=lambda h: others[int(units[h])][0])
    return vehicle_hits, by_vin, vehicle_slots, other_order, others


def _per_market(table: VehicleTable, market_codes: npt.NDArray[np.int64]) -> dict[str, int]:
    """Vehicles per market ("unknown" for none) from the hits' market codes."""
    totals = np.bincount(market_codes, minlength=len(table.market_names)).tolist()
    return {m or "unknown": n for m, n in zip(table.market_names, totals, strict=True) if n}


def _per_supplier(
    row_hit: npt.NDArray[np.int64], row_code: npt.NDArray[np.int64], hits: int, names: list[str]
) -> dict[str, int]:
    """Vehicles per supplier: each hit counts once for every supplier among its rows (``row_code``: a
    position in ``names``, -1 for none); hits with none count as "unknown"."""
    width = len(names) + 1
    named = row_code >= 0
    pairs = np.unique(row_hit[named] * width + row_code[named])  # distinct (hit, supplier), sorted
    totals = np.bincount(pairs % width, minlength=len(names)).tolist()
    counts = {name: n for name, n in zip(names, totals, strict=False) if n}
    named_hits = pairs // width
    unnamed = hits - (int(np.count_nonzero(named_hits[1:] != named_hits[:-1])) + 1 if len(pairs) else 0)
    if unnamed:
        counts["unknown"] = unnamed
    return counts


def _hits(
    keys: list[str],
    vins: list[str | None],
    markets: list[str | None],
    first: npt.NDArray[np.int64],
    lo: npt.NDArray[np.int64],
    hi: npt.NDArray[np.int64],
    row_code: npt.NDArray[np.int64],
    row_below: npt.NDArray[np.int64],
    below_keys: list[str],
    names: list[str],
) -> list[WhereUsedHit]:
    """The hit tuples of a where-used answer from its sorted rows (``first``: each hit's first row)."""
    # Most vehicles hold the target through one path, or through several paths (the modules of one pack
    # made from the same lot) that agree on the span and on the unit below: one span, one unit below.
    # Which groups of rows agree is worked out on the arrays at once; only the others take the long way.
    starts = np.zeros(len(lo), dtype=bool)
    starts[first] = True
    differs = np.r_[False, (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1]) | (row_below[1:] != row_below[:-1])] & ~starts
    uniform = (np.add.reduceat(differs.astype(np.int64), first) == 0).tolist()
    first_list = first.tolist()
    bounds = [*first_list[1:], len(lo)]
    lo_list, hi_list, below_list, code_list = lo.tolist(), hi.tolist(), row_below.tolist(), row_code.tolist()
    single = [(name,) for name in names]
    hits: list[WhereUsedHit] = []
    new_tuple = tuple.__new__
    for h, (i, j, same) in enumerate(zip(first_list, bounds, uniform, strict=True)):
        if same:
            c = code_list[i]
            # tuple.__new__ straight: the named tuples' generated __new__ costs more than the rest here.
            span = new_tuple(Span, (lo_list[i], hi_list[i]))
            hits.append(new_tuple(WhereUsedHit, (
                keys[h], vins[h], markets[h], (span,), (below_keys[below_list[i]],), single[c] if c >= 0 else ()
            )))
            continue
        spans = normalise(Span(lo_list[k], hi_list[k]) for k in range(i, j))
        below_set = sorted({below_keys[b] for b in below_list[i:j]})
        found = sorted({names[c] for c in code_list[i:j] if c >= 0})
        hits.append(WhereUsedHit(keys[h], vins[h], markets[h], tuple(spans), tuple(below_set), tuple(found)))
    return hits
