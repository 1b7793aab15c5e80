"""``roadpass parts check|report|checks``: genuine parts by EPC URN or GS1 Digital Link."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from roadpass.aftermarket.parts.service import PartsError, check_json
from roadpass.cli.common import console, fail, open_app, print_json

__all__ = ["parts_app"]

parts_app = typer.Typer(help="Genuine parts: check a serial, report it stolen or recovered, the check log.",
                        no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@parts_app.command("check")
def check(
    id: Annotated[str, typer.Argument(help="The part's EPC URN or GS1 Digital Link URI.")],
    vin: Annotated[str | None, typer.Option(help="The vehicle the part was scanned in.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Known serial? Whose company prefix? Fitted where now? Open recall? Reported stolen? (Logged for the
    maker.) Exit 1 unless the verdict is genuine."""
    try:
        found = open_app().parts.check(id, checker=_actor(), vin=vin)
    except PartsError as exc:
        fail(exc.reason, as_json=as_json, field=exc.field)
    out = check_json(found)
    if as_json:
        print_json(out)
    else:
        colour = "green" if found.verdict.value == "genuine" else "bold red"
        console.print(f"[{colour}]{found.verdict.value}[/] {found.key}")
        console.print(f"maker: {found.maker_name or 'no party on this node holds its company prefix'}")
        for fitted in found.fitted_now:
            console.print(f"fitted now in {fitted.vin or '(a vehicle you may not see)'} ({fitted.market or '?'})")
        for reason in found.reasons:
            console.print(f"- {reason}")
    if found.verdict.value != "genuine":
        raise typer.Exit(1)


@parts_app.command("report")
def report(
    id: Annotated[str, typer.Argument(help="The part's EPC URN or GS1 Digital Link URI.")],
    reference: Annotated[str, typer.Option(help="The report's reference, e.g. a police case number.")],
    recovered: Annotated[bool, typer.Option("--recovered", help="Report it recovered instead.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Report a part stolen (or recovered); ledgered."""
    status = "recovered" if recovered else "stolen"
    try:
        key = open_app().parts.report(id, actor=_actor(), status=status, reference=reference)
    except PartsError as exc:
        fail(exc.reason, as_json=as_json, field=exc.field)
    if as_json:
        print_json({"key": key, "status": status})
    else:
        console.print(f"{key}: reported {status}")


@parts_app.command("checks")
def checks(
    maker: Annotated[str | None, typer.Option(help="Only checks of this maker's parts.")] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The check log, newest first."""
    rows = open_app().parts.checks(maker_key=maker, limit=limit)
    if as_json:
        print_json(rows)
        return
    table = Table("checked", "part", "maker", "checker", "vin", "verdict", title="Parts checks")
    for r in rows:
        table.add_row(str(r["checkedAt"]), r["key"], r["maker"] or "", r["checker"], r["vin"] or "", r["verdict"])
    console.print(table)
