"""The warranty service: claims submitted by repairers, decided against coverage and the genealogy, settled.

A decision gathers the facts (the vehicle's market and first retail sale from the trace, when the claimed
part entered the vehicle from where-used, the referenced service record) and lets
:func:`roadpass.aftermarket.warranty.coverage.judge` decide. Every step is a ``warranty_claim_step`` row
and a ledger entry naming who, what, when and the clause applied.
"""

from __future__ import annotations

import time

from roadpass.aftermarket.service.service import ServiceRecordService
from roadpass.aftermarket.warranty.coverage import ClaimFacts, CoverageTable, Verdict, coverage_table, judge
from roadpass.aftermarket.warranty.model import ClaimRow, ClaimStatus, NewClaim, WorkflowError, next_status
from roadpass.aftermarket.warranty.ports import WarrantyRecords
from roadpass.ports import Transactions
from roadpass.trace.query import Visibility, parse_event_query
from roadpass.trace.service import TraceService, UnitNotFound, UnitRef
from roadpass.trace.timeutil import parse_time

__all__ = ["ClaimNotFound", "NotTheMaker", "WarrantyService"]

RULE_SUBMIT = "roadpass warranty: a claim submitted by the repairer, to be checked against coverage and genealogy"
RULE_SETTLE = "roadpass warranty: an accepted claim settled"


class ClaimNotFound(LookupError):
    """No claim has that key."""


class NotTheMaker(PermissionError):
    """Only the vehicle's maker (the party whose GS1 keys the vehicle carries) decides and settles claims."""


def _now() -> int:
    return time.time_ns() // 1000


class WarrantyService:
    """Submit, decide and settle warranty claims; answer a vehicle's coverage and claims."""

    def __init__(
        self, records: Transactions[WarrantyRecords], trace: TraceService, service_records: ServiceRecordService,
        table: CoverageTable | None = None,
    ) -> None:
        self.records = records
        self.trace = trace
        self.service_records = service_records
        self.table = table or coverage_table()

    # ------------------------------------------------------------------------------------ facts

    def delivered_at(self, vehicle: UnitRef) -> int | None:
        """When the vehicle was first sold to a customer (the earliest retail_selling event naming it)."""
        query = parse_event_query({"MATCH_anyEPC": vehicle.key, "EQ_bizStep": "retail_selling",
                                   "orderBy": "eventTime", "orderDirection": "ASC", "perPage": "1"})
        events, _contexts, _token = self.trace.events(query)
        return parse_time(events[0]["eventTime"], "eventTime") if events else None

    def _part_since(self, claim: NewClaim) -> int | None:
        """When the claimed part first entered the claim's vehicle, at any depth (None: never)."""
        try:
            _unit, hits = self.trace.where_used(claim.epc)
        except UnitNotFound:
            return None
        starts = [span.start for hit in hits if hit.vin == claim.vin for span in hit.spans]
        return min(starts) if starts else None

    def _record_problem(self, claim: NewClaim) -> str | None:
        if claim.record_key is None:
            return None
        try:
            record = self.service_records.get(claim.record_key)
        except LookupError:
            return f"the service record {claim.record_key} is not known"
        if record.vin != claim.vin:
            return f"the service record {claim.record_key} is for another vehicle ({record.vin})"
        if claim.epc not in record.removed:
            return f"the service record {claim.record_key} did not remove the claimed part"
        return None

    def facts(self, claim: NewClaim, market: str | None, vehicle: UnitRef) -> ClaimFacts:
        """What a decision on ``claim`` rests on, as the stored records say now."""
        return ClaimFacts(
            market=market, product=claim.product, claimed_at=claim.claimed_at, odometer_km=claim.odometer_km,
            state_of_health=None if claim.state_of_health is None else float(claim.state_of_health),
            delivered_at=self.delivered_at(vehicle), part_in_vehicle_since=self._part_since(claim),
            record_problem=self._record_problem(claim),
        )

    # ------------------------------------------------------------------------------------ workflow

    def submit(self, claim: NewClaim, *, actor: str, visibility: Visibility | None = None) -> ClaimRow:
        """Store a submitted claim (the vehicle must exist and be visible to the repairer); a claim key
        already used raises :class:`WorkflowError`."""
        vehicle = self.trace.resolve(claim.vin, visibility=visibility)
        market = self.trace.unit_market(vehicle.id) or ""
        with self.records.write() as records:
            if records.claim(claim.claim_key) is not None:
                raise WorkflowError(f"claimKey: claim {claim.claim_key} already exists")
            pk, step = records.insert_claim(claim, market=market, actor=actor, at=_now())
            records.ledgered(actor=actor, action="warranty.submit", rule=RULE_SUBMIT,
                             rows=[("warranty_claim", pk), ("warranty_claim_step", step)])
        return self.claim(claim.claim_key)

    def check(self, claim_key: str) -> Verdict:
        """What :meth:`decide` would decide now, without recording it."""
        row = self.claim(claim_key)
        vehicle = self.trace.resolve(row.claim.vin)
        return judge(self.facts(row.claim, row.market or None, vehicle), self.table)

    def _maker_only(self, row: ClaimRow, maker: Visibility | None) -> None:
        """``maker``: the deciding caller's visibility; it must own the vehicle's key (None: unrestricted)."""
        if maker is None:
            return
        vehicle = self.trace.resolve(row.claim.vin)
        if not maker.unit_prefixes or not vehicle.key.startswith(maker.unit_prefixes):
            raise NotTheMaker(f"only the maker of {row.claim.vin} decides and settles its warranty claims")

    def decide(
        self, claim_key: str, *, actor: str, reject_reason: str | None = None, maker: Visibility | None = None
    ) -> ClaimRow:
        """Accept or reject a submitted claim by the check (a reviewer may reject an acceptable claim, with
        ``reject_reason``); the step and its ledger entry name the coverage clause applied. ``maker``: the
        caller's visibility, which must own the vehicle (:class:`NotTheMaker` otherwise)."""
        row = self.claim(claim_key)
        self._maker_only(row, maker)
        verdict = self.check(claim_key)
        if reject_reason:
            verdict = Verdict(False, reject_reason.strip(), verdict.entry)
        status = next_status(row.status, "accept" if verdict.accepted else "reject")
        return self._step(row, status, verdict.reason, verdict.rule, row.claim.amount_cents, actor)

    def settle(
        self, claim_key: str, *, actor: str, amount_cents: int | None = None, maker: Visibility | None = None
    ) -> ClaimRow:
        """Settle an accepted claim (the amount paid; default the amount claimed); ``maker`` as for
        :meth:`decide`."""
        row = self.claim(claim_key)
        self._maker_only(row, maker)
        status = next_status(row.status, "settle")
        amount = row.claim.amount_cents if amount_cents is None else amount_cents
        return self._step(row, status, row.reason, RULE_SETTLE, amount, actor)

    def _step(
        self, row: ClaimRow, status: ClaimStatus, reason: str | None, rule: str, amount: int | None, actor: str
    ) -> ClaimRow:
        with self.records.write() as records:
            current = records.claim(row.claim.claim_key)
            if current is None or current.status != row.status:  # another decision came first
                raise WorkflowError(f"status: the claim changed meanwhile (now {current.status if current else '?'})")
            step = records.add_step(row.id, status=status.value, reason=reason, rule=rule, amount_cents=amount,
                                    at=_now(), actor=actor)
            records.ledgered(actor=actor, action=f"warranty.{status.value}", rule=rule,
                             rows=[("warranty_claim_step", step)])
        return self.claim(row.claim.claim_key)

    # ------------------------------------------------------------------------------------ reads

    def claim(self, claim_key: str, *, visibility: Visibility | None = None) -> ClaimRow:
        """One claim with its history; :class:`ClaimNotFound`, or ``Hidden`` when its vehicle is not visible."""
        with self.records.read() as records:
            row = records.claim(claim_key)
        if row is None:
            raise ClaimNotFound(f"no warranty claim {claim_key!r}")
        if visibility is not None:
            self.trace.resolve(row.claim.vin, visibility=visibility)
        return row

    def claims_for(self, vin: str, *, visibility: Visibility | None = None, limit: int = 50) -> list[ClaimRow]:
        """The vehicle's claims, latest first (``Hidden`` when the vehicle is not visible)."""
        unit = self.trace.resolve(vin, visibility=visibility)
        with self.records.read() as records:
            return records.claims_for_vin(unit.vin or vin, limit=limit)
