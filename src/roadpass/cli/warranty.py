"""``roadpass warranty coverage|submit|decide|settle|show``: warranty claims against coverage and genealogy."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import orjson
import typer

from roadpass.aftermarket.warranty.coverage import coverage_table
from roadpass.aftermarket.warranty.model import ClaimInvalid, ClaimRow, WorkflowError, parse_claim
from roadpass.aftermarket.warranty.service import ClaimNotFound
from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.trace.service import UnitNotFound

__all__ = ["warranty_app"]

warranty_app = typer.Typer(help="Warranty coverage and claims (submitted, accepted/rejected, settled).",
                           no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _show(row: ClaimRow, as_json: bool) -> None:
    if as_json:
        print_json(row.as_json())
        return
    console.print(f"[bold]{row.claim.claim_key}[/] {row.claim.vin} {row.claim.product}: {row.status}")
    if row.reason:
        console.print(f"reason: {row.reason}")


@warranty_app.command("coverage")
def coverage(as_json: JsonOpt = False) -> None:
    """The coverage table: per market and product, years, km, state of health, and the clause."""
    table = coverage_table()
    if as_json:
        print_json([e.as_json() for e in table.entries])
        return
    for e in table.entries:
        limits = ", ".join(x for x in (f"{e.years} years", f"{e.km} km" if e.km else "",
                                       f"SoH ≥ {e.min_state_of_health:g}%" if e.min_state_of_health else "") if x)
        console.print(f"{e.id} [{', '.join(e.markets)}] {', '.join(e.products)}: {limits} — {e.citation}")


@warranty_app.command("submit")
def submit(
    file: Annotated[Path, typer.Argument(help="JSON: the claim (claimKey, vin, part, product, ...).", exists=True)],
    as_json: JsonOpt = False,
) -> None:
    """Submit a claim."""
    try:
        row = open_app().warranty.submit(parse_claim(orjson.loads(file.read_bytes())), actor=_actor())
    except orjson.JSONDecodeError as exc:
        fail(f"{file}: not JSON: {exc}", as_json=as_json)
    except ClaimInvalid as exc:
        fail(str(exc), as_json=as_json, errors=[p.as_json() for p in exc.problems])
    except (WorkflowError, UnitNotFound) as exc:
        fail(str(exc), as_json=as_json)
    _show(row, as_json)


@warranty_app.command("decide")
def decide(
    claim_key: Annotated[str, typer.Argument(help="The claim's key.")],
    reject: Annotated[str | None, typer.Option(help="Reject with this reason instead of the check's verdict.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept or reject a submitted claim by checking it against coverage and the genealogy."""
    try:
        row = open_app().warranty.decide(claim_key, actor=_actor(), reject_reason=reject)
    except (ClaimNotFound, WorkflowError) as exc:
        fail(str(exc), as_json=as_json)
    _show(row, as_json)


@warranty_app.command("settle")
def settle(
    claim_key: Annotated[str, typer.Argument(help="The claim's key.")],
    amount_cents: Annotated[int | None, typer.Option(help="The amount paid (default: the amount claimed).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Settle an accepted claim."""
    try:
        row = open_app().warranty.settle(claim_key, actor=_actor(), amount_cents=amount_cents)
    except (ClaimNotFound, WorkflowError) as exc:
        fail(str(exc), as_json=as_json)
    _show(row, as_json)


@warranty_app.command("show")
def show(claim_key: Annotated[str, typer.Argument(help="The claim's key.")], as_json: JsonOpt = False) -> None:
    """A claim with its history."""
    try:
        row = open_app().warranty.claim(claim_key)
    except ClaimNotFound as exc:
        fail(str(exc), as_json=as_json)
    _show(row, as_json)
    if not as_json:
        for step in row.steps:
            console.print(f"  {step.status} by {step.actor}" + (f": {step.reason}" if step.reason else ""))
