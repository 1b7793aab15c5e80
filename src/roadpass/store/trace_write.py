"""Write side of the trace store: units, events, identifiers by role, genealogy links, master data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from roadpass.store.bulk import COPY_MIN_ROWS, bulk_insert, chunks, insert_new_keys, placeholder
from roadpass.store.engine import is_postgresql
from roadpass.store.partitions import KEY_TABLE, event_keys
from roadpass.trace.capture_plan import EVENT_COLUMNS
from roadpass.trace.epcis.model import Role
from roadpass.trace.genealogy import ContainmentStep, Edge, LinkKind
from roadpass.trace.timeutil import FOREVER

__all__ = [
    "UnitCache",
    "child_steps",
    "children_at",
    "existing_event_ids",
    "existing_hashes",
    "insert_event_epcs",
    "insert_events",
    "insert_links",
    "intern_units",
    "last_child_step",
    "location_countries",
    "market_times",
    "open_containment",
    "replace_containment",
    "set_market",
]

def _in(conn: Connection, values: Sequence[Any]) -> str:
    return ", ".join([placeholder(conn)] * len(values))


def _among(conn: Connection, values: Sequence[Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Per part of ``values``: the membership test to put after a column, and its parameters.

    PostgreSQL: every value in one array parameter (``= ANY(%s)``), one statement whatever the count, whose
    text the driver need not parse again for each length of list. SQLite: ``IN (?, …)`` lists of at most
    :data:`CHUNK` values (its bound-variable limit)."""
    if is_postgresql(conn.engine):
        if values:
            yield _pg_any(values)
        return
    for part in chunks(values):
        yield f"IN ({_in(conn, part)})", tuple(part)


#: Splits a list of identifiers sent as one text parameter: a control character, which no URI carries
#: (RFC 3986 §2).
_SEPARATOR = "\x1f"


def _pg_any(values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """``= ANY(…)`` over ``values`` in one parameter the driver need not take apart: integers as an array
    literal, strings joined by :data:`_SEPARATOR` and split by the server. A Python list would be dumped
    item by item in Python (psycopg's list dumper): 13 % of the storing process's CPU in a bulk load."""
    first = values[0]
    if isinstance(first, int):
        return "= ANY(%s::bigint[])", ("{" + ",".join(map(str, values)) + "}",)
    if isinstance(first, str):
        joined = _SEPARATOR.join(values)
        if joined.count(_SEPARATOR) == len(values) - 1:  # else a value holds the separator
            return "= ANY(string_to_array(%s, %s))", (joined, _SEPARATOR)
    return "= ANY(%s)", (list(values),)


def existing_hashes(conn: Connection, hashes: Sequence[str]) -> set[str]:
    """Which of ``hashes`` are stored already (capture is idempotent on the event hash ID)."""
    found: set[str] = set()
    # The key table also knows the events of detached months: one captured again is still a duplicate.
    source = KEY_TABLE if event_keys(conn) is not None else "epcis_event"
    for test, params in _among(conn, list(hashes)):
        sql = f"SELECT hash_id FROM {source} WHERE hash_id {test}"
        found.update(row[0] for row in conn.exec_driver_sql(sql, params))
    return found


def existing_event_ids(conn: Connection, event_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """eventID → (row id, hash ID) for those of ``event_ids`` that are stored."""
    found: dict[str, tuple[int, str]] = {}
    source, live = "epcis_event", ""
    if event_keys(conn) is not None:  # found in the key table, kept only while its month is attached
        source = KEY_TABLE
        live = " AND EXISTS (SELECT 1 FROM epcis_event l WHERE l.id = e.id AND l.event_time = e.event_time)"
    for test, params in _among(conn, list(event_ids)):
        sql = f"SELECT e.event_id, e.id, e.hash_id FROM {source} e WHERE e.event_id {test}{live}"
        for event_id, pk, hash_id in conn.exec_driver_sql(sql, params):
            found[event_id] = (int(pk), hash_id)
    return found


class UnitCache:
    """Known identifier → unit id, per database. Units are never deleted nor renumbered, so a key seen
    once keeps its id; only keys not in the cache are looked up. Entries made by a transaction that rolls
    back are dropped with :meth:`forget`.

    Two generations: when the young one fills up it becomes the old one and the older is dropped, so the
    identifiers of the last few documents (a part is named again soon after it is made: assembled,
    shipped) stay known however long the run, in bounded memory."""

    def __init__(self, size: int = 1 << 18) -> None:
        self.size = size
        self.young: dict[str, int] = {}
        self.old: dict[str, int] = {}

    def remember(self, pairs: Mapping[str, int]) -> None:
        """Add known pairs, retiring the young generation when it grows past ``size``."""
        if len(self.young) + len(pairs) > self.size:
            self.old, self.young = self.young, {}
        self.young.update(pairs)

    def lookup(self, keys: Iterable[str]) -> tuple[dict[str, int], list[str]]:
        """The cached ids of ``keys`` and, in order, the keys not cached."""
        young, old = self.young, self.old
        found: dict[str, int] = {}
        unknown: list[str] = []
        for key in keys:
            uid = young.get(key)
            if uid is None:
                uid = old.get(key)
            if uid is None:
                unknown.append(key)
            else:
                found[key] = uid
        return found, unknown

    def forget(self, keys: Iterable[str]) -> None:
        """Drop keys whose rows were not committed."""
        for key in keys:
            self.young.pop(key, None)
            self.old.pop(key, None)


def intern_units(
    conn: Connection, keys: Mapping[str, tuple[int, str | None]], cache: UnitCache | None = None, *,
    sole_writer: bool = False,
) -> tuple[dict[str, int], set[int]]:
    """Ids for canonical identifiers, creating the missing ones; ``keys`` maps key → (kind, VIN or None).

    Returns the ids and the set of ids created now (units that have no stored facts yet). Keys the cache
    does not know are inserted at once, all in one statement, where their key is new (the unique key
    decides, so two writers never store one unit twice); only the keys that were stored already are looked
    up, in one more statement.

    ``sole_writer``: the transaction holds the writer lock, so no other one stores units meanwhile. On
    PostgreSQL the keys not cached are then looked up first and only the new ones are copied in, their ids
    taken from the sequence as one block: an ``INSERT … ON CONFLICT`` probes the key before each row and
    inserts the rows one by one (6.4 µs a row), a COPY writes them in batches.
    """
    ids, unknown = cache.lookup(keys) if cache is not None else ({}, list(keys))
    if not unknown:
        return ids, set()
    if sole_writer and len(unknown) >= COPY_MIN_ROWS and is_postgresql(conn.engine):
        found = _stored_units(conn, unknown)
        made = _copy_new_units(conn, keys, [key for key in unknown if key not in found])
    else:
        made = insert_new_keys(conn, "unit", ("kind", "vin"), {key: keys[key] for key in unknown})
        found = _stored_units(conn, [key for key in unknown if key not in made])
    ids.update(made)
    ids.update(found)
    if cache is not None:  # committed units keep their ids; the ones made here only once this commits
        cache.remember(found)
    return ids, set(made.values())


def _copy_new_units(conn: Connection, keys: Mapping[str, tuple[int, str | None]], new: list[str]) -> dict[str, int]:
    """Copy in the units of keys known to be new (PostgreSQL, no other writer of units); key → id."""
    if not new:
        return {}
    # One block of the sequence: safe because every writer of units holds the writer lock.
    last = int(conn.exec_driver_sql(
        "SELECT setval(s, nextval(s) + %s - 1) FROM pg_get_serial_sequence('unit', 'id') AS s", (len(new),)
    ).scalar_one())
    made = dict(zip(new, range(last - len(new) + 1, last + 1), strict=True))
    bulk_insert(conn, "unit", ("id", "key", "kind", "vin"), [(pk, key, *keys[key]) for key, pk in made.items()])
    return made


def _stored_units(conn: Connection, stored: Sequence[str]) -> dict[str, int]:
    """key → id of those of ``stored`` that are stored."""
    found: dict[str, int] = {}
    for test, params in _among(conn, stored):
        sql = f"SELECT key, id FROM unit WHERE key {test}"
        found.update((key, int(pk)) for key, pk in conn.exec_driver_sql(sql, params))
    return found


def insert_events(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    """Insert event rows laid out as :data:`EVENT_COLUMNS`."""
    bulk_insert(conn, "epcis_event", EVENT_COLUMNS, rows)


def insert_event_epcs(conn: Connection, rows: list[tuple[int, int, int]]) -> None:
    """Insert (unit id, role, event row id) rows, skipping repeats of the same identifier in one role."""
    bulk_insert(conn, "event_epc", ("unit_id", "role", "event_pk"), sorted(set(rows)))


def last_child_step(conn: Connection, child_ids: Sequence[int]) -> dict[int, int]:
    """For each unit, the time of the latest aggregation fact naming it as a child (declared errors excluded)."""
    out: dict[int, int] = {}
    mark = placeholder(conn)
    for test, params in _among(conn, list(child_ids)):
        sql = (
            "SELECT c.unit_id, MAX(e.event_time) FROM event_epc c JOIN epcis_event e ON e.id = c.event_pk "
            f"WHERE c.role = {mark} AND c.unit_id {test} AND e.event_type = 'AggregationEvent' "
            "AND NOT EXISTS (SELECT 1 FROM error_declaration d WHERE d.event_pk = e.id) GROUP BY c.unit_id"
        )
        out.update((int(u), int(t)) for u, t in conn.exec_driver_sql(sql, (int(Role.CHILD), *params)))
    return out


def open_containment(conn: Connection, child_ids: Sequence[int]) -> dict[int, tuple[int, int, int]]:
    """child → (link id, parent, start) for children currently inside a parent."""
    out: dict[int, tuple[int, int, int]] = {}
    mark = placeholder(conn)
    for test, params in _among(conn, list(child_ids)):
        sql = (
            "SELECT child_id, id, parent_id, valid_from FROM link "
            f"WHERE child_id {test} AND valid_to = {mark} AND kind = {mark}"
        )
        for child, link_id, parent, start in conn.exec_driver_sql(sql, (*params, FOREVER, int(LinkKind.CONTAINS))):
            out[int(child)] = (int(link_id), int(parent), int(start))
    return out


def children_at(conn: Connection, parent: int, instant: int) -> list[int]:
    """Units contained in ``parent`` at ``instant`` (to expand a DELETE with no childEPCs)."""
    mark = placeholder(conn)
    sql = (
        f"SELECT child_id FROM link WHERE parent_id = {mark} AND kind = {mark} "
        f"AND valid_from <= {mark} AND valid_to > {mark}"
    )
    return [int(r[0]) for r in conn.exec_driver_sql(sql, (parent, int(LinkKind.CONTAINS), instant, instant))]


def child_steps(conn: Connection, child: int) -> list[ContainmentStep]:
    """Every aggregation fact about ``child`` that stands (events with a declared error are left out)."""
    mark = placeholder(conn)
    # The parent's role is a value, not a parameter: a partial index is used only when the query's WHERE
    # clause implies the index's (sqlite.org, "Partial Indexes" §3), which SQLite cannot see through a bound
    # parameter (PostgreSQL's generic plans neither). So ix_event_epc_parent (WHERE role = 2) finds each
    # event's parent instead of a scan of event_epc per replayed child.
    sql = (
        "SELECT e.event_time, e.id, e.action, p.unit_id FROM event_epc c "
        "JOIN epcis_event e ON e.id = c.event_pk "
        f"JOIN event_epc p ON p.event_pk = e.id AND p.role = {int(Role.PARENT)} "
        f"WHERE c.unit_id = {mark} AND c.role = {mark} AND e.event_type = 'AggregationEvent' "
        "AND NOT EXISTS (SELECT 1 FROM error_declaration d WHERE d.event_pk = e.id)"
    )
    rows = conn.exec_driver_sql(sql, (child, int(Role.CHILD)))
    return [ContainmentStep(int(t), int(pk), str(action), int(parent)) for t, pk, action, parent in rows]


def replace_containment(conn: Connection, child: int, edges: Sequence[Edge]) -> None:
    """Replace all containment links of ``child`` by ``edges`` (after an out-of-order fact or a correction)."""
    mark = placeholder(conn)
    where = f"child_id = {mark} AND kind = {mark}"
    params = (child, int(LinkKind.CONTAINS))
    conn.exec_driver_sql(f"INSERT INTO link_change (link_id) SELECT id FROM link WHERE {where}", params)
    conn.exec_driver_sql(f"DELETE FROM link WHERE {where}", params)
    insert_links(conn, edges)


def insert_links(conn: Connection, edges: Iterable[Edge]) -> None:
    """Insert genealogy links."""
    # The link's id is the database's own (SQLite: the rowid; PostgreSQL: the column's sequence).
    bulk_insert(conn, "link", ("parent_id", "child_id", "kind", "valid_from", "valid_to", "event_pk", "closed_by"),
                edges if isinstance(edges, list) else list(edges))


def close_links(conn: Connection, closes: Sequence[tuple[int, int, int]]) -> None:
    """Close links: (link id, end, closing event row id)."""
    if not closes:
        return
    mark = placeholder(conn)
    conn.exec_driver_sql(
        f"UPDATE link SET valid_to = {mark}, closed_by = {mark} WHERE id = {mark}",
        [(end, event, link_id) for link_id, end, event in closes],
    )
    conn.exec_driver_sql(f"INSERT INTO link_change (link_id) VALUES ({mark})", [(c[0],) for c in closes])


def delete_links_of_event(conn: Connection, event_pk: int, kind: LinkKind) -> None:
    """Remove the links an event created (its error was declared)."""
    mark = placeholder(conn)
    where = f"event_pk = {mark} AND kind = {mark}"
    conn.exec_driver_sql(f"INSERT INTO link_change (link_id) SELECT id FROM link WHERE {where}", (event_pk, int(kind)))
    conn.exec_driver_sql(f"DELETE FROM link WHERE {where}", (event_pk, int(kind)))


def location_countries(conn: Connection, keys: Iterable[str]) -> dict[str, str]:
    """Country (ISO 3166-1 alpha-2) of business locations known from master data."""
    wanted = sorted(set(keys))
    out: dict[str, str] = {}
    for test, params in _among(conn, wanted):
        sql = (
            "SELECT key, country, version FROM vocabulary_element "
            f"WHERE key {test} AND country IS NOT NULL ORDER BY version"
        )
        out.update((key, country) for key, country, _v in conn.exec_driver_sql(sql, params))
    return out


def market_times(conn: Connection, units: Sequence[int]) -> dict[int, int]:
    """When each unit's recorded market was set (units with none are left out)."""
    out: dict[int, int] = {}
    for test, params in _among(conn, sorted(set(units))):
        sql = f"SELECT id, market_time FROM unit WHERE market_time IS NOT NULL AND id {test}"
        out.update((int(u), int(t)) for u, t in conn.exec_driver_sql(sql, params))
    return out


def set_market(conn: Connection, markets: Mapping[int, tuple[str, int] | None]) -> None:
    """Record each unit's market and when it was set (None: no market)."""
    if not markets:
        return
    mark = placeholder(conn)
    conn.exec_driver_sql(
        f"UPDATE unit SET market = {mark}, market_time = {mark} WHERE id = {mark}",
        [(m[0] if m else None, m[1] if m else None, unit) for unit, m in markets.items()],
    )
    conn.exec_driver_sql(f"INSERT INTO link_change (unit_id) VALUES ({mark})", [(u,) for u in markets])
