"""The service-record service: record work orders (their part swaps through the trace capture path) and read
a vehicle's service history.

Recording runs: parse (pure, :mod:`roadpass.aftermarket.service.model`) → check each work order against the
genealogy (the removed part was in that vehicle at that time: one read for the whole batch; the fitted part
was in no other vehicle) → capture the part swaps as one EPCIS document
(:mod:`roadpass.aftermarket.service.repair_events`) through :meth:`roadpass.trace.service.TraceService.capture`,
so as-built, where-used and the battery passports learn of them exactly as of any other event → store the
records and one ledger entry in one transaction.
The capture's event IDs are derived from the record keys, so a batch re-sent after a failure between the
two transactions captures nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from roadpass.aftermarket.service.model import WorkOrder, WorkOrderInvalid, WorkOrderProblem
from roadpass.aftermarket.service.ports import ServiceRecordRow, ServiceRecords
from roadpass.aftermarket.service.repair_events import repair_document
from roadpass.ports import Transactions
from roadpass.trace.genealogy import AsBuiltNode
from roadpass.trace.query import Visibility
from roadpass.trace.service import CaptureFailed, TraceService, UnitNotFound
from roadpass.trace.timeutil import iso_utc, to_us

__all__ = ["RULE", "RecordOutcome", "ServiceRecordService"]

#: What a service record is written under (the ledger entry's rule).
RULE = (
    "roadpass service record: the repairer's work order; part swaps as EPCIS 2.0 AggregationEvents "
    "(§7.4.3 ADD/DELETE) with CBV 2.0 bizStep repairing"
)


#: From how many fitted parts a batch reads their holders with several threads, and how many threads.
_PARALLEL_FROM = 16
_READERS = 3


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What became of a batch of work orders: how many were stored now, how many were already stored (the
    same record key re-sent), the EPCIS capture that carried the part swaps and the ledger entry."""

    stored: int
    already_recorded: int
    capture_id: str | None
    events: int
    ledger_seq: int | None
    record_keys: tuple[str, ...]


class ServiceRecordService:
    """Record work orders and answer a vehicle's service history."""

    def __init__(self, records: Transactions[ServiceRecords], trace: TraceService) -> None:
        self.records = records
        self.trace = trace

    # ------------------------------------------------------------------------------------ writes

    def record(self, order: WorkOrder, *, actor: str, visibility: Visibility | None = None) -> RecordOutcome:
        """Record one work order (see :meth:`record_many`); problems are named with paths under ``$``."""
        try:
            return self.record_many([order], actor=actor, visibility=visibility)
        except WorkOrderInvalid as exc:
            raise WorkOrderInvalid([WorkOrderProblem("$" + p.path.removeprefix("$[0]"), p.reason)
                                    for p in exc.problems]) from None

    def record_many(
        self, orders: Sequence[WorkOrder], *, actor: str, visibility: Visibility | None = None
    ) -> RecordOutcome:
        """Record a batch of work orders: all or none. Their part swaps are captured as one EPCIS document
        (one transaction), then the records and one ledger entry are stored (one transaction).

        :class:`WorkOrderInvalid` names each problem as ``$[i].field``; :class:`roadpass.trace.service.Hidden`
        when ``visibility`` does not see a vehicle."""
        problems: list[WorkOrderProblem] = []
        seen: set[str] = set()
        for i, order in enumerate(orders):
            if order.record_key in seen:
                problems.append(WorkOrderProblem(f"$[{i}].recordKey", "is given twice in this batch"))
            seen.add(order.record_key)
        with self.records.read() as records:
            stored = records.by_keys(sorted(seen))
        fresh: list[WorkOrder] = []
        for i, order in enumerate(orders):
            before = stored.get(order.record_key)
            if before is None:
                fresh.append(order)
            elif (before.vin, before.performed_at) != (order.vin, order.performed_at):
                problems.append(WorkOrderProblem(f"$[{i}].recordKey", "is already used by another work order"))
        trees = self._trees(orders, visibility, problems)
        vehicles = {tree.vin or "": tree.key for tree in trees.values()}
        self._check_parts(orders, fresh, trees, problems, visibility)
        if problems:
            raise WorkOrderInvalid(problems)
        return self._store(fresh, len(orders) - len(fresh), vehicles, actor)

    def _trees(
        self, orders: Sequence[WorkOrder], visibility: Visibility | None, problems: list[WorkOrderProblem]
    ) -> dict[tuple[str, int], AsBuiltNode]:
        """Per (VIN, time of the work), for every work order of the batch: the vehicle with those of its
        direct children then that a work order of the batch removes, read in one statement
        (:meth:`TraceService.vehicles_children_at`); a problem for each VIN no vehicle carries.
        :class:`roadpass.trace.service.Hidden` when ``visibility`` does not see one."""
        asked = [(order.vin, order.performed_at) for order in orders]
        # Only the removed parts are looked for among each vehicle's direct children (dozens of them).
        removed = {part for order in orders for part in order.removed}
        trees = self.trace.vehicles_children_at(asked, among=removed, visibility=visibility)
        for i, item in enumerate(asked):
            if item not in trees:
                problems.append(WorkOrderProblem(f"$[{i}].vin", f"no vehicle with VIN {item[0]} is known"))
        return trees

    def _check_parts(
        self, orders: Sequence[WorkOrder], fresh: Sequence[WorkOrder], trees: dict[tuple[str, int], AsBuiltNode],
        problems: list[WorkOrderProblem], visibility: Visibility | None,
    ) -> None:
        """The genealogy must agree with each new work order: a removed part sat directly in that vehicle at
        the time of the work (or was fitted to it earlier in this batch); a fitted part sat in no vehicle."""
        index = {id(order): i for i, order in enumerate(orders)}
        holders = self._holders([(part, order.performed_at) for order in fresh for part in order.fitted])
        fitted_here: dict[str, tuple[str, int]] = {}  # part -> (VIN, time) fitted earlier in this batch
        whole: dict[tuple[str, int], AsBuiltNode] = {}

        def whole_tree(order: WorkOrder) -> AsBuiltNode:
            """The vehicle as built at the time of the work, at every depth, as the caller sees it: read only
            to explain a refusal, once per vehicle and time."""
            at = (order.vin, order.performed_at)
            if at not in whole:
                whole[at] = self.trace.as_built(order.vin, order.performed_at, visibility=visibility)
            return whole[at]

        for order in sorted(fresh, key=lambda o: o.performed_at):
            i = index[id(order)]
            tree = trees.get((order.vin, order.performed_at))
            if tree is None:
                continue  # the VIN is unknown: already said
            for j, swap in enumerate(order.parts):
                if swap.removed is not None:
                    reason = _removal_problem(swap.removed, order, tree, fitted_here.get(swap.removed), whole_tree)
                    if reason:
                        problems.append(WorkOrderProblem(f"$[{i}].parts[{j}].removed", reason))
                    fitted_here.pop(swap.removed, None)
                if swap.fitted is not None:
                    reason = _fitting_problem(order, fitted_here.get(swap.fitted),
                                              holders[(swap.fitted, order.performed_at)])
                    if reason:
                        problems.append(WorkOrderProblem(f"$[{i}].parts[{j}].fitted", reason))
                    fitted_here[swap.fitted] = (order.vin, order.performed_at)

    def _holders(self, asked: Sequence[tuple[str, int]]) -> dict[tuple[str, int], list[str]]:
        """Per (part, instant): the VINs of the vehicles holding the part then (none for a part never seen:
        capture records it from now on); read by a few threads for a batch."""

        def read(item: tuple[str, int]) -> list[str]:
            part, at = item
            try:
                _unit, hits = self.trace.where_used(part, at)
            except UnitNotFound:
                return []
            return [hit.vin for hit in hits if hit.vin and any(s.start <= at < s.end for s in hit.spans)]

        if len(asked) >= _PARALLEL_FROM:
            with ThreadPoolExecutor(max_workers=_READERS) as pool:
                return dict(zip(asked, pool.map(read, asked), strict=True))
        return {item: read(item) for item in asked}

    def _store(
        self, fresh: Sequence[WorkOrder], repeated: int, vehicles: dict[str, str], actor: str
    ) -> RecordOutcome:
        capture_id: str | None = None
        events = 0
        for chunk in _chunks([o for o in fresh if o.parts], self.trace.max_events):
            document = repair_document(chunk, vehicles, created=to_us(datetime.now(UTC)))
            try:
                outcome = self.trace.capture(document, actor=actor)
            except CaptureFailed as failed:
                raise WorkOrderInvalid([WorkOrderProblem(p.path, p.reason) for p in failed.problems]) from None
            capture_id, events = capture_id or outcome.capture_id, events + outcome.stored + outcome.duplicates
        seq: int | None = None
        if fresh:
            with self.records.write() as records:
                stamp = records.insert(fresh, actor=actor)
                seq = records.ledgered(actor=actor, action="service.record", rule=RULE, recorded_at=stamp)
        return RecordOutcome(len(fresh), repeated, capture_id, events, seq, tuple(o.record_key for o in fresh))

    # ------------------------------------------------------------------------------------ reads

    def history(self, vin: str, *, visibility: Visibility | None = None, limit: int = 50) -> list[ServiceRecordRow]:
        """The vehicle's service records, latest work first; :class:`roadpass.trace.service.Hidden` when
        ``visibility`` does not see the vehicle, :class:`UnitNotFound` when no vehicle has that VIN."""
        unit = self.trace.resolve(vin, visibility=visibility)
        with self.records.read() as records:
            return records.history(unit.vin or vin, limit=limit)

    def get(self, record_key: str, *, visibility: Visibility | None = None) -> ServiceRecordRow:
        """One record by key; :class:`LookupError` when unknown, ``Hidden`` when its vehicle is not visible."""
        with self.records.read() as records:
            row = records.by_keys([record_key]).get(record_key)
        if row is None:
            raise LookupError(f"no service record {record_key!r}")
        if visibility is not None:
            self.trace.resolve(row.vin, visibility=visibility)
        return row


def _chunks(orders: Sequence[WorkOrder], most_events: int) -> list[list[WorkOrder]]:
    """The orders in runs whose repair events fit in one capture (the node's capture limit): usually one."""
    out: list[list[WorkOrder]] = []
    size = most_events + 1
    for order in orders:
        events = len(order.parts) + sum(1 for p in order.parts if p.removed and p.fitted)
        if size + events > most_events:
            out.append([])
            size = 0
        out[-1].append(order)
        size += events
    return out


def _fitting_problem(order: WorkOrder, earlier: tuple[str, int] | None, holders: Sequence[str]) -> str | None:
    """Why fitting a part to ``order``'s vehicle contradicts the genealogy (None when it does not)."""
    if earlier is not None:
        return f"is fitted to {earlier[0]} earlier in this batch"
    if holders:
        where = "this vehicle already" if order.vin in holders else f"vehicle {holders[0]}"
        return f"sits in {where} at {iso_utc(order.performed_at)} per the genealogy; record its removal there first"
    return None


def _removal_problem(
    part: str, order: WorkOrder, tree: AsBuiltNode, earlier: tuple[str, int] | None,
    whole: Callable[[WorkOrder], AsBuiltNode],
) -> str | None:
    """Why removing ``part`` from ``order``'s vehicle contradicts the genealogy (None when it does not).
    ``tree`` holds the vehicle's direct children at the time of the work; ``whole`` reads every depth."""
    if earlier is not None:
        return None if earlier[0] == order.vin else f"is fitted to {earlier[0]} earlier in this batch"
    if any(child.key == part for child in tree.children):  # the vehicle's direct children at that time
        return None
    inside = whole(order).keys()  # every unit of the tree, at any depth
    if part in inside:
        return "sits inside another part of this vehicle, not directly in it: record the work on that part"
    return f"was not in vehicle {order.vin} at {iso_utc(order.performed_at)} per the genealogy"
