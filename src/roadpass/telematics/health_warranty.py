"""The warranty and recall hook: a pack whose state of health fell below the warranted threshold within the
warranted years is flagged.

A battery warranty is usually written as "at least X % state of health for Y years (or Z km)"; the figures
are the maker's, not the regulation's (Reg. (EU) 2023/1542 fixes no warranty threshold; for EV batteries
the UN GTR No. 22 minimum performance requirement, SOCE >= 80 % at 5 years or 100,000 km and >= 70 % at 8
years or 160,000 km for Category 1-1 vehicles, figures to confirm against the GTR text, is a durability
floor, not a warranty). So the rule takes the terms as input, and the
aftermarket's warranty or recall logic decides what a flag means. Distance terms are left to the caller
(the passport carries no odometer reading).

Which figure: each state-of-health figure the pack has is tested (the vehicle's reported figure and
roadpass's own estimate from capacity); the pack is flagged by the lowest one inside the warranty period,
and the finding names the figure, its value and when it was measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["HealthFigure", "WarrantyFinding", "WarrantyTerms", "warranty_finding"]

_YEAR_US = int(365.25 * 86_400_000_000)


@dataclass(frozen=True, slots=True)
class WarrantyTerms:
    """The warranted state of health and for how long from putting into service."""

    threshold_percent: float
    years: float

    def __post_init__(self) -> None:
        if not 0 < self.threshold_percent <= 100:
            raise ValueError(f"threshold_percent must be within (0, 100], got {self.threshold_percent!r}")
        if not self.years > 0:
            raise ValueError(f"years must be > 0, got {self.years!r}")


@dataclass(frozen=True, slots=True)
class HealthFigure:
    """One state-of-health figure of a pack: which (``reported`` or ``estimated``), value in %, when (UTC µs)."""

    source: str
    percent: float
    at_us: int


@dataclass(frozen=True, slots=True)
class WarrantyFinding:
    """The rule's answer: flagged or not, why, the figure that decided, the warranty period (UTC µs)."""

    flagged: bool
    reason: str
    figure: HealthFigure | None
    in_service_us: int | None
    warranty_end_us: int | None


def warranty_finding(
    terms: WarrantyTerms, in_service_us: int | None, figures: Iterable[HealthFigure]
) -> WarrantyFinding:
    """Flag the pack when a figure measured within ``terms.years`` of putting into service is below
    ``terms.threshold_percent`` (the lowest such figure decides)."""
    if in_service_us is None:
        return WarrantyFinding(False, "no putting-into-service date: the warranty period is unknown", None, None,
                               None)
    end = in_service_us + int(terms.years * _YEAR_US)
    inside = [f for f in figures if in_service_us <= f.at_us <= end]
    if not inside:
        return WarrantyFinding(False, "no state-of-health figure within the warranty period", None,
                               in_service_us, end)
    low = min(inside, key=lambda f: (f.percent, f.at_us))
    if low.percent < terms.threshold_percent:
        reason = (f"{low.source} state of health {low.percent:.1f} % is below the warranted "
                  f"{terms.threshold_percent:g} % within {terms.years:g} years of putting into service")
        return WarrantyFinding(True, reason, low, in_service_us, end)
    return WarrantyFinding(False, f"lowest state of health {low.percent:.1f} % meets the warranted "
                                  f"{terms.threshold_percent:g} %", low, in_service_us, end)
