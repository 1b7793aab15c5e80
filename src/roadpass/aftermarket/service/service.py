"""The service-record service: record work orders (their part swaps through the trace capture path) and read
a vehicle's service history.

Recording runs: parse (pure, :mod:`roadpass.aftermarket.service.model`) → check each work order against the
genealogy (the removed part was in that vehicle at that time, the fitted part was in no other vehicle) →
capture the part swaps as one EPCIS document (:mod:`roadpass.aftermarket.service.repair_events`) through
:meth:`roadpass.trace.service.TraceService.capture`, so as-built, where-used and the battery passports
learn of them exactly as of any other event → store the records and one ledger entry in one transaction.
The capture's event IDs are derived from the record keys, so a batch re-sent after a failure between the
two transactions captures nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
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


#: From how many work orders a batch reads its vehicles' trees with several threads, and how many.
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
        trees = self._trees(orders, fresh, visibility, problems)
        vehicles = self._vehicles(orders, trees, visibility, problems)
        self._check_parts(orders, fresh, trees, problems)
        if problems:
            raise WorkOrderInvalid(problems)
        return self._store(fresh, len(orders) - len(fresh), vehicles, actor)

    def _trees(
        self, orders: Sequence[WorkOrder], fresh: Sequence[WorkOrder], visibility: Visibility | None,
        problems: list[WorkOrderProblem],
    ) -> dict[int, AsBuiltNode]:
        """The vehicle as built at the time of each new work order that removes a part (by ``id(order)``).

        The trees of a batch are read by a few threads at once: each read is one recursive SQL statement,
        during which the database driver lets other threads run."""
        index = {id(order): i for i, order in enumerate(orders)}
        removing = [order for order in fresh if order.removed]

        def read(order: WorkOrder) -> AsBuiltNode | None:
            try:
                return self._tree_at(order, visibility)
            except UnitNotFound:
                return None

        if len(removing) >= _PARALLEL_FROM:
            with ThreadPoolExecutor(max_workers=_READERS) as pool:
                found = list(pool.map(read, removing))
        else:
            found = [read(order) for order in removing]
        trees: dict[int, AsBuiltNode] = {}
        for order, tree in zip(removing, found, strict=True):
            if tree is None:
                problems.append(WorkOrderProblem(f"$[{index[id(order)]}].vin",
                                                 f"no vehicle with VIN {order.vin} is known"))
            else:
                trees[id(order)] = tree
        return trees

    def _tree_at(self, order: WorkOrder, visibility: Visibility | None) -> AsBuiltNode:
        """The vehicle as built at the time of the work. The current tree answers when every removed part is
        a direct child whose current containment began by then (it still runs, so it held then); only
        otherwise is the tree at that instant read (the current one is the cheaper read)."""
        now = self.trace.as_built(order.vin, visibility=visibility)
        held = {c.key for c in now.children if c.since is not None and c.since <= order.performed_at}
        if all(part in held for part in order.removed):
            return AsBuiltNode(now.key, vin=now.vin, children=[c for c in now.children if c.key in held])
        return self.trace.as_built(order.vin, order.performed_at, visibility=visibility)

    def _vehicles(
        self, orders: Sequence[WorkOrder], trees: dict[int, AsBuiltNode], visibility: Visibility | None,
        problems: list[WorkOrderProblem],
    ) -> dict[str, str]:
        """VIN → the vehicle's canonical key (from the trees already read, else resolved; problems for VINs
        no vehicle carries)."""
        found = {tree.vin or "": tree.key for tree in trees.values()}
        unknown = {p.path for p in problems}
        for i, order in enumerate(orders):
            if order.vin in found or f"$[{i}].vin" in unknown:
                continue
            try:
                found[order.vin] = self.trace.resolve(order.vin, visibility=visibility).key
            except UnitNotFound:
                problems.append(WorkOrderProblem(f"$[{i}].vin", f"no vehicle with VIN {order.vin} is known"))
        return found

    def _check_parts(
        self, orders: Sequence[WorkOrder], fresh: Sequence[WorkOrder], trees: dict[int, AsBuiltNode],
        problems: list[WorkOrderProblem],
    ) -> None:
        """The genealogy must agree with each new work order: a removed part sat directly in that vehicle at
        the time of the work (or was fitted to it earlier in this batch); a fitted part sat in no vehicle."""
        index = {id(order): i for i, order in enumerate(orders)}
        holders = self._holders([(part, order.performed_at) for order in fresh for part in order.fitted])
        fitted_here: dict[str, tuple[str, int]] = {}  # part -> (VIN, time) fitted earlier in this batch
        for order in sorted(fresh, key=lambda o: o.performed_at):
            i = index[id(order)]
            if order.removed and id(order) not in trees:
                continue  # the VIN is unknown: already said
            tree = trees.get(id(order))
            for j, swap in enumerate(order.parts):
                if swap.removed is not None:
                    reason = _removal_problem(swap.removed, order, tree, fitted_here.get(swap.removed))
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
    part: str, order: WorkOrder, tree: AsBuiltNode | None, earlier: tuple[str, int] | None
) -> str | None:
    """Why removing ``part`` from ``order``'s vehicle contradicts the genealogy (None when it does not)."""
    if earlier is not None:
        return None if earlier[0] == order.vin else f"is fitted to {earlier[0]} earlier in this batch"
    if tree is None:
        return "the vehicle's as-built record is not known"
    if any(child.key == part for child in tree.children):  # the tree is the vehicle as built at that time
        return None
    inside = tree.keys()  # every unit of the tree, at any depth
    if part in inside:
        return "sits inside another part of this vehicle, not directly in it: record the work on that part"
    return f"was not in vehicle {order.vin} at {iso_utc(order.performed_at)} per the genealogy"
