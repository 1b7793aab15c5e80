"""The software report payload: parsing and checking, every problem by JSON path.

A report is what a vehicle's telematics unit publishes on ``roadpass/units/{unit}/software`` (or posts to
``POST /software/units/{unit}/reports``): UTF-8 JSON ::

    {"reported_at": "2026-12-01T08:00:00Z",
     "ecus": [{"ecu": "cockpit", "part_number": "HX-CCU3-101", "software_version": "3.2.0",
               "rxswin": ["R10SWIN-AUR-0002"]}],
     "campaign": {"id": "CCU3-2026-12", "status": "downloaded", "detail": "optional text"}}

``ecus`` is the vehicle's inventory as read from its ECUs (an Uptane Vehicle Version Manifest carries the same
facts per ECU in its ECU Version Reports); ``rxswin`` lists the RXSWINs (UN R156 para. 2.2) the ECU's software
contributes to. ``campaign`` is optional: what the vehicle says about a campaign. Whatever it says, only the
inventory proves an installation (:mod:`roadpass.telematics.software.campaigns`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from roadpass.telematics.software.model import Claim, EcuSoftware, SoftwareReport
from roadpass.trace.timeutil import parse_time

__all__ = [
    "CLAIM_STATUSES",
    "MAX_ECUS",
    "MAX_FUTURE_US",
    "ReportRejected",
    "parse_report",
    "payload_digest",
    "report_json",
]

#: An inventory larger than this is refused (a vehicle has well under a few hundred ECUs).
MAX_ECUS = 500
#: A report dated further ahead of its arrival than this is refused (a unit clock gone wrong).
MAX_FUTURE_US = 5 * 60 * 1_000_000
#: What a status claim may say (see ``claims`` in r156.yaml).
CLAIM_STATUSES = ("downloaded", "failed", "rolled_back", "installed", "success")
_MAX_TEXT = 100
_MAX_RXSWIN = 32


class ReportRejected(ValueError):
    """A report that cannot be kept: every problem as (JSON path, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))
        self.problems = problems


def payload_digest(payload: bytes) -> str:
    """SHA-256 of the payload as received: an MQTT QoS 1 redelivery carries the same bytes, so it is kept once."""
    return hashlib.sha256(payload).hexdigest()


def _text(value: Any, path: str, problems: list[tuple[str, str]], *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        problems.append((path, "required: a non-empty string"))
        return None
    if len(value) > _MAX_TEXT:
        problems.append((path, f"longer than {_MAX_TEXT} characters"))
        return None
    return value.strip()


def _ecu(raw: Any, path: str, problems: list[tuple[str, str]]) -> EcuSoftware | None:
    if not isinstance(raw, Mapping):
        problems.append((path, "must be an object"))
        return None
    before = len(problems)
    unknown = sorted(set(raw) - {"ecu", "part_number", "software_version", "rxswin"})
    problems.extend((f"{path}/{k}", "unknown field") for k in unknown)
    part = _text(raw.get("part_number"), f"{path}/part_number", problems)
    version = _text(raw.get("software_version"), f"{path}/software_version", problems)
    ecu = _text(raw.get("ecu"), f"{path}/ecu", problems, required=False)
    rxswin_raw = raw.get("rxswin", [])
    rxswin: list[str] = []
    if not isinstance(rxswin_raw, list):
        problems.append((f"{path}/rxswin", "must be a list of strings"))
    elif len(rxswin_raw) > _MAX_RXSWIN:
        problems.append((f"{path}/rxswin", f"more than {_MAX_RXSWIN} RXSWINs"))
    else:
        for i, item in enumerate(rxswin_raw):
            text = _text(item, f"{path}/rxswin/{i}", problems)
            if text is not None:
                rxswin.append(text)
    if len(problems) > before or part is None or version is None:
        return None
    return EcuSoftware(part, version, tuple(sorted(set(rxswin))), ecu)


def _claim(raw: Any, problems: list[tuple[str, str]]) -> Claim | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(("/campaign", "must be an object"))
        return None
    key = _text(raw.get("id"), "/campaign/id", problems)
    status = raw.get("status")
    if status not in CLAIM_STATUSES:
        problems.append(("/campaign/status", f"must be one of {', '.join(CLAIM_STATUSES)}"))
        return None
    detail_raw = raw.get("detail")
    detail = detail_raw[:500] if isinstance(detail_raw, str) else None
    return None if key is None else Claim(key, str(status), detail)


def _ecus(raw: Any, problems: list[tuple[str, str]]) -> list[EcuSoftware]:
    if not isinstance(raw, list) or not raw:
        problems.append(("/ecus", "required: a non-empty list of ECUs"))
        return []
    if len(raw) > MAX_ECUS:
        problems.append(("/ecus", f"more than {MAX_ECUS} ECUs"))
        return []
    ecus: list[EcuSoftware] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        ecu = _ecu(item, f"/ecus/{i}", problems)
        if ecu is None:
            continue
        if ecu.part_number in seen:  # one version per ECU: two would make "what is installed" ambiguous
            problems.append((f"/ecus/{i}/part_number", f"{ecu.part_number!r} is reported twice"))
        seen.add(ecu.part_number)
        ecus.append(ecu)
    return ecus


def parse_report(payload: bytes, received_at: int) -> SoftwareReport:
    """Parse and check a report payload received at ``received_at`` (UTC µs); :class:`ReportRejected` names
    every problem by JSON path."""
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ReportRejected([("", f"not JSON: {exc}")]) from None
    if not isinstance(raw, Mapping):
        raise ReportRejected([("", "must be a JSON object")])
    problems: list[tuple[str, str]] = [(f"/{k}", "unknown field") for k in sorted(set(raw) - _FIELDS)]
    reported_at: int | None = None
    stamp = raw.get("reported_at")
    if not isinstance(stamp, str):
        problems.append(("/reported_at", "required: a date-time with offset"))
    else:
        try:
            reported_at = parse_time(stamp, "reported_at")
        except ValueError as exc:
            problems.append(("/reported_at", str(exc)))
    if reported_at is not None and reported_at > received_at + MAX_FUTURE_US:
        problems.append(("/reported_at", "later than the report's arrival (the unit's clock is wrong)"))
    ecus = _ecus(raw.get("ecus"), problems)
    claim = _claim(raw.get("campaign"), problems)
    if problems or reported_at is None:
        raise ReportRejected(problems)
    return SoftwareReport(reported_at, tuple(ecus), claim)


_FIELDS = frozenset({"reported_at", "ecus", "campaign"})


def report_json(report: SoftwareReport) -> dict[str, Any]:
    """A parsed report as stored and answered (the inverse of :func:`parse_report`, times as µs)."""
    out: dict[str, Any] = {"reported_at": report.reported_at, "ecus": [e.as_json() for e in report.ecus],
                           "rxswin": list(report.rxswin)}
    if report.claim is not None:
        out["campaign"] = {"id": report.claim.campaign, "status": report.claim.status, "detail": report.claim.detail}
    return out
