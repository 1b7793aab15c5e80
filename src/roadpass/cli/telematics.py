"""``roadpass telematics status|credentials …``: the ingest's counters and units' broker accounts.

The shell user is trusted as the node's administrator; every credential change is ledgered with the actor
``cli:<shell user>``. Revoking rewrites the broker's password file and makes the running broker reload it,
which disconnects the unit at once.
"""

from __future__ import annotations

import getpass
from typing import Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.cli.telematics_fleet import register as register_fleet
from roadpass.telematics.service import CredentialError
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import iso_utc

__all__ = ["telematics_app"]

telematics_app = typer.Typer(help="Telematics: ingest status, units' broker credentials.", no_args_is_help=True)
credentials_app = typer.Typer(help="Telematics units' MQTT accounts: create, revoke, list.", no_args_is_help=True)
telematics_app.add_typer(credentials_app, name="credentials")
register_fleet(telematics_app)  # simulate, health (cli/telematics_fleet.py)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
UnitArg = Annotated[str, typer.Argument(help="The telematics unit: EPC URN or GS1 Digital Link URI.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@telematics_app.command("status")
def status(refusals: Annotated[int, typer.Option(help="Show this many of the newest refusals.")] = 5,
           as_json: JsonOpt = False) -> None:
    """Messages received, samples stored, duplicates, refused by reason, the last batch's lag."""
    rp = open_app()
    body = rp.telematics.status().as_json()
    recent = rp.telematics.refusals(refusals) if refusals > 0 else []
    if as_json:
        print_json({**body, "recentRefusals": recent})
        return
    console.print(f"messages {body['messages']}  stored {body['stored']}  duplicates {body['duplicates']}  "
                  f"lag p50 {body['lagP50Ms']:.1f} ms  p99 {body['lagP99Ms']:.1f} ms")
    if body["lastBatchAt"]:
        console.print(f"last batch {iso_utc(body['lastBatchAt'])}")
    table = Table("refused", "count")
    for reason, count in body["refused"].items():
        table.add_row(reason, str(count))
    console.print(table)
    for row in recent:
        console.print(f"{iso_utc(row['receivedAt'])} {row['reason']} {row['topic']} {row['path']}: {row['detail']}",
                      markup=False, highlight=False)


@credentials_app.command("create")
def create(unit: UnitArg, as_json: JsonOpt = False) -> None:
    """A broker account for a unit the trace store knows; the password is printed once."""
    rp = open_app()
    try:
        issued = rp.telematics.create_credential(unit, actor=_actor())
    except (UnitNotFound, CredentialError) as exc:
        fail(str(exc), as_json=as_json, field="unit")
    body = {"unit": issued.unit_key, "username": issued.username, "password": issued.password,
            "topic": issued.topic}
    if as_json:
        print_json(body)
        return
    for key, value in body.items():
        console.print(f"{key}: {value}", markup=False, highlight=False)


@credentials_app.command("revoke")
def revoke(unit: UnitArg, as_json: JsonOpt = False) -> None:
    """Revoke a unit's account: the running broker drops the unit at once."""
    rp = open_app()
    try:
        found = rp.telematics.revoke_credential(unit, actor=_actor())
    except (UnitNotFound, CredentialError) as exc:
        fail(str(exc), as_json=as_json, field="unit")
    if as_json:
        print_json({"unit": found.unit_key, "username": found.username, "revoked": True})
    else:
        console.print(f"revoked {found.username}", markup=False, highlight=False)


@credentials_app.command("list")
def listing(as_json: JsonOpt = False) -> None:
    """Every live unit account."""
    rows = [{"unit": c.unit_key, "username": c.username, "createdAt": iso_utc(c.created_at)}
            for c in open_app().telematics.credentials()]
    if as_json:
        print_json(rows)
        return
    table = Table("unit", "username", "created")
    for row in rows:
        table.add_row(row["unit"], row["username"], row["createdAt"])
    console.print(table)
