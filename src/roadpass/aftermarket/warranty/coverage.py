"""Warranty coverage (data: ``coverage.yaml``) and the rule that judges a claim against it and the genealogy.

Pure: the facts a decision needs (when the vehicle was delivered, whether and when the claimed part was in
it, the odometer and state of health) are gathered by the warranty service and handed in as
:class:`ClaimFacts`; :func:`judge` says accepted or rejected, under which entry, and why in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

from roadpass.trace.timeutil import from_us, iso_utc, to_us

__all__ = [
    "ClaimFacts",
    "CoverageEntry",
    "CoverageTable",
    "Verdict",
    "coverage_state",
    "coverage_table",
    "judge",
    "parse_coverage",
    "term_end",
]

COVERAGE_FILE = "coverage.yaml"


@dataclass(frozen=True, slots=True)
class CoverageEntry:
    """One promise: ``products`` in ``markets`` for ``years`` from delivery (and up to ``km``; a battery's
    ``min_state_of_health`` for its term), with the clause it comes from."""

    id: str
    kind: str
    markets: tuple[str, ...]
    products: tuple[str, ...]
    years: int
    source: str
    confirmed: bool
    km: int | None = None
    min_state_of_health: float | None = None
    quote: str = ""
    note: str = ""

    def applies(self, market: str, product: str) -> bool:
        """True when the entry covers ``product`` in ``market``."""
        return product in self.products and ("*" in self.markets or market in self.markets)

    @property
    def citation(self) -> str:
        """The clause, marked when roadpass could not confirm it."""
        return self.source if self.confirmed else f"{self.source} [to confirm]"

    def as_json(self) -> dict[str, Any]:
        """The entry as the API and pages show it."""
        return {"id": self.id, "kind": self.kind, "markets": list(self.markets), "products": list(self.products),
                "years": self.years, "km": self.km, "minStateOfHealth": self.min_state_of_health,
                "source": self.source, "confirmed": self.confirmed, "note": self.note}


@dataclass(frozen=True, slots=True)
class CoverageTable:
    """Every coverage entry and the product keys they use."""

    products: Mapping[str, str]
    entries: tuple[CoverageEntry, ...]

    def for_claim(self, market: str, product: str) -> list[CoverageEntry]:
        """The entries that cover ``product`` in ``market``, the maker's own first (it settles claims)."""
        found = [e for e in self.entries if e.applies(market, product)]
        return sorted(found, key=lambda e: (e.kind != "commercial_guarantee", e.id))


def _entry(raw: Mapping[str, Any]) -> CoverageEntry:
    return CoverageEntry(
        id=str(raw["id"]), kind=str(raw["kind"]), markets=tuple(raw["markets"]), products=tuple(raw["products"]),
        years=int(raw["years"]), source=str(raw["source"]), confirmed=bool(raw.get("confirmed", False)),
        km=None if raw.get("km") is None else int(raw["km"]),
        min_state_of_health=None if raw.get("min_state_of_health") is None else float(raw["min_state_of_health"]),
        quote=str(raw.get("quote", "")), note=str(raw.get("note", "")),
    )


def parse_coverage(text: str) -> CoverageTable:
    """A coverage table from its YAML text (every entry's product must be declared)."""
    data = yaml.safe_load(text)
    products = dict(data["products"])
    entries = tuple(_entry(raw) for raw in data["coverage"])
    for entry in entries:
        unknown = set(entry.products) - set(products)
        if unknown:
            raise ValueError(f"coverage {entry.id}: unknown products {sorted(unknown)}")
    return CoverageTable(products, entries)


@cache
def coverage_table() -> CoverageTable:
    """The coverage shipped with roadpass (read once, on first use)."""
    text = resources.files("roadpass.aftermarket.warranty").joinpath(COVERAGE_FILE).read_text(encoding="utf-8")
    return parse_coverage(text)


def term_end(start: int, years: int) -> int:
    """``years`` after ``start`` (UTC µs), the same calendar day (29 February → 28 February)."""
    moment = from_us(start)
    try:
        end = moment.replace(year=moment.year + years)
    except ValueError:
        end = moment.replace(year=moment.year + years, day=28)
    return to_us(end) if end > moment else to_us(moment + timedelta(days=365 * years))


@dataclass(frozen=True, slots=True)
class ClaimFacts:
    """What a decision rests on: the claim as submitted and what the genealogy and records say."""

    market: str | None
    product: str
    claimed_at: int
    odometer_km: int
    state_of_health: float | None
    delivered_at: int | None  # the vehicle's first retail sale (None: never delivered)
    part_in_vehicle_since: int | None  # when the claimed part first entered the vehicle (None: never)
    record_problem: str | None = None  # what the referenced service record contradicts (None: agrees)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The decision: accepted under ``entry`` or rejected, with the reason in words."""

    accepted: bool
    reason: str
    entry: CoverageEntry | None = None

    @property
    def rule(self) -> str:
        """The clause the decision applied (for the ledger and the claim's history)."""
        return self.entry.citation if self.entry else "roadpass warranty: claim checked against the genealogy"


def _outside(entry: CoverageEntry, facts: ClaimFacts, delivered: int) -> str | None:
    """Why the claim falls outside ``entry`` (None when inside)."""
    end = term_end(delivered, entry.years)
    if facts.claimed_at >= end:
        return f"the claim date {iso_utc(facts.claimed_at)[:10]} is after {entry.id} ended on {iso_utc(end)[:10]}"
    if entry.km is not None and facts.odometer_km > entry.km:
        return f"{facts.odometer_km} km is beyond the {entry.km} km of {entry.id}"
    if entry.min_state_of_health is not None and facts.state_of_health is not None \
            and facts.state_of_health >= entry.min_state_of_health:
        return (f"state of health {facts.state_of_health:g}% is not below the {entry.min_state_of_health:g}% "
                f"{entry.id} guarantees")
    return None


def judge(facts: ClaimFacts, table: CoverageTable) -> Verdict:
    """Accept or reject a claim: the part must have been in the vehicle (genealogy) before the claim date,
    the referenced record must agree, the vehicle must have been delivered, and some entry for the market
    and product must still run on the claim date (years, km, state of health)."""
    if facts.product not in table.products:
        return Verdict(False, f"unknown product {facts.product!r} (known: {', '.join(sorted(table.products))})")
    if facts.part_in_vehicle_since is None or facts.part_in_vehicle_since > facts.claimed_at:
        return Verdict(False, "the claimed part was never in that vehicle before the claim date, per the genealogy")
    if facts.record_problem:
        return Verdict(False, facts.record_problem)
    if facts.delivered_at is None or facts.delivered_at > facts.claimed_at:
        return Verdict(False, "the vehicle had not been delivered to a customer (no retail sale) by the claim date")
    if facts.market is None:
        return Verdict(False, "the vehicle's market is not known, so no coverage can be chosen")
    entries = table.for_claim(facts.market, facts.product)
    if not entries:
        return Verdict(False, f"no coverage for {facts.product} in {facts.market}")
    reasons: list[str] = []
    for entry in entries:
        why = _outside(entry, facts, facts.delivered_at)
        if why is None:
            note = "" if entry.confirmed else " (the coverage figure is to confirm)"
            return Verdict(True, f"inside {entry.id} ({entry.citation}){note}", entry)
        reasons.append(why)
    return Verdict(False, "outside coverage: " + "; ".join(reasons), entries[0])


def coverage_state(
    table: CoverageTable, market: str | None, delivered_at: int | None, odometer_km: int | None, at: int,
    products: Sequence[str] = ("vehicle", "traction_battery"),
) -> list[dict[str, Any]]:
    """What runs for a vehicle at ``at``: per product and entry, until when, and whether it still runs
    (km judged on the latest known odometer reading)."""
    if market is None or delivered_at is None:
        return []
    out: list[dict[str, Any]] = []
    for product in products:
        for entry in table.for_claim(market, product):
            end = term_end(delivered_at, entry.years)
            running = at < end and (entry.km is None or odometer_km is None or odometer_km <= entry.km)
            out.append({"product": product, "coverage": entry.id, "kind": entry.kind, "until": iso_utc(end)[:10],
                        "km": entry.km, "running": running, "source": entry.citation})
    return out
