"""``roadpass trace as-built|where-used``: genealogy from the terminal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.trace.genealogy import AsBuiltNode
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import FOREVER, iso_utc, parse_time
from roadpass.trace.views import as_built_json, where_used_json

__all__ = ["trace_app"]

trace_app = typer.Typer(help="As-built genealogy and where-used (recall) queries.", no_args_is_help=True)
IdArg = Annotated[str, typer.Argument(help="VIN, EPC URN, GS1 Digital Link URI or lot class URN.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Instant (ISO 8601 with offset); default now.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _instant(at: str | None, as_json: bool) -> int | None:
    if at is None:
        return None
    try:
        return parse_time(at, "--at")
    except ValueError as exc:
        fail(str(exc), as_json=as_json)


def _label(node: AsBuiltNode, names: Mapping[str, str]) -> str:
    relation = "" if node.kind is None else ("[dim]made from[/] " if node.kind == 2 else "")
    name = f"[cyan]{escape(names[node.key])}[/] " if node.key in names else ""
    vin = f" [bold]VIN {node.vin}[/]" if node.vin else ""
    since = f" [dim]since {iso_utc(node.since)}[/]" if node.since is not None else ""
    return f"{relation}{name}{node.key}{vin}{since}"


def _add(branch: Tree, node: AsBuiltNode, names: Mapping[str, str]) -> None:
    for child in node.children:
        _add(branch.add(_label(child, names)), child, names)


@trace_app.command("as-built")
def as_built(identifier: IdArg, at: AtOpt = None, as_json: JsonOpt = False) -> None:
    """The whole as-built tree under a unit (vehicle → pack → modules → cell lots, ECUs, …)."""
    instant = _instant(at, as_json)
    app = open_app()
    try:
        tree = app.trace.as_built(identifier, instant)
    except UnitNotFound as exc:
        fail(str(exc), code=2, as_json=as_json)
    if as_json:
        print_json({"at": at, "nodes": tree.count(), "tree": as_built_json(tree)})
        return
    names = app.master_data.names(tree.keys(), instant)  # products and lots, as named then, in one read
    root = Tree(_label(tree, names))
    _add(root, tree, names)
    console.print(root)
    console.print(f"{tree.count()} units" + (f" at {at}" if at else " now"))


@trace_app.command("where-used")
def where_used(identifier: IdArg, at: AtOpt = None, as_json: JsonOpt = False) -> None:
    """Every vehicle that contains or contained a unit or lot: the recall blast radius."""
    instant = _instant(at, as_json)
    app = open_app()
    try:
        unit, hits = app.trace.where_used(identifier, instant)
    except UnitNotFound as exc:
        fail(str(exc), code=2, as_json=as_json)
    summary = where_used_json(unit.key, at, hits)
    if as_json:
        print_json(summary)
        return
    names = app.master_data.names([unit.key, *(h.key for h in hits[:200] if not h.vin)], instant)
    if unit.key in names:
        console.print(f"[bold]{escape(names[unit.key])}[/] {unit.key}")
    table = Table("VIN / unit", "name", "market", "now", "contained", "via supplier")
    for hit in hits[:200]:
        spans = "; ".join(
            f"{iso_utc(s.start)[:10]} → {'' if s.end >= FOREVER else iso_utc(s.end)[:10]}" for s in hit.spans
        )
        now = "yes" if hit.current else "no"
        name = "" if hit.vin else names.get(hit.key, "")
        table.add_row(hit.vin or hit.key, name, hit.market or "", now, spans, ", ".join(hit.suppliers))
    console.print(table)
    if len(hits) > 200:
        console.print(f"… and {len(hits) - 200} more (use --json for all)")
    console.print(
        f"[bold]{summary['vehicles']}[/] vehicles ever, {summary['vehiclesNow']} now; by market: {summary['byMarket']}"
    )
