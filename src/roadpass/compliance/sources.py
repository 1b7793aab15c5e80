"""The sources report: every requirement with its primary sources, quotes, support, confidence and review date.

What a compliance officer reads before signing: for each requirement of the pack version in use, the
citations, each Proof (the provision's URL, publication and verbatim quote of the date or figure it states),
the secondary sources, what is still to confirm, the confidence and when the sources were last checked. A
requirement whose review is older than ``stale_after_days`` (or that was never reviewed) is flagged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from roadpass.compliance.pack_models import Requirement
from roadpass.compliance.packs_loader import PackLibrary

__all__ = ["DEFAULT_STALE_AFTER_DAYS", "RequirementSources", "SourcesReport", "primary_url", "sources_report"]

#: A requirement's sources are re-checked at least once a year unless the caller says otherwise.
DEFAULT_STALE_AFTER_DAYS = 365


def primary_url(req: Requirement) -> str:
    """The link that best proves the requirement: its first primary source, else its first citation."""
    proofs = req.proofs()
    return proofs[0][1].url if proofs else req.citations[0].url


@dataclass(frozen=True, slots=True)
class RequirementSources:
    """One requirement's sources and review state."""

    market: str
    pack_version: str
    requirement: Requirement
    stale: bool

    def to_json(self) -> dict[str, Any]:
        """As JSON: citations, primary sources (where they sit), support, what is to confirm, review state."""
        req = self.requirement
        support = [{"where": "requirement", "url": s.url, "note": s.note} for s in req.support]
        support += [{"where": f"effective/phases/{i}", "url": s.url, "note": s.note}
                    for i, p in enumerate(req.effective.phases) for s in p.support]
        support += [{"where": f"figures/{i}", "url": s.url, "note": s.note}
                    for i, f in enumerate(req.figures) for s in f.support]
        return {
            "market": self.market, "pack_version": self.pack_version, "requirement": req.id, "title": req.title,
            "topic": req.topic, "severity": req.severity, "confidence": req.confidence,
            "confidence_note": req.confidence_note,
            "reviewed": req.reviewed.isoformat() if req.reviewed else None, "stale": self.stale,
            "url": primary_url(req),
            "citations": [{"instrument": c.instrument, "provision": c.provision, "url": c.url} for c in req.citations],
            "primary": [{"where": where, **proof.to_json()} for where, proof in req.proofs()],
            "support": support,
            "figures": [{"name": f.name, "value": f.value, "unit": f.unit, "states": f.states,
                         "sourced": f.source is not None, "to_confirm": f.to_confirm} for f in req.figures],
            "to_confirm": list(req.to_confirm_notes()),
        }


@dataclass(frozen=True, slots=True)
class SourcesReport:
    """Every requirement's sources, as of a date, with those whose review is stale."""

    on: dt.date
    stale_after_days: int
    entries: tuple[RequirementSources, ...]

    @property
    def stale(self) -> tuple[RequirementSources, ...]:
        """Requirements never reviewed, or reviewed more than ``stale_after_days`` before ``on``."""
        return tuple(e for e in self.entries if e.stale)

    def to_json(self) -> dict[str, Any]:
        """As JSON (the shape ``roadpass compliance sources --json`` prints)."""
        confidence = {level: sum(e.requirement.confidence == level for e in self.entries)
                      for level in ("high", "medium", "low")}
        return {"on": self.on.isoformat(), "stale_after_days": self.stale_after_days,
                "counts": {"requirements": len(self.entries), "stale": len(self.stale),
                           "to_confirm": sum(bool(e.requirement.to_confirm_notes()) for e in self.entries),
                           "confidence": confidence},
                "stale": [e.requirement.id for e in self.stale],
                "requirements": [e.to_json() for e in self.entries]}


def sources_report(
    library: PackLibrary, markets: Iterable[str] | None = None, *, on: dt.date,
    stale_after_days: int = DEFAULT_STALE_AFTER_DAYS, include_proposed: bool = False,
) -> SourcesReport:
    """The sources of every requirement of the version in use of each market (default: every market)."""
    if stale_after_days < 0:
        raise ValueError("stale_after_days: must be 0 or more")
    limit = on - dt.timedelta(days=stale_after_days)
    entries = []
    for market in markets if markets is not None else library.markets():
        pack = library.get(market, include_proposed=include_proposed)
        for req in pack.requirements:
            stale = req.reviewed is None or req.reviewed < limit
            entries.append(RequirementSources(market, pack.version, req, stale))
    return SourcesReport(on, stale_after_days, tuple(entries))
