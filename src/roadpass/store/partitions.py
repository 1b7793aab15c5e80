"""The event table partitioned by event time, one partition per calendar month (PostgreSQL only).

Why and how (docs/postgresql-operations.md): a year of a large fleet's events stays fast to query because a
query bounded by ``event_time`` reads only its months, each month carries its own indexes, and an old month
is taken out of the live table with ``DETACH PARTITION`` (PostgreSQL 15 manual, 5.11.2.2 "Partition
Maintenance") and archived, instead of a long ``DELETE``.

PostgreSQL's rule (manual 5.11.2.3 "Limitations"): a unique or primary key constraint on a partitioned table
must include the partition key. So the partitioned ``epcis_event`` has the primary key ``(id, event_time)``,
and the identifiers that must stay unique over *all* months (the row id, ``eventID``, the CBV 2.0 event hash
ID) are kept in a small non-partitioned table, :data:`KEY_TABLE`, filled by a statement-level trigger from
every insert into the event table. That table is also what ``error_declaration.event_pk`` refers to. It keeps
its rows when a month is detached, so an archived event captured again is still recognised as a duplicate.

Partitions, the default partition, the key table and the trigger live in the schema :data:`SCHEMA`, apart
from the logical schema the table definitions describe (``tables.py``); SQLite keeps the plain table.

No decisions about events are made here: this module only creates, lists and detaches months.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, TableClause, column, table, text

from roadpass.ledger.archive import DETACH_ACTION, partition_month
from roadpass.ledger.chain import LedgerDraft, Subject
from roadpass.store.ledger import append, rows_hash

__all__ = [
    "DEFAULT_PARTITION",
    "EVENT_KEYS",
    "KEY_TABLE",
    "SCHEMA",
    "EventPartitions",
    "NotPartitioned",
    "Partition",
    "comparison_filter",
    "create_month",
    "event_keys",
    "forget_layout",
    "is_partitioned",
    "list_partitions",
    "month_bounds",
    "month_of",
    "months_ahead",
    "parse_month",
    "partition_name",
]

SCHEMA = "event_partitions"
KEY_TABLE = f"{SCHEMA}.epcis_event_key"
DEFAULT_PARTITION = "epcis_event_default"

#: What the table definitions declare and the partitioned table cannot carry (manual 5.11.2.3).
_UNIQUES_MOVED = ("uq_epcis_event_event_id", "uq_epcis_event_hash_id")
#: Foreign keys the partitioned layout moves (error declarations refer to the key table) or leaves out: the
#: events' job, written by the same transaction just before them, is not probed once per event row
#: (migration 0031).
_FKS_MOVED = ("fk_error_declaration_event_pk_epcis_event", "fk_epcis_event_job_id_capture_job")

#: eventID, hash ID, row id and event time of every event, unique over all months (see :func:`event_keys`).
EVENT_KEYS: TableClause = table(
    "epcis_event_key", column("id"), column("event_id"), column("hash_id"), column("event_time"), schema=SCHEMA)

_MICROS = 1_000_000


class NotPartitioned(Exception):
    """The database's event table is not partitioned (SQLite, or PostgreSQL before migration 0021)."""


@dataclass(frozen=True)
class Partition:
    """One partition of ``epcis_event``: a month (``month`` is its first day) or the default (``month`` None)."""

    name: str
    month: date | None
    rows: int
    size_bytes: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready view (CLI and API output)."""
        return {"name": f"{SCHEMA}.{self.name}", "month": None if self.month is None else self.month.strftime("%Y-%m"),
                "rows": self.rows, "sizeBytes": self.size_bytes}


def month_of(micros: int) -> date:
    """The first day of the UTC month holding ``micros`` (µs since the Unix epoch, as events are stored)."""
    moment = datetime.fromtimestamp(micros / _MICROS, tz=UTC)
    return date(moment.year, moment.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_bounds(month: date) -> tuple[int, int]:
    """``[from, to)`` of ``month`` in µs since the epoch, UTC: a range partition's bounds."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end_day = _next_month(month)
    end = datetime(end_day.year, end_day.month, 1, tzinfo=UTC)
    return int(start.timestamp()) * _MICROS, int(end.timestamp()) * _MICROS


def months_ahead(now_micros: int, ahead: int) -> list[date]:
    """The month of ``now_micros`` and the ``ahead`` months after it."""
    month = month_of(now_micros)
    out = [month]
    for _ in range(ahead):
        month = _next_month(month)
        out.append(month)
    return out


def partition_name(month: date) -> str:
    """``epcis_event_y2026m01``: sorts by month, and names the month in the field's own words."""
    return f"epcis_event_y{month.year:04d}m{month.month:02d}"


def parse_month(value: str) -> date:
    """``YYYY-MM`` → the month's first day; ValueError naming the expected form otherwise."""
    try:
        parsed = datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise ValueError(f"month {value!r}: expected YYYY-MM") from None
    return date(parsed.year, parsed.month, 1)


def is_partitioned(conn: Connection) -> bool:
    """True when ``epcis_event`` is a partitioned table on this database."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.oid = to_regclass('epcis_event')"
    )).first()
    return found is not None


_layouts: WeakKeyDictionary[Engine, bool] = WeakKeyDictionary()


def event_keys(conn: Connection) -> TableClause | None:
    """Where to find events by eventID or hash ID: the key table on a partitioned event table (its months
    carry no index on either, since the key table's unique indexes answer those look-ups once for all months,
    migration 0031), else None: the event table's own unique indexes. Known once per engine (the layout
    changes only in a migration, which calls :func:`forget_layout`)."""
    known = _layouts.get(conn.engine)
    if known is None:
        known = _layouts[conn.engine] = is_partitioned(conn)
    return EVENT_KEYS if known else None


def forget_layout(engine: Engine) -> None:
    """Look the event table's layout up again (after a migration)."""
    _layouts.pop(engine, None)


def list_partitions(conn: Connection) -> list[Partition]:
    """The attached partitions, months in order, the default last; row counts are the planner's estimates."""
    rows = conn.execute(text(
        "SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('epcis_event') ORDER BY c.relname"
    )).all()
    months: list[Partition] = []
    default: list[Partition] = []
    for name, tuples, size in rows:
        found = partition_month(f"{SCHEMA}.{name}")  # one parser of partition names, the ledger's
        month = None if found is None else parse_month(found)
        target = default if month is None else months
        target.append(Partition(str(name), month, max(int(tuples), 0), int(size)))
    return months + default


def create_month(conn: Connection, month: date) -> bool:
    """Create and attach the partition of ``month``; False when it exists already.

    Rows of that month already in the default partition move into it first: attaching a range the default
    partition holds rows of is refused (PostgreSQL manual, CREATE TABLE … PARTITION OF: the default partition
    can't contain rows that would need to be moved to the new partition). The moved rows keep their key table
    rows (the trigger is on the parent, and these rows do not pass through it). A detached month's table of
    the same name counts as existing: re-attach it, do not recreate it.
    """
    name = partition_name(month)
    if conn.execute(text("SELECT to_regclass(:n)"), {"n": f"{SCHEMA}.{name}"}).scalar() is not None:
        return False
    low, high = month_bounds(month)
    default = f"{SCHEMA}.{DEFAULT_PARTITION}"
    # The months keep the event documents' compression method (migration 0031); PostgreSQL 14 added both.
    compression = " INCLUDING COMPRESSION" if (conn.dialect.server_version_info or (0,)) >= (14,) else ""
    conn.execute(text(f"CREATE TABLE {SCHEMA}.{name} (LIKE epcis_event INCLUDING DEFAULTS{compression})"))
    conn.execute(text(
        f"WITH moved AS (DELETE FROM {default} WHERE event_time >= {low} AND event_time < {high} RETURNING *) "
        f"INSERT INTO {SCHEMA}.{name} SELECT * FROM moved"
    ))
    conn.execute(text(f"ALTER TABLE epcis_event ATTACH PARTITION {SCHEMA}.{name} FOR VALUES FROM ({low}) TO ({high})"))
    return True


def detach_month(conn: Connection, month: date) -> str:
    """Detach the partition of ``month`` from ``epcis_event``; it stays a table of its own, to archive.

    Returns its qualified name; KeyError when there is no such attached partition.
    """
    name = partition_name(month)
    attached = {p.name for p in list_partitions(conn)}
    if name not in attached:
        raise KeyError(f"month {month:%Y-%m}: no attached partition {SCHEMA}.{name}")
    # Capture numbers events MAX(id) + 1 over the live table: detaching the month that holds the newest id
    # would hand that id out again (and the key table would refuse it).
    newest = conn.execute(text(f"SELECT id FROM {KEY_TABLE} ORDER BY id DESC LIMIT 1")).scalar()
    if newest is not None and conn.execute(
            text(f"SELECT 1 FROM {SCHEMA}.{name} WHERE id = :id"), {"id": newest}).first() is not None:
        raise KeyError(f"month {month:%Y-%m} holds the newest stored event (id {newest}): detach it after "
                       "a later capture")
    conn.execute(text(f"ALTER TABLE epcis_event DETACH PARTITION {SCHEMA}.{name}"))
    return f"{SCHEMA}.{name}"


def comparison_filter(conn: Connection) -> Callable[..., bool] | None:
    """For the schema check (``alembic check``): skip what partitioning changes by design, only where the
    event table is partitioned. The key table and partitions are outside the compared schema anyway."""
    if not is_partitioned(conn):
        return None

    def include(_obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        if type_ == "unique_constraint" and name in _UNIQUES_MOVED:
            return False
        return not (type_ == "foreign_key_constraint" and name in _FKS_MOVED)

    return include


class EventPartitions:
    """The months of the event table, for the CLI and ``roadpass serve`` (PostgreSQL only)."""

    def __init__(self, engine: Engine, *, ahead: int = 3) -> None:
        self.engine = engine
        self.ahead = ahead

    def _check(self, conn: Connection) -> None:
        if not is_partitioned(conn):
            raise NotPartitioned(
                f"epcis_event is not partitioned on {conn.dialect.name}: partitioning is PostgreSQL-only")

    def available(self) -> bool:
        """True when the event table is partitioned here."""
        with self.engine.connect() as conn:
            return is_partitioned(conn)

    def attached(self) -> list[Partition]:
        """The attached partitions (months in order, then the default)."""
        with self.engine.connect() as conn:
            self._check(conn)
            return list_partitions(conn)

    def create(self, months: Iterable[date]) -> list[str]:
        """Create the partitions of ``months`` that are missing, one transaction; their names."""
        made: list[str] = []
        with self.engine.begin() as conn:
            self._check(conn)
            for month in sorted(set(months)):
                if create_month(conn, month):
                    made.append(f"{SCHEMA}.{partition_name(month)}")
        return made

    def ensure_ahead(self, now_micros: int, ahead: int | None = None, *, also: Iterable[str] = ()) -> list[str]:
        """Create this month's and the next ``ahead`` months' partitions before events of them arrive, and
        those of the months ``also`` names (``YYYY-MM``; ValueError on another form)."""
        extra = [parse_month(m) for m in also]
        return self.create(months_ahead(now_micros, self.ahead if ahead is None else ahead) + extra)

    def split_default(self) -> list[str]:
        """Give every month with rows in the default partition a partition of its own (after a backfill of
        old events, or when the months ahead were not created in time); their names."""
        with self.engine.connect() as conn:
            self._check(conn)
            days = conn.execute(text(
                f"SELECT DISTINCT event_time / 86400000000 FROM {SCHEMA}.{DEFAULT_PARTITION}")).scalars().all()
        return self.create({month_of(int(day) * 86_400_000_000) for day in days})

    def detach_named(self, month: str, *, actor: str) -> str:
        """Detach the month named ``YYYY-MM`` (ValueError on another form, KeyError when not attached)."""
        return self.detach(parse_month(month), actor=actor)

    def detach(self, month: date, *, actor: str) -> str:
        """Detach ``month`` (see :func:`detach_month`), ledgered in the same transaction: who took which
        month out of the live table, when, and the capture jobs whose events it holds (their ``capture_job``
        rows), so that ``ledger verify`` knows whose capture entries are archived even once the detached
        table is dropped (``roadpass.ledger.archive``)."""
        with self.engine.begin() as conn:
            self._check(conn)
            name = detach_month(conn, month)
            jobs = conn.execute(text(f"SELECT DISTINCT job_id FROM {name} ORDER BY job_id")).scalars().all()
            subjects = tuple(Subject("capture_job", "id", int(job)) for job in jobs)
            append(conn, LedgerDraft(
                actor=actor, action=DETACH_ACTION,
                rule=f"{name}: ALTER TABLE epcis_event DETACH PARTITION (PostgreSQL manual 5.11.2.2)",
                subjects=subjects, content_hash=rows_hash(conn, subjects)))
            return name
