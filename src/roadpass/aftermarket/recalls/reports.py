"""Authority reports from a campaign: the forms are data (``forms/*.yaml``: each field's clause and where its
value comes from), this module only looks values up.

A report is built from the campaign's *facts*: a flat mapping from a source path (``defect.risk``,
``vehicles.affected``, ``period.remedied``) to a value, every one taken from the stored campaign or
computed from its vehicles and the service records that remedied them. A field is ``filled`` with its
value and source path, or ``missing`` with the reason: a form's field whose source is null, or whose source
has no value in this campaign. Nothing is invented. Counts are taken over the form's markets only (a US
report counts vehicles sold or registered in the US).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

from roadpass.aftermarket.recalls.completion import completion_by_market
from roadpass.aftermarket.recalls.model import Campaign, RemedyState, VehicleState
from roadpass.trace.timeutil import from_us, iso_utc, to_us

__all__ = ["Form", "Report", "ReportField", "build_report", "campaign_facts", "form", "forms", "parse_quarter",
           "quarters"]

_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$")


@dataclass(frozen=True, slots=True)
class Form:
    """An authority's form: which markets it covers, its fields with their clauses and sources."""

    id: str
    title: str
    authority: str
    citation: str
    source: str
    markets: frozenset[str]
    fields: tuple[dict[str, Any], ...]
    notes: tuple[str, ...] = ()
    period: str | None = None
    quarters: int = 0


@cache
def forms() -> dict[str, Form]:
    """Every form shipped with roadpass, by id (read on first use)."""
    out: dict[str, Form] = {}
    for entry in sorted(resources.files("roadpass.aftermarket.recalls").joinpath("forms").iterdir(),
                        key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        out[data["form"]] = Form(
            id=data["form"], title=data["title"], authority=data["authority"], citation=data["citation"],
            source=data["source"], markets=frozenset(data.get("markets", ())), fields=tuple(data["fields"]),
            notes=tuple(data.get("notes", ())), period=data.get("period"), quarters=int(data.get("quarters", 0)),
        )
    return out


def form(form_id: str) -> Form:
    """One form; ``KeyError`` naming the known ones."""
    found = forms().get(form_id)
    if found is None:
        raise KeyError(f"no report form {form_id!r}; known: {', '.join(sorted(forms()))}")
    return found


def parse_quarter(text: str) -> tuple[int, int]:
    """``2026Q4`` or ``2026-Q4`` as (year, quarter); ``ValueError`` otherwise."""
    match = _QUARTER.match(text.strip().upper())
    if match is None:
        raise ValueError(f"{text!r} is not a calendar quarter like 2026Q4")
    return int(match.group(1)), int(match.group(2))


def _quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return start, end


def quarters(opened: date, count: int) -> list[str]:
    """The ``count`` consecutive calendar quarters from the one a campaign was opened in."""
    year, quarter = opened.year, (opened.month - 1) // 3 + 1
    out: list[str] = []
    for _ in range(count):
        out.append(f"{year}Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return out


@dataclass(frozen=True, slots=True)
class ReportField:
    """One field of a report: filled (value, source path) or missing (reason)."""

    id: str
    label: str
    clause: str
    status: str  # "filled" or "missing"
    value: Any = None
    source: str | None = None
    reason: str | None = None
    to_confirm: bool = False

    def as_json(self) -> dict[str, Any]:
        """As the JSON report lists it."""
        out: dict[str, Any] = {"id": self.id, "label": self.label, "clause": self.clause, "status": self.status}
        if self.status == "filled":
            out["value"], out["source"] = self.value, self.source
        else:
            out["reason"] = self.reason
        if self.to_confirm:
            out["toConfirm"] = True
        return out


@dataclass(frozen=True, slots=True)
class Report:
    """A report: the form, the campaign, the fields, and what the form needs that roadpass does not hold."""

    form: Form
    campaign_key: str
    generated_at: str
    period: str | None
    fields: tuple[ReportField, ...]

    @property
    def missing(self) -> list[ReportField]:
        """The fields left empty, each with its reason."""
        return [f for f in self.fields if f.status == "missing"]

    def as_json(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "form": self.form.id, "title": self.form.title, "authority": self.form.authority,
            "citation": self.form.citation, "source": self.form.source, "notes": list(self.form.notes),
            "campaign": self.campaign_key, "generatedAt": self.generated_at, "period": self.period,
            "markets": sorted(self.form.markets), "fields": [f.as_json() for f in self.fields],
            "missing": [{"id": f.id, "clause": f.clause, "reason": f.reason} for f in self.missing],
        }


def _day(us: int) -> str:
    return from_us(us).date().isoformat()


def _models(vins: Iterable[str]) -> list[str]:
    # ISO 3779: positions 1-3 are the WMI, position 10 the model-year code (FMVSS 565 in the US).
    return sorted({f"WMI {vin[:3]}, model-year code {vin[9]}" for vin in vins if len(vin) == 17})


def campaign_facts(campaign: Campaign, states: Sequence[VehicleState], markets: frozenset[str]) -> dict[str, Any]:
    """The campaign's facts by source path, counting vehicles of ``markets`` only (empty: every market)."""
    d = campaign.draft
    kept = [s for s in states if not markets or s.market in markets]
    counted = [s for s in kept if s.state is not RemedyState.NO_LONGER_FITTED]
    vins = sorted(s.vin for s in counted)
    per_market = completion_by_market(kept)
    window = d.scope.production_window
    facts: dict[str, Any] = {
        "campaign.key": d.campaign_key, "campaign.title": d.title, "campaign.openedOn": _day(campaign.created_at),
        "manufacturer.name": d.manufacturer,
        "defect.description": d.defect.description, "defect.risk": d.defect.risk,
        "defect.component": d.defect.component, "defect.determinedOn": d.defect.determined_on,
        "defect.chronology": d.defect.chronology, "defect.noncompliance": d.defect.noncompliance,
        "remedy.description": d.remedy.description, "remedy.parts": list(d.remedy.parts) or None,
        "remedy.operations": list(d.remedy.operations) or None,
        "scope.productionWindow": None if window is None else f"{iso_utc(window.start)} to {iso_utc(window.end)}",
        "scope.summary": _scope_summary(campaign),
        "vehicles.affected": len(counted),
        "vehicles.models": _models(vins) or None,
        "vehicles.vinRange": f"{vins[0]} to {vins[-1]}" if vins else None,
        "vehicles.byMarket": {m: c.affected for m, c in per_market.items()} or None,
        "completion.summary": {m: c.as_json() for m, c in per_market.items()} or None,
    }
    for name, value in d.dates.items():
        facts[f"dates.{name}"] = value
    notice = {k: d.dates[k] for k in ("dealerNoticeOn", "ownerNoticeOn") if k in d.dates}
    facts["dates.notification"] = notice or None
    window_dates = {k: d.dates[k] for k in ("remedyAvailableOn", "remedyDueOn") if k in d.dates}
    facts["dates.remedyWindow"] = window_dates or None
    for name, value in d.references.items():
        facts[f"references.{name}"] = value
    for name, value in d.contact.items():
        facts[f"contact.{name}"] = value
    return facts


def _scope_summary(campaign: Campaign) -> dict[str, Any] | None:
    scope = campaign.draft.scope.as_json()
    kept = {k: v for k, v in scope.items() if v}
    return kept or None


def period_facts(states: Sequence[VehicleState], markets: frozenset[str], year: int, quarter: int) -> dict[str, Any]:
    """Completion facts at the end of a calendar quarter (remedies done before its last instant)."""
    start, end = _quarter_bounds(year, quarter)
    start_us = to_us(datetime(start.year, start.month, start.day, tzinfo=UTC))
    end_us = to_us(datetime(end.year, end.month, end.day, tzinfo=UTC))
    kept = [s for s in states if not markets or s.market in markets]
    totals = completion_by_market(kept, until=end_us).values()
    affected = sum(c.affected for c in totals)
    remedied = sum(c.remedied for c in totals)
    return {
        "period.quarter": f"{year}Q{quarter} ({start.isoformat()} to {(end - timedelta(days=1)).isoformat()})",
        "period.affected": affected,
        "period.remedied": remedied,
        "period.rate": round(remedied / affected, 4) if affected else None,
        "period.remediedInQuarter": sum(1 for s in kept if s.state is RemedyState.REMEDIED and s.remedied_at
                                        is not None and start_us <= s.remedied_at < end_us),
        "period.noLongerFitted": sum(c.no_longer_fitted for c in totals),
    }


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def build_report(the_form: Form, facts: Mapping[str, Any], *, campaign_key: str, period: str | None,
                 generated_at: int) -> Report:
    """Fill ``the_form`` from ``facts``: every field filled with its source, or missing with why."""
    fields: list[ReportField] = []
    for spec in the_form.fields:
        source = spec.get("source")
        common = {"id": spec["id"], "label": spec["label"], "clause": spec["clause"],
                  "to_confirm": bool(spec.get("to_confirm"))}
        if source is None:
            fields.append(ReportField(status="missing", reason=spec.get("why_missing", "roadpass does not hold it"),
                                      **common))
            continue
        value = facts.get(source)
        if _present(value):
            fields.append(ReportField(status="filled", value=value, source=f"campaign:{source}", **common))
        elif spec.get("optional"):
            fields.append(ReportField(status="filled", value="not applicable", source=f"campaign:{source}",
                                      **common))
        else:
            fields.append(ReportField(status="missing", reason=f"the campaign has no {source}", **common))
    return Report(the_form, campaign_key, iso_utc(generated_at), period, tuple(fields))
