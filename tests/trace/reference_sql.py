"""The where-used answer as recursive SQL over the link table: the reference the in-memory genealogy index
is held to (the property test compares every answer), kept beside the tests that use it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import Connection, text

from roadpass.trace.genealogy import Span, WhereUsedHit, WhereUsedResult, normalise, supplier_of
from roadpass.trace.timeutil import FOREVER, NOW

MAX_DEPTH = 32
BEGINNING = -FOREVER

# Upward walk carrying the span during which the reached unit contained the target (the intersection of
# the link spans along the path) and the unit it was reached from. UNION, not UNION ALL: a pack reached
# through several modules of one lot walks up to its vehicle once. Only vehicles (units with a VIN) and
# units that are the root of the chain at the instant asked are returned.
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
    )
    SELECT up.node, up.s, up.e, u.key, u.vin, u.market, v.key
    FROM up JOIN unit u ON u.id = up.node LEFT JOIN unit v ON v.id = up.via
    WHERE up.depth > 0 AND (
        u.vin IS NOT NULL OR (
            up.s <= :root_at AND up.e > :root_at AND NOT EXISTS (
                SELECT 1 FROM link p WHERE p.child_id = up.node AND p.valid_to > :root_at AND p.valid_from <= :root_at
            )
        )
    )
"""
_WHERE_USED_EVER = text(_WHERE_USED.format(at_filter=""))
_WHERE_USED_AT = text(_WHERE_USED.format(at_filter="AND l.valid_from <= :at AND l.valid_to > :at"))


def where_used(
    conn: Connection, target: int, at: int | None = None, *, suppliers: Mapping[str, str] | None = None
) -> WhereUsedResult:
    """Every vehicle that contains or contained ``target`` at any depth, with the spans during which it
    did, plus any other unit that holds it as the top of its chain (loose stock, a removed pack at a
    workshop); with ``at``, only those holding it at that instant.

    ``suppliers`` maps a GS1 company prefix to a party name, for the roll-up by supplier.
    """
    params = {
        "target": target, "beginning": BEGINNING, "forever": FOREVER, "max_depth": MAX_DEPTH,
        "root_at": NOW if at is None else at,
    }
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
