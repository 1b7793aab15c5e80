"""The parts check service: one identifier in (EPC URN or GS1 Digital Link), the verdict out, in
milliseconds, every check logged for the maker; stolen and recovered reports, ledgered.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from roadpass.aftermarket.parts.model import Fitted, PartCheck, assess
from roadpass.aftermarket.parts.ports import PartRecords, PrefixHolders, RecallLookup
from roadpass.ports import Transactions
from roadpass.trace.genealogy import supplier_of
from roadpass.trace.identifiers import IdentifierError, canonical_id, parse_gs1
from roadpass.trace.query import Visibility
from roadpass.trace.service import TraceService, UnitNotFound

__all__ = ["CheckLog", "PartsError", "PartsService", "check_json"]

# GS1 General Specifications §1.4.2: a company prefix identifies the company that issued the key; the
# prefixes on this node change only when a party is registered, so they are re-read at most this often.
_PREFIX_SECONDS = 30.0
_STOLEN_RULE = "stolen-part register (roadpass; reports by the part's owner, its maker or an authority)"


class PartsError(ValueError):
    """The identifier cannot be checked: ``field`` names the input, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _now() -> int:
    return time.time_ns() // 1000


def _recall_json(recall: Any) -> dict[str, Any]:
    """A recall campaign as JSON, whatever its record type (the recalls feature owns it)."""
    if dataclasses.is_dataclass(recall) and not isinstance(recall, type):
        return {k: v for k, v in dataclasses.asdict(recall).items() if isinstance(v, str | int | float | bool)}
    return {"recall": str(recall)}


@dataclasses.dataclass(slots=True, eq=False)
class _Pending:
    """A check's log row waiting for its commit."""

    row: dict[str, Any]
    done: bool = False
    error: BaseException | None = None


class CheckLog:
    """The maker's check log, written by group commit: every check waits until the transaction holding its
    row has committed (so no answered check is missing from the log after a crash), but checks arriving
    while a log transaction runs share the next one. The database has one writer at a time (SQLite): one
    transaction per check would queue every concurrent check behind every other; here the queue holds rows,
    and one thread (the leader, whose own row is among them) writes them all."""

    #: Rows one transaction carries at most, besides the writer's own (a bounded wait for the leader).
    batch = 256

    def __init__(self, records: Transactions[PartRecords]) -> None:
        self.records = records
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._writing = False

    def write(self, row: dict[str, Any]) -> None:
        """Store ``row`` (the keyword arguments of ``PartRecords.log_check``); returns once committed, raises
        what the transaction raised when it failed (then the check was not logged and is not answered)."""
        mine = _Pending(row)
        with self._cond:
            self._queue.append(mine)
            while self._writing and not mine.done:
                self._cond.wait()
            if mine.done:
                if mine.error is not None:
                    raise mine.error
                return
            self._writing = True
            # The oldest rows, and our own with them (it is still queued: not done, and nobody was writing).
            rows = self._queue[: self.batch]
            if all(pending is not mine for pending in rows):
                rows.append(mine)
            taken = {id(pending) for pending in rows}
            self._queue = [pending for pending in self._queue if id(pending) not in taken]
        error: BaseException | None = None
        try:
            with self.records.write() as records:
                for pending in rows:
                    records.log_check(**pending.row)
        except BaseException as exc:  # every waiter of this transaction learns it failed
            error = exc
        with self._cond:
            for pending in rows:
                pending.done, pending.error = True, error
            self._writing = False
            self._cond.notify_all()
        if error is not None:
            raise error


class PartsService:
    """Parts checks and the stolen-part register; one per container."""

    def __init__(self, records: Transactions[PartRecords], trace: TraceService, parties: PrefixHolders,
                 recalls: RecallLookup | None = None) -> None:
        self.records = records
        self.trace = trace
        self.parties = parties
        self.recalls = recalls
        self._lock = threading.Lock()
        self._prefixes: tuple[float, dict[str, str], dict[str, str]] | None = None
        self._log = CheckLog(records)

    def _holders(self) -> tuple[dict[str, str], dict[str, str]]:
        """({company prefix: party key}, {party key: name}), re-read every ``_PREFIX_SECONDS``."""
        cached = self._prefixes
        now = time.monotonic()
        if cached is None or cached[0] < now:
            parties = self.parties.parties()
            cached = (now + _PREFIX_SECONDS, {p.gcp: p.key for p in parties if p.gcp},
                      {p.key: p.name for p in parties})
            with self._lock:
                self._prefixes = cached
        return cached[1], cached[2]

    def canonical(self, identifier: str) -> str:
        """The canonical key of a serialised part's EPC URN or Digital Link; :class:`PartsError` otherwise."""
        raw = identifier.strip()
        if not raw:
            raise PartsError("id", "give the part's EPC URN or GS1 Digital Link URI")
        try:
            key = parse_gs1(raw)
            canonical = canonical_id(raw)
        except IdentifierError as exc:
            raise PartsError("id", str(exc)) from exc
        if key.level != "instance":
            raise PartsError("id", "names a lot or a product, not one part: a parts check needs the serial")
        return canonical

    def check(self, identifier: str, *, checker: str, vin: str | None = None,
              visibility: Visibility | None = None) -> PartCheck:
        """Check one part. ``checker`` is who asks (logged); ``vin`` the vehicle the part was scanned in, if
        any; ``visibility`` decides which holding vehicles' VINs the caller may read (None: all)."""
        key = self.canonical(identifier)
        prefixes, names = self._holders()
        maker = supplier_of(key, prefixes)
        check = PartCheck(identifier.strip(), key, True, False, maker, names.get(maker) if maker else None,
                          scanned_in=vin.strip().upper() if vin else None, checked_at=_now())
        try:
            _unit, hits = self.trace.where_used(key)
            check.known = True
        except UnitNotFound:
            hits = None
        if hits is not None:
            check.vehicles_ever = hits.vehicles
            check.fitted_now = [_fitted(h, visibility) for h in hits if h.current and h.vin]
        if self.recalls is not None and check.known:
            # The recall feature lists remedied campaigns too: a remedied one is not open.
            # A recall names the vehicle carrying the part: withheld as fittedNow withholds it (need to know).
            shown = {f.vin for f in check.fitted_now if f.vin} if visibility is not None else None
            check.recalls = [{k: v for k, v in _recall_json(r).items() if k != "vin" or shown is None or v in shown}
                             for r in self.recalls.open_recalls_for(key) if not getattr(r, "remedied", False)]
        with self.records.read() as records:
            check.stolen = records.stolen(key)
        assess(check)
        # Returned only once its log row is committed: an answered check is in the maker's log.
        self._log.write({"checked_at": check.checked_at, "part_key": key, "maker_key": maker, "checker": checker,
                         "vin": check.scanned_in, "verdict": check.verdict.value,
                         "reasons": "; ".join(check.reasons)})
        return check

    def report(self, identifier: str, *, actor: str, status: str, reference: str,
               visibility: Visibility | None = None) -> str:
        """Report a part ``stolen`` or ``recovered`` (ledgered); its canonical key. With ``visibility``, only a
        part the caller sees or one fitted (now or before) in a vehicle it sees: ``Hidden`` or
        ``UnitNotFound`` otherwise (a report changes every checker's verdict)."""
        if status not in ("stolen", "recovered"):
            raise PartsError("status", "stolen or recovered")
        if not reference.strip():
            raise PartsError("reference", "give the report's reference (e.g. the police case number)")
        key = self.canonical(identifier)
        if visibility is not None and not visibility.sees_unit(key):
            self.trace.where_used(key, visibility=visibility)  # the access policy's where-used scope decides
        op_id = uuid.uuid4().hex
        with self.records.write() as records:
            records.add_stolen_report(key, status=status, reference=reference.strip(), at=_now(), actor=actor,
                                      op_id=op_id)
            records.ledgered(actor=actor, action=f"part.{status}", rule=_STOLEN_RULE, op_id=op_id,
                             tables=["aftermarket_part_report"])
        return key

    def checks(self, *, maker_key: str | None, limit: int = 100) -> list[dict[str, Any]]:
        """The check log (of one maker's parts: what the maker sees), newest first."""
        with self.records.read() as records:
            return records.checks(maker_key=maker_key, limit=limit)


def _fitted(hit: Any, visibility: Visibility | None) -> Fitted:
    """A current holder as the caller may read it: the VIN only of a vehicle it may see."""
    since = max(span.start for span in hit.spans)
    if visibility is None or visibility.sees_unit(hit.key, hit.market):
        return Fitted(hit.vin, hit.market, since)
    return Fitted(None, hit.market, since, withheld=True)


def check_json(check: PartCheck) -> dict[str, Any]:
    """The answer as JSON (API, CLI, page)."""
    stolen: Mapping[str, Any] | None = None
    if check.stolen is not None:
        stolen = {"reportedAt": check.stolen.reported_at, "reference": check.stolen.reference}
    return {
        "id": check.identifier, "key": check.key, "verdict": check.verdict.value, "reasons": check.reasons,
        "known": check.known, "maker": {"party": check.maker_key, "name": check.maker_name},
        "fittedNow": [{"vin": f.vin, "market": f.market, "since": f.since, "withheld": f.withheld}
                      for f in check.fitted_now],
        "vehiclesEver": check.vehicles_ever, "openRecalls": check.recalls, "stolen": stolen,
        "scannedIn": check.scanned_in, "checkedAt": check.checked_at,
    }
