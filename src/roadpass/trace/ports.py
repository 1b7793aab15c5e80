"""What the trace service needs from persistence (implemented by :mod:`roadpass.store.trace_records`).

The records object reads the facts capture's rules need and writes the rows a plan says to write; it
decides nothing (the rules are in :mod:`roadpass.trace.capture_plan`). Reads for queries and genealogy
answer from the stored rows and the store's in-memory genealogy index.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Protocol

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.trace.capture_plan import DeclarationFacts
from roadpass.trace.genealogy import AsBuiltNode, ContainmentStep, Edge, WhereUsedResult
from roadpass.trace.query import EventQuery, PageToken, Visibility
from roadpass.trace.stored import StoredEvent

__all__ = ["TraceRecords", "TraceStore"]


class TraceRecords(Protocol):
    """The trace tables inside one transaction."""

    # --- capture: jobs, ledger -------------------------------------------------------------------------
    def lock_writer(self) -> None:
        """Serialise writers (PostgreSQL: an advisory lock; SQLite's BEGIN IMMEDIATE already does)."""
        ...

    def open_job(
        self, *, capture_id: str, actor: str, behaviour: str, event_count: int, context: Any, created_at: int
    ) -> int:
        """Record a running capture job; its row id."""
        ...

    def finish_job(
        self, job_pk: int, *, finished_at: int, success: bool, errors: list[dict[str, Any]], stored: int,
        duplicates: int,
    ) -> None:
        """Record how a capture job ended."""
        ...

    def append_ledger(
        self, actor: str, action: str, rule: str, subjects: Sequence[Subject],
        written_events: Sequence[Sequence[Any]] | None = None,
    ) -> int:
        """Append a ledger entry on the rows ``subjects`` name (``written_events``: the event rows just
        written, in EVENT_COLUMNS order, so they need not be read back); its sequence number."""
        ...

    # --- capture: facts --------------------------------------------------------------------------------
    def master_data_versions(self, idents: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, str]]:
        """(vocabulary type, key) → (latest version, attributes JSON) of stored master data."""
        ...

    def stored_event_ids(self, event_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """eventID → (row id, hash ID) for those stored."""
        ...

    def known_hashes(self, hashes: Sequence[str]) -> set[str]:
        """Which hash IDs are stored."""
        ...

    def intern_units(self, units: Mapping[str, tuple[int, str | None]]) -> tuple[dict[str, int], set[int]]:
        """Row ids for canonical keys (key → (unit kind, VIN)), creating the missing units; the ids and the
        set of ids created now."""
        ...

    def next_event_pk(self) -> int:
        """The row id the next event gets."""
        ...

    def children_at(self, parent: int, instant: int) -> list[int]:
        """Units contained in ``parent`` at ``instant``."""
        ...

    def containment_state(self, children: Sequence[int]) -> tuple[dict[int, int], dict[int, tuple[int, int, int]]]:
        """Per child: the time of its latest standing aggregation fact, and its open containment
        (link id, parent, start)."""
        ...

    def declaration_facts(self, event_pks: Iterable[int]) -> dict[int, DeclarationFacts]:
        """What is stored of the events errors are declared on."""
        ...

    def child_steps(self, child: int) -> list[ContainmentStep]:
        """Every standing aggregation fact about ``child``."""
        ...

    def location_countries(self, keys: Iterable[str]) -> dict[str, str]:
        """Country of business locations known from master data."""
        ...

    def market_times(self, units: Sequence[int]) -> dict[int, int]:
        """When each unit's recorded market was set (units without one are left out)."""
        ...

    def latest_markets(self, units: Iterable[int], biz_steps: Iterable[str]) -> dict[int, tuple[str, int] | None]:
        """Per unit, the (country, time) of its latest standing event with one of ``biz_steps`` at a
        location of known country (None when none stands)."""
        ...

    # --- capture: writes -------------------------------------------------------------------------------
    def insert_master_data(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Store master data versions."""
        ...

    def insert_events(self, rows: Sequence[tuple[Any, ...]], epc_rows: Sequence[tuple[int, int, int]]) -> None:
        """Store event rows and their identifiers by role."""
        ...

    def close_links(self, closes: Sequence[tuple[int, int, int]]) -> None:
        """Close links: (link id, end, closing event row id)."""
        ...

    def insert_links(self, edges: Iterable[Edge]) -> None:
        """Store genealogy links."""
        ...

    def insert_declarations(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Store error declarations."""
        ...

    def unlink_made_from(self, event_pks: Sequence[int]) -> None:
        """Remove the made-from links these transformation events created."""
        ...

    def replace_containment(self, child: int, edges: Sequence[Edge]) -> None:
        """Replace every containment link of ``child``."""
        ...

    def set_markets(self, markets: Mapping[int, tuple[str, int] | None]) -> None:
        """Record units' markets and when they were set (None: no market)."""
        ...

    # --- reads -----------------------------------------------------------------------------------------
    def resolve_unit(self, key: str | None, vin: str | None) -> tuple[int, str, str | None] | None:
        """(id, key, VIN) of the unit with this VIN or canonical key."""
        ...

    def vehicle_market(self, unit_id: int) -> str | None:
        """The market of a vehicle (None for other units)."""
        ...

    def as_built(self, root: int, at: int | None) -> AsBuiltNode | None:
        """The tree under ``root`` at ``at``."""
        ...

    def where_used(self, target: int, at: int | None) -> WhereUsedResult:
        """Every top-level holder of ``target`` (at ``at``, or ever), rolled up by market and supplier."""
        ...

    def vehicle_children(
        self, asked: Sequence[tuple[str, int]], among: Collection[str] | None = None
    ) -> dict[tuple[str, int], tuple[AsBuiltNode, str | None]]:
        """Per (VIN, instant): the vehicle with its direct children then (only ``among`` when given), and its
        market (unknown VINs absent)."""
        ...

    def query_events(self, query: EventQuery) -> tuple[list[StoredEvent], PageToken | None]:
        """One page of events matching ``query``."""
        ...

    def has_events(self) -> bool:
        """True once any event is stored."""
        ...

    def event_by_id(self, event_id: str) -> StoredEvent | None:
        """The event with this eventID or hash ID."""
        ...

    def event_places(self, row_id: int) -> tuple[str | None, str | None, str]:
        """(bizLocation, readPoint, capturing actor) of a stored event."""
        ...

    def vehicle_in_markets(self, keys: Sequence[str], markets: Iterable[str]) -> bool:
        """True when one of ``keys`` is a vehicle sold or registered in one of ``markets``."""
        ...

    def capture_job(self, capture_id: str) -> tuple[dict[str, Any], str] | None:
        """The capture job document and its actor."""
        ...

    def capture_jobs(self, *, limit: int, actor_prefixes: tuple[str, ...] | None) -> list[dict[str, Any]]:
        """Recent capture jobs, newest first (of those actors only, if given)."""
        ...

    def event_values(self, column: str, *, after: str | None, limit: int, visibility: Visibility | None) -> list[str]:
        """Distinct values of an event column among the events ``visibility`` sees, in order, after ``after``
        (the REST bindings' top-level resources)."""
        ...

    def known_epcs(self, *, after: str | None, limit: int, visibility: Visibility | None) -> list[str]:
        """Canonical keys of instance EPCs named by the events ``visibility`` sees, in key order."""
        ...

    def revoke_page_token(self, digest: str, *, expires_at: int, now: int) -> None:
        """Remember a deleted nextPageToken until it expires; forget revocations of expired ones."""
        ...

    def page_token_revoked(self, digest: str) -> bool:
        """True when the nextPageToken with this digest was deleted."""
        ...


class TraceStore(Transactions[TraceRecords], Protocol):
    """Transactions on the trace tables, and what lives beside them for the life of the process."""

    #: True when the database engine runs inside this process (SQLite): its work competes for the GIL with
    #: any other thread here. False for a server, on whose answers the storing thread waits without it.
    in_process: bool

    def units_committed(self, units: Mapping[str, int]) -> None:
        """Units a committed capture created: known from now on without a look-up."""
        ...

    def units_rolled_back(self, keys: Iterable[str]) -> None:
        """Forget what a rolled-back transaction learnt of these units (their ids may not exist)."""
        ...

    def refresh_statistics(self) -> None:
        """Let the database's planner see how the tables grew during a bulk load."""
        ...
