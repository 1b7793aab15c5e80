"""A service record (work order) as the repairer writes it, and the rules a valid one keeps.

A work order says what a repairer did to one vehicle on one day: the odometer reading, the operations, who
did them, which serialised parts came out and which went in, and which recall campaigns the work remedied.
:func:`parse_work_order` turns a JSON body into a :class:`WorkOrder` or lists every problem with its JSON
path, so the API and the CLI answer the same way; nothing here reads the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from roadpass.trace.identifiers import IdentifierError, canonical_id
from roadpass.trace.timeutil import iso_utc, parse_time
from roadpass.trace.vin import VinError, parse_vin

__all__ = [
    "Operation",
    "PartSwap",
    "WorkOrder",
    "WorkOrderInvalid",
    "WorkOrderProblem",
    "parse_work_order",
]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")
#: An odometer reading beyond this is a typing error, not a vehicle (no road vehicle reaches 10 million km).
MAX_ODOMETER_KM = 9_999_999


@dataclass(frozen=True, slots=True)
class WorkOrderProblem:
    """One thing wrong with a work order: where (JSON path) and why."""

    path: str
    reason: str

    def as_json(self) -> dict[str, str]:
        """The problem as an RFC 7807 ``errors`` item."""
        return {"path": self.path, "reason": self.reason}


class WorkOrderInvalid(ValueError):
    """A work order that breaks a rule; ``problems`` name each field and reason."""

    def __init__(self, problems: Sequence[WorkOrderProblem]) -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else WorkOrderProblem("$", "invalid")
        super().__init__(f"{first.path}: {first.reason}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of the work order: the maker's labour operation code, what was done, the hours."""

    code: str
    description: str = ""
    hours: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The operation as stored and answered."""
        return {"code": self.code, "description": self.description, "hours": self.hours}


@dataclass(frozen=True, slots=True)
class PartSwap:
    """A serialised part taken out of the vehicle (``removed``), put in (``fitted``), or both (a swap).

    Identifiers are canonical keys (:func:`roadpass.trace.identifiers.canonical_id`), so the same part
    written as an EPC URN or a Digital Link is one part."""

    removed: str | None = None
    fitted: str | None = None


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """A service record: what a repairer did to the vehicle ``vin`` at ``performed_at`` (UTC µs)."""

    record_key: str
    vin: str
    performed_at: int
    odometer_km: int
    technician: str
    operations: tuple[Operation, ...] = ()
    parts: tuple[PartSwap, ...] = ()
    campaigns: tuple[str, ...] = ()
    repairer_party_id: int | None = None
    site: str | None = None

    @property
    def removed(self) -> list[str]:
        """Keys of the parts taken out."""
        return [p.removed for p in self.parts if p.removed]

    @property
    def fitted(self) -> list[str]:
        """Keys of the parts put in."""
        return [p.fitted for p in self.parts if p.fitted]

    def as_json(self) -> dict[str, Any]:
        """The work order in the API's words (the body :func:`parse_work_order` reads)."""
        return {
            "recordKey": self.record_key,
            "vin": self.vin,
            "performedAt": iso_utc(self.performed_at),
            "odometerKm": self.odometer_km,
            "technician": self.technician,
            "operations": [op.as_json() for op in self.operations],
            "parts": [{"removed": p.removed, "fitted": p.fitted} for p in self.parts],
            "campaigns": list(self.campaigns),
            "repairerPartyId": self.repairer_party_id,
            "site": self.site,
        }


def _text(body: Mapping[str, Any], name: str, problems: list[WorkOrderProblem], *, required: bool = True) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(WorkOrderProblem(f"$.{name}", "required text" if value is None else "must be non-empty text"))
        return ""
    return value.strip()


def _part(value: Any, path: str, problems: list[WorkOrderProblem]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(WorkOrderProblem(path, "must be an EPC URN or GS1 Digital Link of a serialised part"))
        return None
    try:
        key = canonical_id(value.strip())
    except IdentifierError as exc:
        problems.append(WorkOrderProblem(path, f"not a valid identifier: {exc}"))
        return None
    if key == value.strip() and not key.startswith(("https://", "http://")):
        problems.append(WorkOrderProblem(path, "must be an EPC URN or GS1 Digital Link of a serialised part"))
        return None
    return key


def _parts(value: Any, problems: list[WorkOrderProblem]) -> tuple[PartSwap, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(WorkOrderProblem("$.parts", "must be a list of {removed, fitted}"))
        return ()
    out: list[PartSwap] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        path = f"$.parts[{i}]"
        if not isinstance(item, dict):
            problems.append(WorkOrderProblem(path, "must be an object {removed, fitted}"))
            continue
        swap = PartSwap(_part(item.get("removed"), f"{path}.removed", problems),
                        _part(item.get("fitted"), f"{path}.fitted", problems))
        if swap.removed is None and swap.fitted is None:
            if item.get("removed") is None and item.get("fitted") is None:
                problems.append(WorkOrderProblem(path, "names neither a removed nor a fitted part"))
            continue
        if swap.removed is not None and swap.removed == swap.fitted:
            problems.append(WorkOrderProblem(f"{path}.fitted", "the same part cannot be removed and fitted"))
            continue
        for role, key in (("removed", swap.removed), ("fitted", swap.fitted)):
            if key is not None and key in seen:
                problems.append(WorkOrderProblem(f"{path}.{role}", "the part is named twice in this work order"))
            if key is not None:
                seen.add(key)
        out.append(swap)
    return tuple(out)


def _operations(value: Any, problems: list[WorkOrderProblem]) -> tuple[Operation, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append(WorkOrderProblem("$.operations", "must be a list of {code, description, hours}"))
        return ()
    out: list[Operation] = []
    for i, item in enumerate(value):
        path = f"$.operations[{i}]"
        if isinstance(item, str) and item.strip():
            out.append(Operation(item.strip()))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not item["code"].strip():
            problems.append(WorkOrderProblem(path, "must be an operation code or {code, description, hours}"))
            continue
        hours = item.get("hours")
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int | float) or hours < 0):
            problems.append(WorkOrderProblem(f"{path}.hours", "must be a non-negative number"))
            continue
        description = item.get("description") or ""
        out.append(Operation(item["code"].strip(), str(description), None if hours is None else float(hours)))
    return tuple(out)


def _campaigns(value: Any, problems: list[WorkOrderProblem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, str) and c.strip() for c in value):
        problems.append(WorkOrderProblem("$.campaigns", "must be a list of recall campaign keys"))
        return ()
    return tuple(dict.fromkeys(c.strip() for c in value))


def _odometer(value: Any, problems: list[WorkOrderProblem]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ODOMETER_KM:
        problems.append(WorkOrderProblem("$.odometerKm", f"must be a whole number of km from 0 to {MAX_ODOMETER_KM}"))
        return 0
    return value


def parse_work_order(
    body: Any, *, record_key: str | None = None, repairer_party_id: int | None = None
) -> WorkOrder:
    """Read a work order body (JSON object); :class:`WorkOrderInvalid` lists every problem.

    ``record_key`` (when the body has none) and ``repairer_party_id`` (the signed-in repairer's party)
    come from the caller; a record key in the body wins, so a repairer's system can re-send a work order
    safely (the same key is the same record)."""
    if not isinstance(body, Mapping):
        raise WorkOrderInvalid([WorkOrderProblem("$", "must be a JSON object")])
    problems: list[WorkOrderProblem] = []
    key = body.get("recordKey", record_key)
    if not isinstance(key, str) or not _KEY.match(key):
        problems.append(WorkOrderProblem("$.recordKey", "must be 1-100 letters, digits or . _ : -"))
    vin = ""
    try:
        vin = parse_vin(str(body.get("vin") or ""), check_digit=False)
    except VinError as exc:
        problems.append(WorkOrderProblem("$.vin", str(exc)))
    performed_at = 0
    try:
        performed_at = parse_time(str(body.get("performedAt") or ""), "performedAt")
    except ValueError as exc:
        problems.append(WorkOrderProblem("$.performedAt", str(exc)))
    odometer = _odometer(body.get("odometerKm"), problems)
    technician = _text(body, "technician", problems)
    operations = _operations(body.get("operations"), problems)
    parts = _parts(body.get("parts"), problems)
    campaigns = _campaigns(body.get("campaigns"), problems)
    site = body.get("site")
    if site is not None and (not isinstance(site, str) or not site.startswith(("urn:epc:id:sgln:", "https://"))):
        problems.append(WorkOrderProblem("$.site", "must be the workshop's SGLN (EPC URN or Digital Link)"))
        site = None
    if not operations and not parts:
        problems.append(WorkOrderProblem("$.operations", "a work order records at least one operation or part"))
    if problems:
        raise WorkOrderInvalid(problems)
    assert isinstance(key, str)
    return WorkOrder(key, vin, performed_at, odometer, technician, operations, parts, campaigns,
                     repairer_party_id, site)
