"""``roadpass ledger verify|show``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, open_app, print_json
from roadpass.ledger.archive import partition_month
from roadpass.ledger.views import entry_json, report_json
from roadpass.trace.timeutil import iso_utc

__all__ = ["ledger_app"]

ledger_app = typer.Typer(help="The tamper-evident ledger of every write.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


@ledger_app.command("verify")
def verify(as_json: JsonOpt = False) -> None:
    """Walk the hash chain against the stored rows; exit 1 and name the first entry that does not match."""
    report = open_app().ledger.verify()
    if as_json:
        print_json(report_json(report))
    elif report.ok:
        console.print(f"[green]ledger intact[/]: {report.entries} entries, head {report.head_hash[:16]}…")
        for name, count in sorted(report.archived.items()):
            console.print(f"  {count} archived: chain checked, content not (their events are in the detached "
                          f"month {partition_month(name)}, {name})")
    else:
        mismatch = report.first_mismatch
        assert mismatch is not None
        console.print(f"[bold red]ledger broken at entry {mismatch.seq}[/]: {mismatch.reason}")
    if not report.ok:
        raise typer.Exit(1)


@ledger_app.command("show")
def show(
    limit: Annotated[int, typer.Option(help="How many entries.")] = 20,
    actor: Annotated[str | None, typer.Option(help="Only this actor's entries.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The most recent entries, newest first."""
    entries = open_app().ledger.recent(limit=limit, actor=actor)
    if as_json:
        print_json([entry_json(e) for e in entries])
        return
    table = Table("seq", "recorded", "actor", "action", "rule", "entry hash")
    for e in entries:
        table.add_row(str(e.seq), iso_utc(e.recorded_at), e.actor, e.action, e.rule, e.entry_hash[:16] + "…")
    console.print(table)
