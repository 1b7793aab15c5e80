"""What an assessment says: one result per requirement, and the assessment as a versionable document."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["STATUSES", "Assessment", "RequirementResult", "Status"]

Status = Literal["met", "gap", "expiring", "to_confirm", "not_applicable"]
STATUSES: tuple[Status, ...] = ("met", "expiring", "to_confirm", "gap", "not_applicable")


@dataclass(frozen=True, slots=True)
class RequirementResult:
    """The outcome for one requirement: status, the reason in words, and what it is measured against.

    ``evidence`` are the keys of the evidence that satisfies it; ``missing`` what would close the gap;
    ``deadline`` the date the status is measured against (planned market entry, or the evidence's expiry);
    ``binding_from`` the phase that makes it bind (a date or a model year); ``basis`` the acceptance bases.
    """

    requirement_id: str
    title: str
    topic: str
    severity: str
    status: Status
    reason: str
    evidence: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    basis: tuple[str, ...] = ()
    deadline: dt.date | None = None
    binding_from: str | None = None
    applies: str = "true"
    in_force: str = "true"
    prohibited: bool = False
    expires_on: dt.date | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as a JSON object."""
        return {
            "requirement": self.requirement_id, "title": self.title, "topic": self.topic,
            "severity": self.severity, "status": self.status, "reason": self.reason,
            "evidence": list(self.evidence), "missing": list(self.missing), "basis": list(self.basis),
            "deadline": self.deadline.isoformat() if self.deadline else None, "binding_from": self.binding_from,
            "applies": self.applies, "in_force": self.in_force, "prohibited": self.prohibited,
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RequirementResult:
        """Inverse of :meth:`to_json`."""
        def day(value: Any) -> dt.date | None:
            return dt.date.fromisoformat(value) if value else None

        return cls(
            data["requirement"], data["title"], data["topic"], data["severity"], data["status"], data["reason"],
            tuple(data.get("evidence", ())), tuple(data.get("missing", ())), tuple(data.get("basis", ())),
            day(data.get("deadline")), data.get("binding_from"), data.get("applies", "true"),
            data.get("in_force", "true"), bool(data.get("prohibited", False)), day(data.get("expires_on")),
        )


@dataclass(frozen=True, slots=True)
class Assessment:
    """A product assessed against one market's pack on one date; stored as an immutable version."""

    product_key: str
    product_name: str
    market: str
    pack_version: str
    on: dt.date
    window_days: int
    results: tuple[RequirementResult, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    product_hash: str = ""
    evidence_state: Mapping[str, str | None] = field(default_factory=dict)
    version: int | None = None
    assessed_at: str | None = None

    @property
    def counts(self) -> dict[str, int]:
        """How many requirements are met, expiring, to confirm, gaps and not applicable."""
        counter = Counter(r.status for r in self.results)
        return {s: counter.get(s, 0) for s in STATUSES}

    @property
    def status(self) -> str:
        """``blocked`` (a blocker gap), ``gaps``, ``to_confirm`` (a requirement not confirmed at its source),
        ``expiring`` or ``ok``."""
        statuses = {(r.status, r.severity) for r in self.results}
        if ("gap", "blocker") in statuses:
            return "blocked"
        for status, overall in (("gap", "gaps"), ("to_confirm", "to_confirm"), ("expiring", "expiring")):
            if any(s == status for s, _ in statuses):
                return overall
        return "ok"

    def result(self, requirement_id: str) -> RequirementResult:
        """The result for one requirement, or KeyError."""
        for r in self.results:
            if r.requirement_id == requirement_id:
                return r
        raise KeyError(f"{self.market} assessment has no requirement {requirement_id!r}")

    def applicable(self) -> tuple[RequirementResult, ...]:
        """Results other than not applicable."""
        return tuple(r for r in self.results if r.status != "not_applicable")

    def to_json(self) -> dict[str, Any]:
        """The assessment as a JSON object (what is stored and what the API returns)."""
        return {
            "product": self.product_key, "product_name": self.product_name, "market": self.market,
            "pack_version": self.pack_version, "on": self.on.isoformat(), "window_days": self.window_days,
            "version": self.version, "assessed_at": self.assessed_at, "status": self.status,
            "counts": self.counts, "product_hash": self.product_hash,
            "attributes": dict(self.attributes), "evidence_state": dict(self.evidence_state),
            "results": [r.to_json() for r in self.results],
        }

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of what was decided (version and time excluded)."""
        doc = self.to_json()
        doc.pop("version")
        doc.pop("assessed_at")
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Assessment:
        """Inverse of :meth:`to_json`."""
        return cls(
            data["product"], data.get("product_name", data["product"]), data["market"], data["pack_version"],
            dt.date.fromisoformat(data["on"]), int(data["window_days"]),
            tuple(RequirementResult.from_json(r) for r in data["results"]), dict(data.get("attributes", {})),
            data.get("product_hash", ""), dict(data.get("evidence_state", {})), data.get("version"),
            data.get("assessed_at"),
        )
