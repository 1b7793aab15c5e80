"""Drawing a campaign: the completion curve (SVG, for the web page) and an authority report as PDF.

matplotlib is imported when something is drawn, never at import time (it costs the CLI and server start-up
about a second); figures are built with the object API (``matplotlib.figure.Figure``), not pyplot, so
requests drawing at once in several threads share no global figure state.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from roadpass.aftermarket.recalls.completion import CurvePoint
from roadpass.aftermarket.recalls.reports import Report

__all__ = ["curve_svg", "report_pdf"]

# matplotlib's bundled DejaVu fonts have no CJK glyphs and roadpass ships no CJK font: the PDF leaves the
# Chinese field names out (each label carries an English name too) and says so; the JSON report keeps them.
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")


def _figure(curve: Mapping[str, Sequence[CurvePoint]], title: str) -> Any:
    from matplotlib.figure import Figure  # drawn on demand: keeps matplotlib off the start-up path

    fig = Figure(figsize=(7.5, 3.4), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    for market, points in sorted(curve.items(), key=lambda kv: (-(kv[1][-1].rate if kv[1] else 0.0), kv[0])):
        ax.plot(range(len(points)), [100 * p.rate for p in points], label=market, linewidth=1.6)
    first = next(iter(curve.values()), [])
    if first:
        ticks = sorted({0, len(first) // 2, len(first) - 1})
        ax.set_xticks(ticks, [first[i].day for i in ticks])
    ax.set_ylim(0, 100)
    ax.set_ylabel("remedied, % of affected")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if curve:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def curve_svg(curve: Mapping[str, Sequence[CurvePoint]], title: str) -> str:
    """Completion by market over time as an SVG document (one line per market)."""
    buf = io.StringIO()
    _figure(curve, title).savefig(buf, format="svg")
    return buf.getvalue()


def _lines(report: Report) -> list[str]:
    lines = _all_lines(report)
    kept = [" ".join(_CJK.sub(" ", line).split()) if _CJK.search(line) else line for line in lines]
    if kept != lines:
        kept.insert(1, "(Chinese field names are in the JSON report: this PDF embeds no CJK font.)")
    return kept


def _all_lines(report: Report) -> list[str]:
    out = [report.form.title, f"{report.form.authority} - {report.form.citation}",
           f"Campaign {report.campaign_key}; generated {report.generated_at}"
           + (f"; period {report.period}" if report.period else ""), ""]
    for f in report.fields:
        mark = " (to confirm)" if f.to_confirm else ""
        out.append(f"[{f.clause}]{mark} {f.label}")
        text = f"    = {f.value}  <- {f.source}" if f.status == "filled" else f"    MISSING: {f.reason}"
        out += textwrap.wrap(text, 110, subsequent_indent="      ")[:6]
    out += ["", "Missing fields (roadpass does not hold them; never invented):"]
    out += [f"  - {f.id} [{f.clause}]: {f.reason}" for f in report.missing] or ["  none"]
    out += ["", "Notes:"]
    for note in report.form.notes:
        out += textwrap.wrap(note, 110, initial_indent="  ", subsequent_indent="  ")
    return out


def report_pdf(report: Report, curve: Mapping[str, Sequence[CurvePoint]] | None = None) -> bytes:
    """The report as PDF: its fields, values, sources and citations page by page, then the completion curve."""
    from matplotlib.backends.backend_pdf import PdfPages  # drawn on demand, as above
    from matplotlib.figure import Figure

    lines = _lines(report)
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        for start in range(0, len(lines), 80):
            page = Figure(figsize=(8.27, 11.69))
            page.text(0.05, 0.97, "\n".join(lines[start:start + 80]), va="top", family="monospace", fontsize=6.5)
            pdf.savefig(page)
        if curve:
            pdf.savefig(_figure(curve, f"Completion by market - {report.campaign_key}"))
    return buf.getvalue()
