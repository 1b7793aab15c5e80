"""Capture's rules as pure planning: what a parsed EPCIS document changes, decided from facts the store read.

Capture runs as parse (:mod:`roadpass.trace.capture`, pure) → read the facts these rules need (the store)
→ plan (this module, pure) → persist the plan (the store, no decisions). Each step below is a function of
its inputs only, so every EPCIS rule here is tested without a database:

* :func:`triage` — which events are new, which repeat a stored one (idempotent capture on the CBV 2.0 event
  hash ID), which reuse an eventID for a different event (refused), which declare an error on a stored
  event (EPCIS 2.0 §7.4.1.2);
* :func:`plan_events` — the event rows, the identifiers by role, the aggregation facts and the
  transformation links (EPCIS 2.0 §7.4.3, §7.4.5);
* :func:`plan_containment` — which containment links the aggregation facts close and open, and which
  children must be replayed from all their facts because a fact arrived out of time order;
* :func:`plan_declarations` — what an error declaration undoes;
* :func:`plan_markets` / :func:`plan_master_data` — where units were sold or registered, and which master
  data elements are new versions;
* :func:`capture_ledger` — what the capture's ledger entry records.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from roadpass.ledger.chain import Subject
from roadpass.trace.capture import MasterDataElement, ParsedCapture
from roadpass.trace.epcis.model import CapturedEvent, Role
from roadpass.trace.epcis.schema import SchemaProblem
from roadpass.trace.epcis.vocabulary import expand_vocabulary
from roadpass.trace.genealogy import Edge, LinkKind
from roadpass.trace.markets import MARKET_BIZ_STEPS
from roadpass.trace.timeutil import FOREVER, parse_time

__all__ = [
    "CAPTURE_RULE",
    "EVENT_COLUMNS",
    "CaptureOutcome",
    "CaptureProblem",
    "ContainmentPlan",
    "DeclarationFacts",
    "DeclarationPlan",
    "EventPlan",
    "Triage",
    "capture_ledger",
    "emptying_deletes",
    "market_locations",
    "newer_markets",
    "now_us",
    "plan_containment",
    "plan_declarations",
    "plan_events",
    "plan_markets",
    "plan_master_data",
    "rejection_ledger",
    "stored_units",
    "triage",
]

CAPTURE_RULE = "GS1 EPCIS 2.0 capture interface (§8.2.6 / REST POST /capture)"

#: The event row as the store keeps it (and as the ledger hashes it).
EVENT_COLUMNS = (
    "id", "event_id", "hash_id", "event_type", "event_time", "record_time", "action", "biz_step",
    "disposition", "read_point", "biz_location", "job_id", "doc",
)

_CONTAINS = int(LinkKind.CONTAINS)
_MADE_FROM = int(LinkKind.MADE_FROM)
_new_tuple = tuple.__new__  # builds the Edge named tuples without their Python-level __new__ (hot path)


def now_us() -> int:
    """Now, in UTC microseconds (record times, job times)."""
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class CaptureProblem:
    """Why one event (or the document) was left out: the JSON path, the reason, the event's index.

    ``conflict`` marks an eventID already used by a different event (a 409 on ``POST /events``).
    """

    path: str
    reason: str
    event_index: int | None = None
    conflict: bool = False

    @classmethod
    def of(cls, problem: SchemaProblem) -> CaptureProblem:
        """A schema or rule problem found while parsing."""
        return cls(problem.path, problem.reason, problem.event_index)

    def as_json(self) -> dict[str, Any]:
        """The problem as the capture job document lists it (EPCIS 2.0 REST bindings, ``CaptureJob.errors``:
        RFC 7807 problem bodies with ``epcisException`` types)."""
        out: dict[str, Any] = {
            "type": "epcisException:CaptureLimitExceededException" if self.conflict
            else "epcisException:ValidationException",
            "title": self.reason,
            "status": 409 if self.conflict else 400,
            "instance": self.path,
        }
        if self.event_index is not None:
            out["eventIndex"] = self.event_index
        return out


@dataclass(slots=True)
class CaptureOutcome:
    """What a capture stored; ``problems`` say which events were left out and why."""

    capture_id: str
    job_pk: int
    events: int = 0
    stored: int = 0
    duplicates: int = 0
    corrections: int = 0
    problems: list[CaptureProblem] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    new_units: dict[str, int] = field(default_factory=dict)
    ledger_seq: int | None = None

    @property
    def success(self) -> bool:
        """True when no event was left out."""
        return not self.problems

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The problems as the capture job document lists them."""
        return [p.as_json() for p in self.problems]


# --- triage ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Triage:
    """The events of a capture sorted by what happens to them."""

    fresh: list[CapturedEvent] = field(default_factory=list)
    declarations: list[tuple[CapturedEvent, int]] = field(default_factory=list)  # (event, stored target's pk)
    duplicates: int = 0
    corrections: int = 0
    problems: list[CaptureProblem] = field(default_factory=list)


def triage(
    events: Sequence[CapturedEvent], stored_ids: Mapping[str, tuple[int, str]], known_hashes: set[str]
) -> Triage:
    """Sort ``events`` given the stored eventIDs (eventID → (row id, hash ID)) and hash IDs among them.

    CBV 2.0 §8.9 makes the event hash ID a fingerprint of the event's content: a repeat of a stored hash
    is the same event and is counted, not stored again (at-least-once senders retry). An event carrying
    an ``errorDeclaration`` under a stored eventID corrects that event (EPCIS 2.0 §7.4.1.2). An eventID
    already used by a different event is refused.
    """
    out = Triage()
    seen: set[str] = set()
    fresh_ids: set[str] = set()
    for event in events:
        if event.error_declaration is not None and event.event_id in stored_ids:
            out.declarations.append((event, stored_ids[event.event_id][0]))
            out.corrections += 1
            continue
        if event.hash_id in known_hashes or event.hash_id in seen:
            out.duplicates += 1
            continue
        if event.event_id in stored_ids or event.event_id in fresh_ids:
            out.problems.append(CaptureProblem(
                f"$.epcisBody.eventList[{event.index}].eventID",
                f"eventID {event.event_id} is already used by a different event", event.index, conflict=True,
            ))
            continue
        seen.add(event.hash_id)
        fresh_ids.add(event.event_id)
        out.fresh.append(event)
    return out


# --- events -------------------------------------------------------------------------------------------------

#: An aggregation fact about a child: (child, time, event row id, action, parent).
AggregationFact = tuple[int, int, int, str, int]


@dataclass(slots=True)
class EventPlan:
    """The rows a capture's fresh events become, and the genealogy facts they carry."""

    event_rows: list[tuple[Any, ...]] = field(default_factory=list)  # laid out as EVENT_COLUMNS
    epc_rows: list[tuple[int, int, int]] = field(default_factory=list)  # (unit id, role, event row id)
    containment: list[AggregationFact] = field(default_factory=list)
    made_from: list[Edge] = field(default_factory=list)
    declared: list[tuple[CapturedEvent, int]] = field(default_factory=list)  # declared erroneous on arrival


def emptying_deletes(fresh: Iterable[CapturedEvent]) -> list[tuple[str, int]]:
    """(parent key, time) of each AggregationEvent DELETE naming no children: EPCIS 2.0 §7.4.3 makes it
    disaggregate every child, so the store is asked what the parent held then."""
    return [
        (event.parent, event.event_time) for event in fresh
        if event.event_type == "AggregationEvent" and event.parent is not None and event.action == "DELETE"
        and event.error_declaration is None and not event.keys(Role.CHILD)
    ]


def plan_events(
    fresh: Sequence[CapturedEvent], unit_ids: Mapping[str, int], *, first_pk: int, record_time: int, job_pk: int,
    held: Mapping[tuple[str, int], list[int]],
) -> EventPlan:
    """Rows for ``fresh`` events numbered from ``first_pk``; ``held`` answers :func:`emptying_deletes`."""
    plan = EventPlan()
    rows, epcs, containment, made_from = plan.event_rows, plan.epc_rows, plan.containment, plan.made_from
    for offset, event in enumerate(fresh):
        pk = first_pk + offset
        rows.append((
            pk, event.event_id, event.hash_id, event.event_type, event.event_time, record_time, event.action,
            event.biz_step, event.disposition, event.read_point, event.biz_location, job_pk, event.stored_json(),
        ))
        epcs.extend([(unit_ids[key], role, pk) for key, role in event.identifiers])
        if event.error_declaration is not None:
            # Declared erroneous on arrival: stored and queryable, but it shapes no genealogy.
            plan.declared.append((event, pk))
        elif event.event_type == "AggregationEvent" and event.parent is not None and event.action:
            parent_id = unit_ids[event.parent]
            kids = [unit_ids[k] for k in event.keys(Role.CHILD)]
            if not kids and event.action == "DELETE":
                kids = held[(event.parent, event.event_time)]
                epcs.extend((kid, int(Role.CHILD), pk) for kid in kids)
            action = str(event.action)
            containment.extend([(kid, event.event_time, pk, action, parent_id) for kid in kids])
        elif event.event_type == "TransformationEvent":
            # EPCIS 2.0 §7.4.5: every output was made from every input.
            inputs = [unit_ids[k] for k in event.keys(Role.INPUT, Role.INPUT_QUANTITY)]
            outputs = [unit_ids[k] for k in event.keys(Role.OUTPUT, Role.OUTPUT_QUANTITY)]
            at = event.event_time
            made_from.extend(
                _new_tuple(Edge, (out, src, _MADE_FROM, at, FOREVER, pk, None)) for out in outputs for src in inputs
            )
    return plan


# --- containment --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class ContainmentPlan:
    """Links to close ((link id, end, closing event row id)), links to open, children to replay whole."""

    closes: list[tuple[int, int, int]] = field(default_factory=list)
    opened: list[Edge] = field(default_factory=list)
    replay: set[int] = field(default_factory=set)


def plan_containment(
    facts: list[AggregationFact], last: Mapping[int, int], open_links: Mapping[int, tuple[int, int, int]],
    created: set[int],
) -> ContainmentPlan:
    """Plan a capture's aggregation facts against the stored state of their children.

    ``last``: each child's latest standing aggregation fact time; ``open_links``: child → (link id, parent,
    start) of its current containment; ``created``: units this capture created (no stored facts).
    EPCIS 2.0 §7.4.3: ADD puts a child in a parent, DELETE takes it out, OBSERVE confirms it is there.
    A child whose facts arrive before its latest stored one is replayed from all its facts instead.
    """
    plan = ContainmentPlan()
    if not facts:
        return plan
    facts.sort()  # by child, then time, then event: each child's facts form one ordered run
    count = len(facts)
    i = 0
    while i < count:
        child, at, event_pk, action, parent = facts[i]
        j = i + 1
        while j < count and facts[j][0] == child:
            j += 1
        if j == i + 1 and child not in last and child not in open_links and action != "DELETE":
            # The common case: a part's first containment ever (assembly).
            plan.opened.append(_new_tuple(Edge, (parent, child, _CONTAINS, at, FOREVER, event_pk, None)))
        elif child in plan.replay or (child in last and at < last[child]):
            plan.replay.add(child)
        else:
            _plan_child(child, facts[i:j], open_links.get(child), plan)
        i = j
    plan.opened = [e for e in plan.opened if e.start < e.end]
    return plan


def _plan_child(
    child: int, facts: list[AggregationFact], current: tuple[int, int, int] | None, plan: ContainmentPlan
) -> None:
    """One child's facts, in time order, against its current containment (link id, parent, start)."""
    pending: tuple[int, int, int] | None = None  # (parent, start, event)
    for _child, at, event_pk, action, parent in facts:
        holder = pending[0] if pending else (current[1] if current else None)
        if action in ("ADD", "OBSERVE"):
            if holder == parent:
                continue
            if pending is not None:
                plan.opened.append(Edge(pending[0], child, _CONTAINS, pending[1], at, pending[2], event_pk))
            elif current is not None:
                plan.closes.append((current[0], at, event_pk))
                current = None
            pending = (parent, at, event_pk)
        elif action == "DELETE" and holder == parent:
            if pending is not None:
                plan.opened.append(Edge(pending[0], child, _CONTAINS, pending[1], at, pending[2], event_pk))
                pending = None
            elif current is not None:
                plan.closes.append((current[0], at, event_pk))
                current = None
    if pending is not None:
        plan.opened.append(Edge(pending[0], child, _CONTAINS, pending[1], FOREVER, pending[2], None))


# --- error declarations ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeclarationFacts:
    """What the store holds of an event an error is declared on."""

    declared: bool  # an error was declared on it before
    event_type: str
    units: tuple[tuple[int, int], ...]  # (unit id, role)


@dataclass(slots=True)
class DeclarationPlan:
    """Declaration rows, the children whose containment is replayed without the event, the transformation
    events whose made-from links go, and the units whose market is recomputed."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    replay: set[int] = field(default_factory=set)
    unlink: list[int] = field(default_factory=list)
    market_units: set[int] = field(default_factory=set)


def plan_declarations(
    declarations: Sequence[tuple[CapturedEvent, int]], facts: Mapping[int, DeclarationFacts], job_pk: int
) -> DeclarationPlan:
    """EPCIS 2.0 §7.4.1.2: a declared error takes the event out of the genealogy and market it shaped; the
    event itself stays stored and queryable with its declaration. A second declaration is not recorded."""
    plan = DeclarationPlan()
    done: set[int] = set()
    for event, target_pk in declarations:
        found = facts[target_pk]
        if found.declared or target_pk in done:
            continue
        done.add(target_pk)
        declaration = event.error_declaration or {}
        reason = declaration.get("reason")
        plan.rows.append((
            target_pk,
            _declared_time(declaration, event.event_time),
            expand_vocabulary("errorReason", str(reason)) if reason else None,
            orjson.dumps(declaration.get("correctiveEventIDs") or []).decode(),
            orjson.dumps(declaration).decode(),
            job_pk,
        ))
        if found.event_type == "AggregationEvent":
            plan.replay.update(u for u, r in found.units if r == Role.CHILD)
        if found.event_type == "TransformationEvent":
            plan.unlink.append(target_pk)
        plan.market_units.update(u for u, r in found.units if r in (Role.EPC, Role.PARENT, Role.CHILD))
    return plan


def _declared_time(declaration: Mapping[str, Any], fallback: int) -> int:
    value = declaration.get("declarationTime")
    return parse_time(str(value), "errorDeclaration.declarationTime") if value else fallback


# --- markets and master data ------------------------------------------------------------------------------------


def market_locations(fresh: Iterable[CapturedEvent]) -> list[CapturedEvent]:
    """Fresh events that set a market: a sale or registration at a known location (see :mod:`.markets`)."""
    return [e for e in fresh if e.biz_step in MARKET_BIZ_STEPS and e.biz_location]


def plan_markets(
    events: Iterable[CapturedEvent], unit_ids: Mapping[str, int], countries: Mapping[str, str]
) -> dict[int, tuple[str, int]]:
    """Unit → (country, time) of its latest sale or registration among ``events``; ``countries`` gives the
    country of each business location from master data (locations without one set no market)."""
    changes: dict[int, tuple[str, int]] = {}
    for event in events:
        country = countries.get(event.biz_location or "")
        if country is None:
            continue
        for key in event.keys(Role.EPC, Role.PARENT, Role.CHILD):
            unit = unit_ids[key]
            if unit not in changes or changes[unit][1] <= event.event_time:
                changes[unit] = (country, event.event_time)
    return changes


def newer_markets(changes: Mapping[int, tuple[str, int]], recorded: Mapping[int, int]) -> dict[int, tuple[str, int]]:
    """The changes not older than the market each unit has (``recorded``: unit → when it was set): facts may
    arrive out of time order, and a unit's market is where it was sold or registered last."""
    return {unit: change for unit, change in changes.items() if recorded.get(unit, change[1]) <= change[1]}


def plan_master_data(
    elements: Iterable[MasterDataElement], current: Mapping[tuple[str, str], tuple[int, str]], job_pk: int
) -> list[tuple[Any, ...]]:
    """New master data versions: an element whose attributes differ from its current version (``current``:
    (vocabulary type, key) → (version, canonical attributes JSON)) becomes version n + 1; EPCIS 2.0 §6.5
    lets master data change over time, and the history is kept."""
    rows: list[tuple[Any, ...]] = []
    latest = dict(current)
    for element in elements:
        attributes = orjson.dumps(element.attributes, option=orjson.OPT_SORT_KEYS).decode()
        ident = (element.vocabulary_type, element.key)
        found = latest.get(ident)
        if found is not None and found[1] == attributes:
            continue
        version = 1 if found is None else found[0] + 1
        latest[ident] = (version, attributes)
        rows.append((element.vocabulary_type, element.key, version, element.name, element.country, attributes, job_pk))
    return rows


# --- the ledger -------------------------------------------------------------------------------------------------


def capture_ledger(job_pk: int) -> tuple[str, str, tuple[Subject, ...]]:
    """(action, rule, subjects) of a capture's ledger entry: the job and every row it wrote."""
    return "epcis.capture", CAPTURE_RULE, (
        Subject("capture_job", "id", job_pk),
        Subject("epcis_event", "job_id", job_pk),
        Subject("error_declaration", "job_id", job_pk),
        Subject("vocabulary_element", "job_id", job_pk),
    )


def rejection_ledger(job_pk: int) -> tuple[str, str, tuple[Subject, ...]]:
    """(action, rule, subjects) of the ledger entry of a capture that stored nothing."""
    return "epcis.capture.rejected", CAPTURE_RULE, (Subject("capture_job", "id", job_pk),)


def stored_units(parsed: ParsedCapture, unit_ids: Mapping[str, int], created: set[int]) -> dict[str, int]:
    """The units this capture created, by key (remembered once the transaction commits)."""
    return {key: unit_ids[key] for key in parsed.units if unit_ids[key] in created}
