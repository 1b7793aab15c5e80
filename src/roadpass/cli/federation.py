"""``roadpass nodes where-used ID``: a where-used answered by this node and every peer region's node, per
region as its transfer policy allows, marked PARTIAL when a region did not answer; ``roadpass nodes
recall-relay KEY`` and ``roadpass nodes recall-status KEY``: a campaign sent to every region and its
completion per region (docs/regions-federation.md).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.regions.recall_relay import RelayStatus

__all__ = ["PARTIAL_EXIT", "add_federation_commands", "nodes_recall_relay", "nodes_recall_status",
           "nodes_where_used"]

#: The exit status of an answer that is partial (a region did not answer): scripts must not take it as whole.
PARTIAL_EXIT = 2


def nodes_where_used(
    identifier: Annotated[str, typer.Argument(help="A unit or lot: EPC URN, GS1 Digital Link URI or VIN.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every vehicle that carries or carried a unit or lot, in every region: this node's answer and each
    peer's (counts by market; vehicle ids as each region's policy allows). Exits 2 when the answer is
    partial (a region was down, timed out or refused)."""
    answer = open_app().federation.where_used(identifier, visibility=None).as_json()
    if as_json:
        print_json(answer)
    else:
        state = "[bold red]PARTIAL[/]" if answer["partial"] else "[green]complete[/]"
        totals = answer["totals"]
        console.print(f"{answer['id']}: {state} · {totals['vehicles']} vehicles ({totals['vehiclesNow']} now) · "
                      f"answered: {', '.join(answer['answered']) or 'none'}")
        table = Table("node", "region", "status", "vehicles", "by market", "vehicle ids")
        for region in answer["regions"]:
            body = region.get("answer") or {}
            markets = ", ".join(f"{m} {n}" for m, n in (body.get("byMarket") or {}).items()) or "-"
            ids = "counts only" if "hits" not in body else str(len(body["hits"]))
            table.add_row(region["node"], region["region"], region["status"] + (
                f" ({region['reason']})" if region.get("reason") else ""),
                str(body.get("vehicles", "-")), markets, ids if body else "-")
        console.print(table)
    if answer["partial"]:
        raise typer.Exit(PARTIAL_EXIT)


_KEY = Annotated[str, typer.Argument(help="The recall campaign's key.")]
_JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _show(status: RelayStatus, as_json: bool) -> None:
    body = status.as_json()
    if as_json:
        print_json(body)
    else:
        state = "[green]every region reported[/]" if body["complete"] else (
            f"[bold yellow]not reported: {', '.join(body['notReported'])}[/]")
        console.print(f"{body['campaignKey']}: {state}")
        table = Table("region", "node", "outbox", "reported", "by market (affected/remedied/open)")
        for region in body["regions"]:
            markets = ", ".join(f"{m} {c.get('affected', '-')}/{c.get('remedied', '-')}/{c.get('open', '-')}"
                                for m, c in region["byMarket"].items()) or "-"
            table.add_row(region["region"], region["node"], region["state"] + (
                f" ({region['lastError']})" if region.get("lastError") else ""),
                "yes" if region["reported"] else "[yellow]no[/]", markets)
        console.print(table)
    if not body["complete"]:
        raise typer.Exit(PARTIAL_EXIT)


def nodes_recall_relay(key: _KEY, as_json: _JSON = False) -> None:
    """Send a recall campaign's definition (scope, remedy, defect, dates; nothing personal) to every peer
    region's node through the outbox, then show its completion per region. Exits 2 while a region has not
    reported."""
    try:
        status = open_app().recall_relay.relay(key, actor="cli")
    except LookupError:
        fail(f"no recall campaign {key!r}", as_json=as_json, field="key")
    _show(status, as_json)


def nodes_recall_status(key: _KEY, as_json: _JSON = False) -> None:
    """Deliver what the outbox holds, ask each region for its completion counts, and show them per region
    beside this node's own. Exits 2 while a region has not reported."""
    _show(open_app().recall_relay.status(key), as_json)


def add_federation_commands(nodes_app: typer.Typer) -> None:
    """Add ``where-used``, ``recall-relay`` and ``recall-status`` to the ``nodes`` command group."""
    nodes_app.command("where-used")(nodes_where_used)
    nodes_app.command("recall-relay")(nodes_recall_relay)
    nodes_app.command("recall-status")(nodes_recall_status)
