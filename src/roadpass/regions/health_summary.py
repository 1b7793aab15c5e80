"""Pack health summaries for the battery passport on the maker's home node: the rules without I/O.

A regional node computes a pack's state of health from its vehicle's signals (docs/telematics-health.md) and
writes it into the pack's passport there. The passport the economic operator keeps is on the maker's home node,
and Reg. (EU) 2023/1542 Art. 77(2) and Annex XIII (4) want it to carry that state of health, kept up to date.
So the regional node sends a **summary** home: the kind ``battery_passport_health`` of ``classification.yaml``,
keyed by the battery's own identifier (public on its passport and QR code), carrying the passport's dynamic
health values and nothing else, dated to the day. Its fields are classed one by one (a field no rule names is
personal until classified, and removed); ``coarsen: day`` keeps a date without its time of day. Whether the
kind crosses a border at all is the transfer policy's ``records`` section (``transfer-policies.yaml``):
anything it does not name is denied.

On the home node a received summary is checked against the same classification (a field it does not name, a
time of day, a digest that does not match the content: refused) and written into the passport's
``PerformanceAndDurability.batteryCondition`` values (Battery Pass v1.2 paths, as
:mod:`roadpass.telematics.health_rules` writes them on the regional node).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
import yaml

from roadpass.regions.model import DataClass, Decision, TransferRule
from roadpass.regions.policy import Classification, PolicyError
from roadpass.trace.timeutil import from_us, parse_time

__all__ = [
    "HEALTH_KIND",
    "PASSPORT_VALUES",
    "HealthProjection",
    "RecordPolicy",
    "check_received",
    "load_record_policy",
    "passport_writes",
    "policy_document",
    "project_summary",
    "raw_summary",
    "summary_id",
]

HEALTH_KIND = "battery_passport_health"
#: The passport's values a summary carries: summary field -> (``batteryCondition`` attribute, key of its value;
#: None where Battery Pass v1.2 has a bare number). Annex XIII (4) and Art. 14 / Annex VII Part A (state of
#: certified energy, remaining capacity), Annex IV Part A (2) (capacity fade), Annex VII Part B (2)-(3) (cycles,
#: energy throughput); DIN DKE SPEC 99100 6.7.2 and 6.7.6. State of charge is not among them: the passport
#: does not need it, and it says when a vehicle was last charged.
PASSPORT_VALUES: Mapping[str, tuple[str, str | None]] = {
    "stateOfCertifiedEnergy": ("stateOfCertifiedEnergy", "stateOfCertifiedEnergyValue"),
    "capacityFade": ("capacityFade", "capacityFadeValue"),
    "remainingCapacity": ("remainingCapacity", "remainingCapacityValue"),
    "numberOfFullCycles": ("numberOfFullCycles", "numberOfFullCyclesValue"),
    "energyThroughput": ("energyThroughput", None),
}
_CONDITION = "$.batteryCondition"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RECORDS = "records"
_WILDCARD = "*"


# --- the policy for whole records --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordPolicy:
    """The ``records`` section of the transfer policy: per kind, the borders its records may cross."""

    version: str
    rules: Mapping[str, tuple[TransferRule, ...]]

    def decide(self, kind: str, origin: str, destination: str) -> TransferRule:
        """The rule for a ``kind`` record from ``origin`` to ``destination``: the most specific one naming the
        border, else denied (within one region: allowed, nothing crosses)."""
        if origin == destination:
            return TransferRule(origin, destination, DataClass.NON_PERSONAL, Decision.ALLOW, "same-region",
                                "Within one region nothing crosses a border")
        best: TransferRule | None = None
        best_score = -1
        for rule in self.rules.get(kind, ()):
            if rule.origin in (origin, _WILDCARD) and rule.destination in (destination, _WILDCARD):
                score = (rule.origin != _WILDCARD) + (rule.destination != _WILDCARD)
                if score > best_score:
                    best, best_score = rule, score
        if best is not None:
            return best
        return TransferRule(origin, destination, DataClass.NON_PERSONAL, Decision.DENY, "not-named",
                            f"The transfer policy names no border for {kind} records: denied")


def load_record_policy(data: Mapping[str, Any], *, regions: Mapping[str, object]) -> RecordPolicy:
    """The ``records`` section of a transfer policy document, checked (a mistake names its path)."""
    bases = dict(data.get("bases") or {})
    rules: dict[str, tuple[TransferRule, ...]] = {}
    for kind, specs in (data.get(_RECORDS) or {}).items():
        found = []
        for i, spec in enumerate(specs or ()):
            where = f"{_RECORDS}.{kind}[{i}]"
            for end in ("from", "to"):
                if spec.get(end) != _WILDCARD and spec.get(end) not in regions:
                    raise PolicyError(f"{where}.{end}", f"{spec.get(end)!r} is not a known region")
            basis = str(spec.get("basis"))
            if basis not in bases:
                raise PolicyError(f"{where}.basis", f"{basis!r} is not among the bases")
            try:
                decision = Decision(spec.get("decision"))
            except ValueError:
                raise PolicyError(f"{where}.decision", f"{spec.get('decision')!r} is not a decision") from None
            if decision not in (Decision.ALLOW, Decision.DENY):
                raise PolicyError(f"{where}.decision", "a whole record is allowed or denied")
            found.append(TransferRule(spec["from"], spec["to"], DataClass.NON_PERSONAL, decision, basis,
                                      bases[basis]))
        rules[kind] = tuple(found)
    return RecordPolicy(version=str(data.get("version", "")), rules=rules)


def policy_document(path: Path | None) -> dict[str, Any]:
    """The transfer policy document at ``path`` (the shipped one when None), as YAML data."""
    if path is None:
        text = resources.files("roadpass.regions").joinpath("transfer-policies.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise PolicyError("$", "the transfer policy is not a mapping")
    return data


@cache
def _coarsening() -> dict[str, str]:
    """The ``coarsen`` entries of the kind's fields in the shipped classification (field -> grain)."""
    text = resources.files("roadpass.regions").joinpath("classification.yaml").read_text(encoding="utf-8")
    fields = ((yaml.safe_load(text) or {}).get(HEALTH_KIND) or {}).get("fields") or {}
    return {name: str(spec["coarsen"]) for name, spec in fields.items() if isinstance(spec, dict) and "coarsen" in spec}


def _coarsen(name: str, value: Any) -> tuple[Any, bool]:
    """``value`` at the grain the classification names for ``name`` (``day``: the UTC date of a timestamp)."""
    if _coarsening().get(name) != "day":
        return value, False
    if isinstance(value, str) and _DAY.match(value):
        return value, False
    moment = parse_time(str(value), name) if not isinstance(value, int) else value
    return from_us(moment).date().isoformat(), True


# --- the regional side: what the passport says, what crosses ----------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def raw_summary(battery_id: str, condition: Mapping[str, Any]) -> dict[str, Any]:
    """A pack's health as its passport's ``batteryCondition`` says it now: each value of
    :data:`PASSPORT_VALUES` it carries, and ``lastUpdate``, the latest time one of them was updated."""
    out: dict[str, Any] = {"batteryId": battery_id}
    latest: int | None = None
    for name, (attribute, key) in PASSPORT_VALUES.items():
        entry = condition.get(attribute)
        value = _number(entry.get(key) if isinstance(entry, Mapping) and key else entry)
        if value is None:
            continue
        out[name] = value
        stamp = entry.get("lastUpdate") if isinstance(entry, Mapping) else None
        if isinstance(stamp, str):
            at = parse_time(stamp, "lastUpdate")
            latest = at if latest is None else max(latest, at)
    if latest is not None:
        out["lastUpdate"] = latest
    return out


@dataclass(slots=True)
class HealthProjection:
    """A summary as it may cross (``summary`` None: it stays home), what was removed or coarsened, the rule."""

    rule: TransferRule
    summary: dict[str, Any] | None = None
    removed: list[str] = field(default_factory=list)
    coarsened: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """What the transfer record and its ledger entry say of this projection."""
        return {"kind": HEALTH_KIND, "sent": self.summary is not None, "removed": sorted(self.removed),
                "coarsened": {name: _coarsening().get(name, "") for name in sorted(self.coarsened)},
                "basis": f"{self.rule.decision}: {self.rule.basis}"}


def project_summary(raw: Mapping[str, Any], *, origin: str, destination: str, classification: Classification,
                    records: RecordPolicy) -> HealthProjection:
    """``raw`` as it may go from ``origin`` to ``destination``: the whole summary only where the policy's
    ``records`` allow the kind at this border; each field kept only when the classification names it and classes
    it non-personal where it arose (any other field removed), coarsened where the classification says so. A
    summary without its battery or its date does not cross."""
    projection = HealthProjection(rule=records.decide(HEALTH_KIND, origin, destination))
    if projection.rule.decision is not Decision.ALLOW:
        projection.removed = sorted(raw)
        return projection
    out: dict[str, Any] = {}
    for name, value in raw.items():
        data_class = classification.rule(HEALTH_KIND, name).classify(origin=origin)
        if data_class is not DataClass.NON_PERSONAL:
            projection.removed.append(name)
            continue
        out[name], coarsened = _coarsen(name, value)
        if coarsened:
            projection.coarsened.append(name)
    if isinstance(out.get("batteryId"), str) and "lastUpdate" in out:
        projection.summary = out
    return projection


def summary_id(summary: Mapping[str, Any]) -> str:
    """The digest that names a summary: SHA-256 of its canonical JSON (sorted keys); the same summary sent
    twice has the same id, so the home node stores it once."""
    return hashlib.sha256(orjson.dumps(dict(summary), option=orjson.OPT_SORT_KEYS)).hexdigest()


# --- the home side: what is accepted, what the passport gets ----------------------------------------------


def _field_problem(name: str, value: Any) -> str | None:
    if name == "batteryId":
        return None if isinstance(value, str) and 0 < len(value) <= 500 else "a battery identifier (a string)"
    if name == "sequence":
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 1
        return None if ok else "a whole number from 1"
    if name == "lastUpdate":
        return None if isinstance(value, str) and _DAY.match(value) else "a date (YYYY-MM-DD), no time of day"
    number = _number(value)
    return None if number is not None and number >= 0 else "a finite number, not negative"


def check_received(body: Any, *, classification: Classification,
                   origin: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A delivery ``{"summary": {...}, "summaryId": "..."}`` from a node in ``origin``, checked as the home node
    takes it: only fields the classification names and classes non-personal there, each in its form, the
    battery, its sequence and date present, and the id the digest of the content. The summary and every
    problem as (JSON path, reason)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("summary"), Mapping):
        return {}, [("$.summary", "a battery health summary (an object)")]
    summary = dict(body["summary"])
    problems: list[tuple[str, str]] = []
    for name, value in summary.items():
        # A field no rule names is personal until classified (classification.yaml): it may not cross.
        if classification.rule(HEALTH_KIND, name).classify(origin=origin) is not DataClass.NON_PERSONAL:
            problems.append((f"$.summary.{name}", "not a field of a battery health summary: it may not cross"))
            continue
        reason = _field_problem(name, value)
        if reason is not None:
            problems.append((f"$.summary.{name}", reason))
    for name in ("batteryId", "sequence", "lastUpdate"):
        if name not in summary:
            problems.append((f"$.summary.{name}", "is required"))
    if not problems and body.get("summaryId") != summary_id(summary):
        problems.append(("$.summaryId", "is not the SHA-256 of the summary's canonical JSON: altered or forged"))
    return summary, problems


def passport_writes(summary: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """``(JSONPath, value, lastUpdate)`` for the passport's ``PerformanceAndDurability`` section: each value of
    the summary at its Battery Pass v1.2 path and shape, dated the summary's day (00:00 UTC)."""
    stamp = f"{summary['lastUpdate']}T00:00:00Z"
    writes: list[tuple[str, Any, str]] = []
    for name, (attribute, key) in PASSPORT_VALUES.items():
        if name not in summary:
            continue
        value = summary[name] if key is None else {key: summary[name], "lastUpdate": stamp}
        writes.append((f"{_CONDITION}.{attribute}", value, stamp))
    return writes
