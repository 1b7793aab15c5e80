"""``roadpass partitions list|create|detach``: the months of the event table on PostgreSQL."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json

__all__ = ["partitions_app"]

partitions_app = typer.Typer(
    help="Months of the event table (PostgreSQL: partitioned by event time; docs/postgresql-operations.md).",
    no_args_is_help=True,
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _require(available: bool) -> None:
    if not available:
        fail("the event table is not partitioned here: partitioning is PostgreSQL-only (SQLite keeps one table)")


@partitions_app.command("list")
def list_months(as_json: JsonOpt = False) -> None:
    """The attached partitions, months in order, then the default (row counts are estimates)."""
    partitions = open_app().partitions
    _require(partitions.available())
    parts = partitions.attached()
    if as_json:
        print_json([p.as_dict() for p in parts])
        return
    table = Table("partition", "month", "rows (est.)", "size")
    for p in parts:
        view = p.as_dict()
        table.add_row(view["name"], view["month"] or "default", str(p.rows), f"{p.size_bytes / 2**20:.1f} MiB")
    console.print(table)


@partitions_app.command("create")
def create(
    ahead: Annotated[int, typer.Option(min=0, max=120, help="Months after this one to create.")] = 3,
    month: Annotated[list[str] | None, typer.Option(help="Also this month (YYYY-MM); repeatable.")] = None,
    from_default: Annotated[bool, typer.Option(
        "--from-default", help="Also a partition for every month with rows in the default partition.")] = False,
) -> None:
    """Create this month's and the next months' partitions (run it monthly, e.g. from cron)."""
    partitions = open_app().partitions
    _require(partitions.available())
    try:
        made = partitions.ensure_ahead(time.time_ns() // 1000, ahead, also=month or [])
    except ValueError as exc:
        fail(f"--month: {exc}")
    if from_default:
        made += partitions.split_default()
    console.print(f"created {len(made)} partition(s)" + "".join(f"\n  {name}" for name in made))


@partitions_app.command("detach")
def detach(
    month: Annotated[str, typer.Argument(help="The month to take out of the live table, YYYY-MM.")],
    actor: Annotated[str, typer.Option(help="Who detaches (recorded in the ledger).")] = "operator",
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the month's events leave queries.")] = False,
) -> None:
    """Detach a month: its events leave the live table but stay in a table of their own, to archive."""
    if not yes:
        fail("detaching takes the month's events out of every query (`ledger verify` then reports their "
             "capture entries as archived, content unchecked): archive the table afterwards "
             "(docs/postgresql-operations.md) and pass --yes")
    partitions = open_app().partitions
    _require(partitions.available())
    try:
        name = partitions.detach_named(month, actor=actor)
    except (KeyError, ValueError) as exc:
        fail(str(exc.args[0]))
    console.print(f"detached {name}: archive it (pg_dump -t {name}) then DROP TABLE {name}")
