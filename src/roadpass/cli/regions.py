"""``roadpass nodes status`` and ``roadpass residency audit``: this node among its peers, and what it stores
that its region's transfer policy does not allow (docs/regions.md)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.regions.policy import PolicyError

__all__ = ["nodes_app", "residency_app"]

nodes_app = typer.Typer(help="Regional nodes: this node, its peers, what went to each.", no_args_is_help=True)
residency_app = typer.Typer(help="Data residency: audit this node's store against the transfer policy.",
                            no_args_is_help=True)

_JSON = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@nodes_app.command("status")
def nodes_status(as_json: _JSON = False) -> None:
    """This node's region and policy version; per peer: outbox depth of its subscriptions, failed attempts,
    the last error, the last transfer per class of data (decision and basis), and the aggregates batches
    received from it and sent to it."""
    app = open_app()
    status = app.regions.status()
    aggregates = app.aggregates.totals()  # batches of counts per peer (docs/regions-federation.md)
    if as_json:
        print_json({**status.as_json(), "aggregates": aggregates})
        return
    console.print(f"[bold]{status.node}[/] region {status.region or '(none)'} · policy {status.policy_version}")
    table = Table("peer", "region", "url", "outbox", "failed", "last transfer per class")
    for peer in status.peers:
        body = peer.as_json()
        failed = sum(s["failedAttempts"] for s in body["subscriptions"])
        last = "\n".join(f"{name}: {item['rule']}" for name, item in sorted(peer.last_transfer.items())) or "-"
        table.add_row(peer.peer.node, peer.peer.region, peer.peer.url, str(body["outboxDepth"]), str(failed), last)
    console.print(table)
    for peer in status.peers:
        got = aggregates.get(peer.peer.node, {})
        console.print(f"aggregates {peer.peer.node}: received {got.get('received', 0)}, sent {got.get('sent', 0)}, "
                      f"pending {got.get('pending', 0)} (batches)", highlight=False)


@residency_app.command("audit")
def residency_audit(as_json: _JSON = False) -> None:
    """Scan this node's events and master data; list every datum whose class the transfer policy does not
    allow in this node's region. Exits 1 when there are findings."""
    try:
        report = open_app().regions.audit()
    except PolicyError as exc:
        fail(f"{exc.path}: {exc.reason}", as_json=as_json, field=exc.path)
    if as_json:
        print_json(report.as_json())
    else:
        scanned = ", ".join(f"{n} {kind}" for kind, n in report.scanned.items())
        console.print(f"region {report.region} · policy {report.policy_version} · scanned {scanned}")
        table = Table("kind", "row", "field", "origin", "class", "rule", "reason")
        for f in report.findings:
            table.add_row(f.kind, str(f.row), f.field, f.origin, f.data_class, f"{f.decision}: {f.basis}", f.reason)
        console.print(table if report.findings else "[green]no findings[/]")
    if report.findings:
        raise typer.Exit(1)
