"""The producer-responsibility report per producer, member state and year (Reg. (EU) 2023/1542 Art. 75).

Figures, from the trace record and the passports:

* placed on the market: batteries of the producer's registered models first made available in the member
  state (in a vehicle sold there or fitted to one in service), count and mass;
* collected: batteries of those models collected in the member state in the year (CBV ``collecting``
  events at its take-back points), count and mass; the collection rate follows Annex XI Part A: the mass
  collected in the year over the average mass placed on the market in that year and the two before;
* recycling: per recycler that treated those batteries in the year, recycling efficiency (output mass
  counted as recycling over input mass, Annex XII Part A) and material recovery per element (recovered
  over contained, Annex XII Part C);
* every applicable target of ``targets.yaml`` with its citation, deadline and whether it is met.

Output as JSON, as one HTML page with a chart (PNG data URI) and as a one-page PDF (matplotlib PdfPages).
"""

from __future__ import annotations

import base64
import io
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, Template

from roadpass.passport.epr.targets import Target, targets_of

__all__ = ["EprReport", "RecyclerFigures", "evaluate_targets", "report_chart_png", "report_html", "report_pdf"]

ELEMENTS = ("cobalt", "copper", "lead", "lithium", "nickel")  # Annex XII Part C


@dataclass(slots=True)
class RecyclerFigures:
    """What one recycler did with the producer's batteries in the year."""

    location: str
    name: str | None
    country: str | None
    batteries: int = 0
    input_kg: float = 0.0
    recycled_kg: float = 0.0
    contained_kg: dict[str, float] = field(default_factory=dict)
    recovered_kg: dict[str, float] = field(default_factory=dict)

    @property
    def efficiency_percent(self) -> float | None:
        """Recycling efficiency (Annex XII Part A): output counted as recycling over input, in %."""
        return round(100.0 * self.recycled_kg / self.input_kg, 2) if self.input_kg else None

    def recovery_percent(self, element: str) -> float | None:
        """Material recovery of ``element`` (Annex XII Part C) in %, or ``None`` when none was contained."""
        contained = self.contained_kg.get(element, 0.0)
        return round(100.0 * self.recovered_kg.get(element, 0.0) / contained, 2) if contained > 0 else None


@dataclass(slots=True)
class EprReport:
    """The report of one producer in one member state for one calendar year."""

    producer_key: str
    producer_name: str
    member_state: str
    year: int
    registration_number: str | None
    pro: str | None
    models: list[str]
    chemistry: str
    placed_count: int = 0
    placed_kg: float = 0.0
    placed_kg_by_year: dict[int, float] = field(default_factory=dict)
    collected_count: int = 0
    collected_kg: float = 0.0
    recyclers: list[RecyclerFigures] = field(default_factory=list)
    category: str = "ev"

    @property
    def collection_rate_percent(self) -> float | None:
        """Annex XI Part A: collected in the year over the average placed in the year and the two before."""
        placed = [self.placed_kg_by_year.get(self.year - k, 0.0) for k in range(3)]
        average = sum(placed) / 3
        return round(100.0 * self.collected_kg / average, 2) if average > 0 else None

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (figures, recyclers, targets with citations)."""
        return {
            "producer": {"key": self.producer_key, "name": self.producer_name,
                         "registrationNumber": self.registration_number,
                         "producerResponsibilityOrganisation": self.pro},
            "memberState": self.member_state,
            "year": self.year,
            "batteryCategory": self.category,
            "chemistry": self.chemistry,
            "models": self.models,
            "placedOnMarket": {"count": self.placed_count, "massKg": round(self.placed_kg, 3),
                               "massKgByYear": {str(y): round(m, 3)
                                                for y, m in sorted(self.placed_kg_by_year.items())}},
            "collected": {"count": self.collected_count, "massKg": round(self.collected_kg, 3),
                          "collectionRatePercent": self.collection_rate_percent,
                          "method": "Reg. (EU) 2023/1542 Annex XI Part A (average of the year and the two before)"},
            "recyclers": [
                {"location": r.location, "name": r.name, "country": r.country, "batteries": r.batteries,
                 "inputKg": round(r.input_kg, 3), "recycledKg": round(r.recycled_kg, 3),
                 "recyclingEfficiencyPercent": r.efficiency_percent,
                 "materialRecovery": {e: {"containedKg": round(r.contained_kg.get(e, 0.0), 3),
                                          "recoveredKg": round(r.recovered_kg.get(e, 0.0), 3),
                                          "percent": r.recovery_percent(e)} for e in ELEMENTS}}
                for r in self.recyclers
            ],
            "targets": evaluate_targets(self),
        }


def _status(value: float | None, target: Target, year: int) -> str:
    if target.percent is None:
        return "no rate target"
    if value is None:
        return "no data"
    if target.by is not None and year < target.by.year:
        return "met early" if value >= target.percent else "not yet due"
    return "met" if value >= target.percent else "not met"


def _best(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None  # every recycler has to reach it: report the weakest


def evaluate_targets(report: EprReport) -> list[dict[str, Any]]:
    """Each applicable target with the report's value, its citation and its status."""
    out: list[dict[str, Any]] = []

    def add(target: Target, value: float | None, status: str | None = None) -> None:
        row = asdict(target)
        row["by"] = target.by.isoformat() if isinstance(target.by, date) else None
        verdict = status or _status(value, target, report.year)
        row.update({"citation": target.citation, "value": value, "status": verdict})
        out.append(row)

    for target in targets_of("collection", applies_to=report.category):
        add(target, report.collection_rate_percent)
    for target in targets_of("recycling_efficiency", applies_to=report.chemistry):
        add(target, _best([r.efficiency_percent for r in report.recyclers]))
    for element in ELEMENTS:
        for target in targets_of("material_recovery", material=element):
            value = _best([r.recovery_percent(element) for r in report.recyclers])
            contained = any(r.contained_kg.get(element, 0.0) > 0 for r in report.recyclers)
            add(target, value, None if contained or not report.recyclers else "not contained in the input")
    for target in targets_of("recycled_content", applies_to=report.category):
        applies = target.by is not None and date(report.year, 12, 31) >= target.by
        add(target, None, None if applies else f"applies from {target.by}")
    return out


def report_chart_png(report: EprReport) -> bytes:
    """A bar chart of the report's rates against the nearest target of each, as PNG bytes."""
    # matplotlib is heavy and only reports draw: kept off the start-up path (and Agg set before pyplot).
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels: list[str] = []
    values: list[float] = []
    goals: list[float] = []
    for row in evaluate_targets(report):
        if row["kind"] == "recycled_content" or row["value"] is None or row["percent"] is None:
            continue
        label = row["material"] or row["kind"].replace("_", " ")
        if label in labels:
            continue  # the nearest deadline only
        labels.append(f"{label}\n(by {row['by'][:4]})")
        values.append(float(row["value"]))
        goals.append(float(row["percent"]))
    fig, ax = plt.subplots(figsize=(7.0, 3.2), dpi=110)
    positions = range(len(labels))
    ax.bar(positions, values, color="#0b6e4f", label="achieved")
    ax.scatter(list(positions), goals, color="#a4262c", marker="_", s=900, linewidths=3, label="target", zorder=3)
    ax.set_xticks(list(positions), labels, fontsize=8)
    ax.set_ylim(0, 110)
    ax.set_ylabel("%")
    ax.set_title(f"{report.producer_name} · {report.member_state} · {report.year}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


@cache
def _template() -> Template:
    source = resources.files("roadpass.passport.epr").joinpath("report.html").read_text(encoding="utf-8")
    return Environment(autoescape=True).from_string(source)


def report_html(report: EprReport) -> str:
    """The report as one self-contained HTML page (chart embedded as a PNG data URI)."""
    chart = base64.b64encode(report_chart_png(report)).decode()
    return _template().render(r=report.to_json(), chart=chart, elements=ELEMENTS)


def report_pdf(report: EprReport) -> bytes:
    """The report as a one-page A4 PDF: the figures, the chart, the targets with their citations."""
    # matplotlib is heavy and only reports draw: kept off the start-up path (and Agg set before pyplot).
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    data = report.to_json()
    fig = plt.figure(figsize=(8.27, 11.69))
    lines = [
        "Producer responsibility report (Reg. (EU) 2023/1542 Art. 75)",
        f"{data['producer']['name']} - registration {data['producer']['registrationNumber'] or '-'} in "
        f"{data['memberState']} - year {data['year']}",
        f"Placed on the market: {data['placedOnMarket']['count']} batteries, {data['placedOnMarket']['massKg']:.1f} kg",
        f"Collected: {data['collected']['count']} batteries, {data['collected']['massKg']:.1f} kg; "
        f"rate {data['collected']['collectionRatePercent']} % (Annex XI Part A)",
    ]
    for r in data["recyclers"]:
        lines.append(f"Recycler {r['name'] or r['location']}: {r['batteries']} batteries, {r['inputKg']:.1f} kg in, "
                     f"efficiency {r['recyclingEfficiencyPercent']} %")
    fig.text(0.06, 0.96, "\n".join(lines), va="top", fontsize=9, family="sans-serif")
    chart = fig.add_axes((0.06, 0.50, 0.88, 0.32))
    chart.imshow(mpimg.imread(io.BytesIO(report_chart_png(report)), format="png"))
    chart.axis("off")
    rows = [f"{t['kind'].replace('_', ' ')} {t['material'] or '/'.join(t['applies_to'])}: min {t['percent']} % "
            f"by {t['by']} - value {t['value']} - {t['status']} - {t['citation']}" for t in data["targets"]]
    fig.text(0.06, 0.47, "\n".join(rows), va="top", fontsize=6.2, family="monospace")
    out = io.BytesIO()
    with PdfPages(out) as pdf:
        pdf.savefig(fig)
    plt.close(fig)
    return out.getvalue()
