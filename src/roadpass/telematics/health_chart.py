"""A pack's health over its life, drawn from a passport view's history (an SVG for the passport page).

The points are the passport's own dynamic history as the caller's view carries it, so the chart shows
exactly what the caller may see (Reg. (EU) 2023/1542 Art. 77(2), Annex XIII (4): state of health is for
persons with a legitimate interest; a public view has no such history and gets no chart). Two series:
the state of health as reported (``stateOfCertifiedEnergy``, the vehicle's figure) and roadpass's estimate
from capacity (100 % minus ``capacityFade``); equivalent full cycles on a second axis.

matplotlib's object API (``Figure`` with the SVG canvas) is used rather than pyplot: pages render in server
threads and pyplot's global state is not thread-safe. matplotlib is imported on the first chart only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

from roadpass.trace.timeutil import parse_time

__all__ = ["health_chart_svg", "health_series"]

_CONDITION = "$.batteryCondition."
_SERIES = {  # path -> (series name, value key, how a value becomes the plotted figure)
    "stateOfCertifiedEnergy": ("reported", "stateOfCertifiedEnergyValue", False),
    "capacityFade": ("estimated", "capacityFadeValue", True),
    "numberOfFullCycles": ("cycles", "numberOfFullCyclesValue", False),
}


def health_series(history: Iterable[Mapping[str, Any]]) -> dict[str, list[tuple[int, float]]]:
    """``{"reported" | "estimated" | "cycles": [(UTC µs, value)]}`` from history entries (``section``,
    ``path``, ``value``, ``last_update``), oldest first; entries of other attributes are skipped."""
    out: dict[str, list[tuple[int, float]]] = {name: [] for name, _, _ in _SERIES.values()}
    for entry in history:
        path = str(entry.get("path") or "")
        if entry.get("section") != "PerformanceAndDurability" or not path.startswith(_CONDITION):
            continue
        spec = _SERIES.get(path[len(_CONDITION):])
        value = entry.get("value")
        stamp = entry.get("last_update") or entry.get("lastUpdate")
        if spec is None or not isinstance(value, dict) or not isinstance(stamp, str):
            continue
        name, key, is_fade = spec
        number = value.get(key)
        if isinstance(number, int | float) and not isinstance(number, bool):
            try:
                at = parse_time(stamp, "lastUpdate")
            except ValueError:
                continue
            out[name].append((at, 100.0 - float(number) if is_fade else float(number)))
    return {name: sorted(points) for name, points in out.items()}


def _xy(points: list[tuple[int, float]]) -> tuple[list[float], list[float]]:
    """Matplotlib date numbers (days since its default epoch, 1970-01-01 UTC) and values."""
    return [t / 86_400_000_000 for t, _ in points], [v for _, v in points]


def health_chart_svg(history: Iterable[Mapping[str, Any]]) -> str | None:
    """The chart as SVG text, or ``None`` when the history holds no state-of-health figure."""
    series = health_series(history)
    if not series["reported"] and not series["estimated"]:
        return None
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 2.8), dpi=100)
    FigureCanvasSVG(fig)
    ax = fig.add_subplot()
    if series["reported"]:
        ax.plot(*_xy(series["reported"]), marker="o", markersize=3, color="#1f6feb",
                label="state of health, reported (SOCE) %")
    if series["estimated"]:
        ax.plot(*_xy(series["estimated"]), marker="s", markersize=3, color="#d97706",
                label="estimated from capacity (100 - capacity fade) %")
    ax.xaxis_date()
    ax.set_ylabel("%")
    ax.grid(True, alpha=0.3)
    if series["cycles"]:
        twin = ax.twinx()
        twin.xaxis_date()
        twin.plot(*_xy(series["cycles"]), color="#6b7280", linestyle=":", label="equivalent full cycles")
        twin.set_ylabel("full cycles")
    ax.legend(loc="lower left", fontsize=7, frameon=False)
    ax.set_title("Battery health over its life", fontsize=10)
    fig.autofmt_xdate()
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]  # inline in the page: no XML declaration or DOCTYPE
