"""As-built genealogy: which unit contains, or was made from, which, and when.

Two kinds of link, both derived from EPCIS events:

* **contains** (AggregationEvent ADD / OBSERVE / DELETE): physical containment during a half-open interval
  ``[start, end)``. A child is in at most one parent at a time: adding it to another parent closes the old
  link at that instant (a pack moved from one vehicle to another is no longer in the first).
* **made from** (TransformationEvent): the output was made from the input, instance or class (cell lot),
  from the transformation onward and for good.

Where-used (a recall's blast radius) answers with two kinds of holder of the queried unit or lot:

* **vehicles** (units with a VIN): every vehicle that ever held it, at any depth, with every interval during
  which it did, whether or not the vehicle itself sat in something (a car on a transporter is still the car
  a recall notice goes to);
* **other units at the top of the chain**: a unit without a VIN is at the top of the chain at an instant when
  it holds the target (at any depth) and has no parent itself (EPCIS 2.0 §7.4.3: no open AggregationEvent
  ADD names it as a child, and it is no TransformationEvent input). Such a unit answers for the intervals of
  top-level holding that end because it let go of the target (a DELETE, or the target moved elsewhere) or
  that have not ended: a pack assembled into a unit identified by an SGTIN and later swapped out leaves that
  unit a recall target with its closed interval, like a vehicle that carried the pack. An interval that ends
  because the unit itself was put into a parent while still holding the target is not an answer of its own:
  the target moved on with the unit, so the new top of the chain (the vehicle) answers from then on and
  reaches the same physical unit; listing the earlier interval would add every module and pack's time in
  stock between manufacturing steps to every lot recall. With an instant ``at``, the answer is the vehicles
  holding the target then and the units at the top of its chain then, each with the interval around ``at``.

This module is plain Python: it replays containment facts and states the where-used rule over edges that
the store hands it (:func:`where_used_spans`, :func:`holder_spans`). The store runs the same rules in bulk.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import NamedTuple, overload

from roadpass.trace.timeutil import FOREVER

__all__ = [
    "AsBuiltNode",
    "ContainmentStep",
    "Edge",
    "HitPosition",
    "LinkKind",
    "Span",
    "TopLevelHit",
    "WhereUsedHit",
    "WhereUsedPage",
    "WhereUsedResult",
    "containment_history",
    "holder_spans",
    "intersect",
    "normalise",
    "ranked",
    "subtract",
    "supplier_of",
    "where_used_spans",
]

BEGINNING = -FOREVER


class LinkKind(IntEnum):
    """How a parent relates to a child."""

    CONTAINS = 1
    MADE_FROM = 2


class Span(NamedTuple):
    """A half-open interval of time ``[start, end)`` in UTC microseconds; ``end == FOREVER`` is open.

    A named tuple (ordered by start, then end): where-used builds thousands per answer."""

    start: int
    end: int

    def contains(self, instant: int) -> bool:
        """True when ``instant`` falls inside the span."""
        return self.start <= instant < self.end


def normalise(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-empty, non-overlapping spans covering the same instants."""
    ordered = sorted(s for s in spans if s.start < s.end)
    out: list[Span] = []
    for span in ordered:
        if out and span.start <= out[-1].end:
            if span.end > out[-1].end:
                out[-1] = Span(out[-1].start, span.end)
        else:
            out.append(span)
    return out


def intersect(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Instants in both (inputs normalised)."""
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i].start, b[j].start)
        end = min(a[i].end, b[j].end)
        if start < end:
            out.append(Span(start, end))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    """Instants in ``a`` but not in ``b`` (inputs normalised)."""
    out: list[Span] = []
    for span in a:
        start = span.start
        for cut in b:
            if cut.end <= start or cut.start >= span.end:
                continue
            if cut.start > start:
                out.append(Span(start, cut.start))
            start = max(start, cut.end)
            if start >= span.end:
                break
        if start < span.end:
            out.append(Span(start, span.end))
    return out


@dataclass(frozen=True, slots=True)
class ContainmentStep:
    """One aggregation fact about a child: at ``time`` the event ``event`` did ``action`` with ``parent``."""

    time: int
    event: int
    action: str  # "ADD" | "OBSERVE" | "DELETE"
    parent: int


class Edge(NamedTuple):
    """A genealogy link as stored: ``parent`` contains / was made from ``child`` during ``[start, end)``.

    A named tuple, not a dataclass: capture builds one per link, hundreds of thousands per second.
    """

    parent: int
    child: int
    kind: int  # a LinkKind value
    start: int
    end: int
    event: int = 0
    closed_by: int | None = None


def containment_history(child: int, steps: Iterable[ContainmentStep]) -> list[Edge]:
    """Replay a child's aggregation facts in time order into containment edges.

    EPCIS 2.0 §7.4.3: ADD puts the child in the parent; DELETE takes it out; OBSERVE confirms it is there
    (roadpass treats an OBSERVE of an unknown containment as evidence that it began then).
    """
    edges: list[Edge] = []
    current: tuple[int, int, int] | None = None  # parent, start, event
    for step in sorted(steps, key=lambda s: (s.time, s.event)):
        if step.action in ("ADD", "OBSERVE"):
            if current is not None and current[0] == step.parent:
                continue
            if current is not None:
                edges.append(Edge(current[0], child, LinkKind.CONTAINS, current[1], step.time, current[2], step.event))
            current = (step.parent, step.time, step.event)
        elif step.action == "DELETE" and current is not None and current[0] == step.parent:
            edges.append(Edge(current[0], child, LinkKind.CONTAINS, current[1], step.time, current[2], step.event))
            current = None
    if current is not None:
        edges.append(Edge(current[0], child, LinkKind.CONTAINS, current[1], FOREVER, current[2], None))
    return [e for e in edges if e.start < e.end]


@dataclass(frozen=True, slots=True)
class TopLevelHit:
    """A unit that answers a where-used question (a vehicle, or a unit at the top of the chain), the spans
    for which it does, and the units right below it through which it held the target."""

    unit: int
    spans: tuple[Span, ...]
    via: frozenset[int] = frozenset()


def holder_spans(holding: Sequence[Span], parents: Sequence[Span], at: int | None = None) -> list[Span]:
    """The intervals for which a unit without a VIN answers where-used (see the module docstring).

    ``holding``: when the unit held the target (normalised); ``parents``: when it sat in a parent itself
    (normalised, every up-link: containment and made-from). Without ``at``: each interval of top-level
    holding that ends where the holding ends (the unit let go, or still holds it), not where the unit was
    put into a parent. With ``at``: the interval of top-level holding around ``at``, if any.
    """
    free = subtract(holding, parents)
    if at is not None:
        return [span for span in free if span.contains(at)]
    ends = {span.end for span in holding}
    return [span for span in free if span.end in ends]


def where_used_spans(
    target: int, up_edges: Mapping[int, Sequence[Edge]], vehicles: Container[int], at: int | None = None
) -> list[TopLevelHit]:
    """The where-used rule stated in plain Python: every vehicle that held ``target`` (at any depth) with
    when, and every other unit at the top of its chain per :func:`holder_spans`; with ``at``, only links
    valid at ``at`` are followed.

    ``up_edges[n]`` are the edges in which ``n`` is the child. A made-from edge passes holding on from the
    transformation onward; a containment edge only during its span. The store's index and the reference
    SQL in the tests compute the same answer in bulk.
    """
    holding: dict[int, list[Span]] = {target: [Span(BEGINNING, FOREVER)]}
    below: dict[int, dict[int, list[Span]]] = defaultdict(dict)  # unit -> unit below -> when through it
    work = [target]
    while work:
        node = work.pop()
        spans = holding[node]
        for edge in up_edges.get(node, ()):
            if at is not None and not edge.start <= at < edge.end:
                continue
            reach = intersect(spans, [Span(edge.start, edge.end)])
            if not reach:
                continue
            before = holding.get(edge.parent, [])
            merged = normalise([*before, *reach])
            below[edge.parent][node] = normalise([*below[edge.parent].get(node, []), *reach])
            if merged != before:
                holding[edge.parent] = merged
                work.append(edge.parent)
    hits: list[TopLevelHit] = []
    for unit, spans in holding.items():
        if unit == target:
            continue
        if unit not in vehicles:
            parents = normalise(Span(e.start, e.end) for e in up_edges.get(unit, ()))
            spans = holder_spans(spans, parents, at)
        if spans:
            via = frozenset(n for n, through in below[unit].items() if intersect(through, spans))
            hits.append(TopLevelHit(unit, tuple(spans), via))
    hits.sort(key=lambda h: h.unit)
    return hits


@dataclass(slots=True)
class AsBuiltNode:
    """One node of an as-built tree: the unit, how it hangs under its parent, since when, its children."""

    key: str
    kind: LinkKind | None = None
    since: int | None = None
    until: int | None = None
    vin: str | None = None
    children: list[AsBuiltNode] = field(default_factory=list)

    def count(self) -> int:
        """Nodes in this subtree, itself included."""
        return 1 + sum(child.count() for child in self.children)

    def keys(self) -> set[str]:
        """Every unit key in this subtree."""
        out = {self.key}
        for child in self.children:
            out |= child.keys()
        return out


class WhereUsedHit(NamedTuple):
    """A top-level unit (usually a vehicle) that contains or contained the queried unit or lot.

    A named tuple: a recall answer for a big lot holds thousands of them."""

    key: str
    vin: str | None
    market: str | None
    spans: tuple[Span, ...]
    via: tuple[str, ...]
    suppliers: tuple[str, ...] = ()

    @property
    def current(self) -> bool:
        """True when the containment is still open now."""
        return any(span.end == FOREVER for span in self.spans)


def ranked(counts: Mapping[str, int]) -> dict[str, int]:
    """Counts most first, ties by name (one stable order for reports and comparisons)."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class HitPosition(NamedTuple):
    """Where a hit sits in a where-used answer's order: vehicles by (VIN, key), then other holders by key.

    Pages of an answer are keyed on it, so a page boundary stays put when hits come or go between pages."""

    vin: str | None
    key: str

    @classmethod
    def of(cls, hit: WhereUsedHit) -> HitPosition:
        """The position of ``hit``."""
        return cls(hit.vin, hit.key)


class WhereUsedPage(NamedTuple):
    """One page of a where-used answer and where the next page starts after (None: the last page)."""

    hits: list[WhereUsedHit]
    after: HitPosition | None


class WhereUsedResult(Sequence[WhereUsedHit]):
    """A where-used answer: the hits in order (vehicles by VIN, then other top-level holders by key) and
    the recall's roll-ups — how many vehicles ever and now, by market, by supplier of the unit directly
    below the vehicle.

    The counts, the VIN list and the roll-ups are computed with the answer; the hit tuples are built on
    first access, and :meth:`page` builds only the hits of the page asked for. A recall over a big lot is
    usually read as counts and roll-ups first and paged through after, and building thousands of tuples
    costs more than the rest of the answer.
    """

    __slots__ = (
        "_build", "_count", "_hits", "_key_list", "_keys", "by_market", "by_supplier", "vehicles_now", "vins",
    )

    def __init__(
        self,
        *,
        count: int,
        vins: list[str],
        vehicles_now: int,
        by_market: dict[str, int],
        by_supplier: dict[str, int],
        build: Callable[[int, int], list[WhereUsedHit]],
        keys: Callable[[], list[str]],
    ) -> None:
        self._count = count
        self._hits: list[WhereUsedHit] | None = None
        self._build = build  # (start, stop) -> the hits in that range of the order
        self._keys = keys  # the hits' keys, in order (read once, on the first page after the first)
        self._key_list: list[str] | None = None
        #: VINs of the vehicles hit, in hit order.
        self.vins = vins
        #: Vehicles holding the unit or lot now.
        self.vehicles_now = vehicles_now
        #: Vehicles per market (country last sold or registered; "unknown" when none), most first.
        self.by_market = by_market
        #: Vehicles per supplier party of the unit below the vehicle ("unknown" when none), most first.
        self.by_supplier = by_supplier

    @classmethod
    def from_hits(cls, hits: Iterable[WhereUsedHit]) -> WhereUsedResult:
        """A result over hits already built, in answer order (a filtered answer, a small reference answer)."""
        kept = list(hits)
        vehicles = [h for h in kept if h.vin]
        return cls(
            count=len(kept),
            vins=[h.vin for h in vehicles if h.vin],
            vehicles_now=sum(1 for h in vehicles if h.current),
            by_market=ranked(Counter(h.market or "unknown" for h in vehicles)),
            by_supplier=ranked(Counter(s for h in vehicles for s in (h.suppliers or ("unknown",)))),
            build=lambda start, stop: kept[start:stop],
            keys=lambda: [h.key for h in kept],
        )

    @classmethod
    def empty(cls) -> WhereUsedResult:
        """No unit holds or held it."""
        return cls.from_hits(())

    @property
    def vehicles(self) -> int:
        """How many vehicles hold or held the unit or lot."""
        return len(self.vins)

    def _all(self) -> list[WhereUsedHit]:
        if self._hits is None:
            self._hits = self._build(0, self._count)
        return self._hits

    def start_after(self, position: HitPosition) -> int:
        """Index of the first hit that comes after ``position`` in the answer's order."""
        if self._key_list is None:
            self._key_list = self._keys()
        keys = self._key_list
        vehicles = len(self.vins)
        if position.vin is None:  # past every vehicle, among the other holders (ordered by key)
            return bisect_right(keys, position.key, lo=vehicles)
        vins = self.vins
        return bisect_right(range(vehicles), (position.vin, position.key), key=lambda i: (vins[i], keys[i]))

    def page(self, after: HitPosition | None, size: int) -> WhereUsedPage:
        """At most ``size`` hits from just after ``after`` (from the start when None), building only those."""
        start = 0 if after is None else self.start_after(after)
        stop = min(start + max(size, 0), self._count)
        hits = self._hits[start:stop] if self._hits is not None else self._build(start, stop)
        more = stop < self._count and bool(hits)
        return WhereUsedPage(hits, HitPosition.of(hits[-1]) if more else None)

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> WhereUsedHit: ...

    @overload
    def __getitem__(self, index: slice) -> list[WhereUsedHit]: ...

    def __getitem__(self, index: int | slice) -> WhereUsedHit | list[WhereUsedHit]:
        return self._all()[index]

    def __iter__(self) -> Iterator[WhereUsedHit]:
        return iter(self._all())

    def __repr__(self) -> str:
        return f"WhereUsedResult({self._count} hits, {self.vehicles} vehicles, {self.vehicles_now} now)"


def supplier_of(key: str, suppliers: Mapping[str, str] | None) -> str | None:
    """The party whose GS1 company prefix starts the key's digits (longest prefix wins: GS1 General
    Specifications §1.4.2, company prefixes are 4 to 12 digits long and none is a prefix of another's key)."""
    if not suppliers:
        return None
    digits = _key_digits(key)
    if digits is None:
        return None
    for length in range(12, 3, -1):
        name = suppliers.get(digits[:length])
        if name is not None:
            return name
    return None


def _key_digits(key: str) -> str | None:
    # https://id.gs1.org/01/<gtin14>/... : the company prefix follows the indicator digit.
    # https://id.gs1.org/00/<sscc18>     : follows the extension digit.
    # https://id.gs1.org/8004/<giai>     : starts the key.
    parts = key.split("/")
    if len(parts) < 5 or not key.startswith("https://id.gs1.org/"):
        return None
    ai, value = parts[3], parts[4]
    if ai in ("01", "00"):
        return value[1:]
    return value
