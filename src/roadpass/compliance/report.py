"""A readable gap report: a products x markets heat map and, per cell, the gaps with owners and deadlines.

HTML embeds the heat map as a PNG data URI (no external files); PDF uses matplotlib's PdfPages, so no extra
dependency is needed. matplotlib is imported when a chart is drawn, never at import time.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, select_autoescape

from roadpass.compliance.actions import ActionItem
from roadpass.compliance.matrix import Matrix

__all__ = ["STATUS_COLOURS", "heatmap_png", "html_report", "pdf_report"]

STATUS_COLOURS = {"ok": "#2e7d32", "expiring": "#f9a825", "to_confirm": "#0277bd", "gaps": "#ef6c00",
                  "blocked": "#c62828", None: "#e0e0e0"}
_ORDER = (None, "ok", "expiring", "to_confirm", "gaps", "blocked")
_LEVEL = {status: level for level, status in enumerate(_ORDER)}
#: Requirement statuses listed under a cell: what needs doing.
_LISTED = ("gap", "to_confirm", "expiring")

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>roadpass gap report {{ m.on }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.3rem .5rem;font-size:.85rem;vertical-align:top}
.ok{background:#c8e6c9}.expiring{background:#fff59d}.gaps{background:#ffcc80}.blocked{background:#ef9a9a}
.to_confirm{background:#b3e5fc}
h2{margin-top:2rem}.reason{color:#555}
</style></head><body>
<h1>Compliance gap report</h1>
<p>Assessed on {{ m.on }} against the regulation packs in force; {{ m.products|length }} products,
{{ m.markets|length }} markets.</p>
<img alt="products x markets heat map" src="data:image/png;base64,{{ png }}">
<table><tr><th>product</th>{% for mk in m.markets %}<th>{{ mk }}</th>{% endfor %}</tr>
{% for key, name in m.products %}<tr><th>{{ name }}<br><small>{{ key }}</small></th>
{% for mk in m.markets %}{% set a = m.cells.get((key, mk)) %}
<td class="{{ a.status if a else '' }}">{% if a %}<a href="#{{ key }}-{{ mk }}">{{ a.status }}</a><br>
<small>{{ a.counts.gap }} gaps, {{ a.counts.to_confirm }} to confirm, {{ a.counts.expiring }} expiring</small>
{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>
{% for key, name in m.products %}{% for mk in m.markets %}{% set a = m.cells.get((key, mk)) %}
{% if a and (a.counts.gap or a.counts.to_confirm or a.counts.expiring) %}
<h2 id="{{ key }}-{{ mk }}">{{ name }} - {{ mk }} (pack {{ a.pack_version }}): {{ a.status }}</h2>
<table><tr><th>requirement</th><th>severity</th><th>status</th><th>deadline</th><th>owner</th><th>reason</th></tr>
{% for r in a.results if r.status in listed %}{% set act = owners.get((key, mk, r.requirement_id)) %}
<tr class="{{ 'blocked' if r.severity == 'blocker' and r.status == 'gap' else r.status }}">
<td>{{ r.requirement_id }}<br><small>{{ r.title }}</small></td><td>{{ r.severity }}</td><td>{{ r.status }}</td>
<td>{{ r.deadline or '' }}</td>
<td>{% if act %}{{ act.responsible_party }} / {{ act.responsible_person }}<br><small>due {{ act.due_on }}</small>
{% endif %}</td><td class="reason">{{ r.reason }}</td></tr>{% endfor %}</table>
{% endif %}{% endfor %}{% endfor %}
</body></html>
"""


def _grid(m: Matrix) -> tuple[list[list[int]], list[list[str]]]:
    levels, labels = [], []
    for key, _ in m.products:
        row_levels, row_labels = [], []
        for market in m.markets:
            a = m.cells.get((key, market))
            row_levels.append(_LEVEL[a.status if a else None])
            row_labels.append("" if a is None else str(a.counts["gap"]))
        levels.append(row_levels)
        labels.append(row_labels)
    return levels, labels


def _pyplot() -> Any:
    """matplotlib's pyplot, drawing off screen (the Agg backend)."""
    import matplotlib  # on the first chart: keeps matplotlib off the start-up path of CLI and server

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def _figure(m: Matrix) -> Any:
    plt = _pyplot()
    # After _pyplot() chose the backend; off the start-up path like it.
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    levels, labels = _grid(m)
    rows = max(1, len(m.products))
    fig, ax = plt.subplots(figsize=(3.4 + 0.7 * max(1, len(m.markets)), 1.2 + 0.45 * rows), dpi=110)
    cmap = ListedColormap([STATUS_COLOURS[s] for s in _ORDER])
    ax.imshow(levels or [[0]], cmap=cmap, vmin=0, vmax=len(_ORDER) - 1, aspect="auto")
    ax.set_xticks(range(len(m.markets)), list(m.markets))
    ax.set_yticks(range(len(m.products)), [textwrap.shorten(n, 28) for _, n in m.products])
    for y, row in enumerate(labels):
        for x, text in enumerate(row):
            if text:
                ax.text(x, y, text, ha="center", va="center", color="white", fontsize=9, fontweight="bold")
    ax.set_title(f"Open gaps on {m.on}", fontsize=10)
    legend = [Patch(color=STATUS_COLOURS[s], label=label) for s, label in (
        ("blocked", "blocker gap"), ("gaps", "gaps"), ("to_confirm", "to confirm"), ("expiring", "expiring"),
        ("ok", "all met"),
        (None, "not targeted"))]
    ax.legend(handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def heatmap_png(m: Matrix) -> bytes:
    """The products x markets heat map as PNG bytes (cell colour: status; number: open gaps)."""
    plt = _pyplot()
    fig = _figure(m)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _owners(actions: Sequence[ActionItem]) -> dict[tuple[str, str, str], ActionItem]:
    return {(a.product_key, a.market, a.requirement_id): a for a in actions}


def html_report(m: Matrix, actions: Sequence[ActionItem] = ()) -> str:
    """The report as one self-contained HTML page."""
    env = Environment(autoescape=select_autoescape(default=True))
    png = base64.b64encode(heatmap_png(m)).decode()
    return env.from_string(_TEMPLATE).render(m=m, png=png, owners=_owners(actions), listed=_LISTED)


def pdf_report(m: Matrix, actions: Sequence[ActionItem] = ()) -> bytes:
    """The report as PDF: the heat map, then one page of gaps per product and market with gaps."""
    plt = _pyplot()
    from matplotlib.backends.backend_pdf import PdfPages  # after _pyplot(); off the start-up path like it

    owners = _owners(actions)
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = _figure(m)
        pdf.savefig(fig)
        plt.close(fig)
        for key, name in m.products:
            for market in m.markets:
                a = m.cells.get((key, market))
                if a is None or not any(a.counts[s] for s in _LISTED):
                    continue
                lines = [f"{name} ({key}) - {market}, pack {a.pack_version}, {a.status}", ""]
                for r in a.results:
                    if r.status not in _LISTED:
                        continue
                    act = owners.get((key, market, r.requirement_id))
                    owner = f" owner {act.responsible_party}/{act.responsible_person} due {act.due_on}" if act else ""
                    lines.append(f"{r.requirement_id} [{r.severity}, {r.status}, deadline {r.deadline}]{owner}")
                    lines += textwrap.wrap(r.reason, 110, initial_indent="    ", subsequent_indent="    ")[:4]
                page = plt.figure(figsize=(8.27, 11.69))
                page.text(0.05, 0.97, "\n".join(lines[:70]), va="top", family="monospace", fontsize=6.5)
                pdf.savefig(page)
                plt.close(page)
    return buf.getvalue()
