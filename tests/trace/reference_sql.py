"""The where-used answer as recursive SQL over the link table: the reference the in-memory genealogy index
is held to (the property test compares every answer), kept beside the tests that use it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import Connection, text

from roadpass.trace.genealogy import Span, WhereUsedHit, WhereUsedResult, normalise, supplier_of
from roadpass.trace.timeutil import FOREVER

MAX_DEPTH = 32
BEGINNING = -FOREVER

# Upward walk carrying the span during which the reached unit contained the target (the intersection of
# the link spans along the path) and the unit it was reached from. UNION, not UNION ALL: a pack reached
# through several modules of one lot walks up to its vehicle once. Vehicles (units with a VIN) answer with
# every row; other units with their rows cut to the pieces of top-level holding that {pieces} gives.
_WHERE_USED = """
    WITH RECURSIVE up(node, s, e, via, depth) AS (
        SELECT CAST(:target AS BIGINT), CAST(:beginning AS BIGINT), CAST(:forever AS BIGINT),
               CAST(NULL AS BIGINT), 0
        UNION
        SELECT l.parent_id,
               CASE WHEN l.valid_from > up.s THEN l.valid_from ELSE up.s END,
               CASE WHEN l.valid_to < up.e THEN l.valid_to ELSE up.e END,
               up.node, up.depth + 1
        FROM up JOIN link l ON l.child_id = up.node
        WHERE l.valid_from < up.e AND l.valid_to > up.s AND up.depth < :max_depth {at_filter}
    ),
    reached(node, s, e, via, vin) AS (
        SELECT up.node, up.s, up.e, up.via, u.vin FROM up JOIN unit u ON u.id = up.node WHERE up.depth > 0
    ),
    pieces(node, a, b) AS ({pieces})
    SELECT r.node, r.s, r.e, u.key, u.vin, u.market, v.key
    FROM reached r JOIN unit u ON u.id = r.node LEFT JOIN unit v ON v.id = r.via
    WHERE r.vin IS NOT NULL
    UNION ALL
    SELECT r.node, CASE WHEN r.s > pc.a THEN r.s ELSE pc.a END, CASE WHEN r.e < pc.b THEN r.e ELSE pc.b END,
           u.key, u.vin, u.market, v.key
    FROM reached r JOIN pieces pc ON pc.node = r.node AND r.s < pc.b AND r.e > pc.a
    JOIN unit u ON u.id = r.node LEFT JOIN unit v ON v.id = r.via
"""

# Without an instant: a piece ends where the unit's holding ends (no row of the unit covers that instant,
# it let go or holds it still) while the unit sat in no parent just before; it starts at the later of the
# start of that stretch of holding (a row start that no row covers the instant before) and the end of the
# unit's last parent link before the piece's end. Holding that ends because the unit itself went into a
# parent gives no piece: the new top of the chain answers from then on.
_PIECES_EVER = """
    SELECT DISTINCT ends.node, CASE WHEN ends.a1 IS NOT NULL AND ends.a1 > ends.a2 THEN ends.a1 ELSE ends.a2 END,
           ends.b
    FROM (
        SELECT r.node, r.e AS b,
               (SELECT MAX(p.valid_to) FROM link p
                WHERE p.child_id = r.node AND p.valid_from < p.valid_to AND p.valid_to <= r.e - 1) AS a1,
               (SELECT MAX(i.s) FROM reached i
                WHERE i.node = r.node AND i.s <= r.e - 1 AND NOT EXISTS (
                    SELECT 1 FROM reached o WHERE o.node = i.node AND o.s < i.s AND o.e >= i.s)) AS a2
        FROM reached r
        WHERE r.vin IS NULL
          AND NOT EXISTS (SELECT 1 FROM reached o WHERE o.node = r.node AND o.s <= r.e AND o.e > r.e)
          AND NOT EXISTS (
              SELECT 1 FROM link p WHERE p.child_id = r.node AND p.valid_from <= r.e - 1 AND p.valid_to > r.e - 1)
    ) AS ends
"""

# At an instant: a unit that sits in no parent then; its piece is its holding around the instant (one
# stretch: every row holds the instant) between its parent links before and after.
_PIECES_AT = """
    SELECT h.node, CASE WHEN h.a1 IS NOT NULL AND h.a1 > h.a2 THEN h.a1 ELSE h.a2 END,
           CASE WHEN h.b1 IS NOT NULL AND h.b1 < h.b2 THEN h.b1 ELSE h.b2 END
    FROM (
        SELECT r.node, MIN(r.s) AS a2, MAX(r.e) AS b2,
               (SELECT MAX(p.valid_to) FROM link p
                WHERE p.child_id = r.node AND p.valid_from < p.valid_to AND p.valid_to <= :at) AS a1,
               (SELECT MIN(p.valid_from) FROM link p
                WHERE p.child_id = r.node AND p.valid_from < p.valid_to AND p.valid_from > :at) AS b1
        FROM reached r
        WHERE r.vin IS NULL AND NOT EXISTS (
            SELECT 1 FROM link p WHERE p.child_id = r.node AND p.valid_from <= :at AND p.valid_to > :at)
        GROUP BY r.node
    ) AS h
"""
_WHERE_USED_EVER = text(_WHERE_USED.format(at_filter="", pieces=_PIECES_EVER))
_WHERE_USED_AT = text(
    _WHERE_USED.format(at_filter="AND l.valid_from <= :at AND l.valid_to > :at", pieces=_PIECES_AT)
)


def where_used(
    conn: Connection, target: int, at: int | None = None, *, suppliers: Mapping[str, str] | None = None
) -> WhereUsedResult:
    """Every vehicle that contains or contained ``target`` at any depth, with the spans during which it
    did, plus every other unit that held it at the top of its chain and let go of it or holds it still
    (loose stock, a removed pack at a workshop, a unit the pack was swapped out of), with those spans;
    with ``at``, only those holding it at that instant (see ``roadpass.trace.genealogy``).

    ``suppliers`` maps a GS1 company prefix to a party name, for the roll-up by supplier.
    """
    params = {"target": target, "beginning": BEGINNING, "forever": FOREVER, "max_depth": MAX_DEPTH}
    if at is None:
        rows = conn.execute(_WHERE_USED_EVER, params).all()
    else:
        rows = conn.execute(_WHERE_USED_AT, {**params, "at": at}).all()
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    info: dict[int, tuple[str, str | None, str | None]] = {}
    via: dict[int, set[str]] = defaultdict(set)
    for node, start, end, key, vin, market, via_key in rows:
        spans[node].append((start, end))
        info[node] = (key, vin, market)
        if via_key is not None:
            via[node].add(via_key)
    hits = []
    for node, node_spans in spans.items():
        key, vin, market = info[node]
        merged = normalise(Span(a, b) for a, b in node_spans)
        names = tuple(sorted({s for v in via[node] if (s := supplier_of(v, suppliers)) is not None}))
        hits.append(WhereUsedHit(key, vin, market, tuple(merged), tuple(sorted(via[node])), names))
    hits.sort(key=lambda h: (h.vin is None, h.vin or h.key))
    return WhereUsedResult.from_hits(hits)
