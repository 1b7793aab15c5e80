"""``roadpass updates …``: software updates under UN R156 (vehicle types, campaigns, reports, history).

The shell user is trusted as the node's administrator; every write is ledgered with the actor
``cli:<shell user>``. Files are YAML or JSON (JSON is YAML).
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.telematics.software.campaigns import CampaignRejected
from roadpass.telematics.software.reports import ReportRejected
from roadpass.telematics.software.service import AlreadyExists, NotFound, UnitNotFitted
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import to_us

__all__ = ["updates_app"]

updates_app = typer.Typer(help="Software updates (UN R156): vehicle types, campaigns, reports, history.",
                          no_args_is_help=True)
type_app = typer.Typer(help="Vehicle types and their variants' VIN patterns.", no_args_is_help=True)
campaign_app = typer.Typer(help="Update campaigns and the state of each vehicle in them.", no_args_is_help=True)
updates_app.add_typer(type_app, name="type")
updates_app.add_typer(campaign_app, name="campaign")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
FileArg = Annotated[Path, typer.Argument(help="A YAML or JSON file.", exists=True, dir_okay=False)]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _load(path: Path, as_json: bool) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        fail(f"{path}: not YAML or JSON: {exc}", as_json=as_json, field="file")


def _rejected(exc: CampaignRejected | ReportRejected, as_json: bool) -> None:
    issues = [{"path": p, "reason": r} for p, r in exc.problems]
    fail("invalid input: " + "; ".join(f"{p or '/'}: {r}" for p, r in exc.problems), as_json=as_json, issues=issues)


@type_app.command("add")
def type_add(file: FileArg, as_json: JsonOpt = False) -> None:
    """Register a vehicle type: key, name, variants (code: VIN pattern) and its technical file (product_key)."""
    try:
        vtype = open_app().software_updates.add_vehicle_type(_load(file, as_json), actor=_actor())
    except CampaignRejected as exc:
        _rejected(exc, as_json)
    except AlreadyExists as exc:
        fail(str(exc), as_json=as_json)
    if as_json:
        print_json({"key": vtype.key, "name": vtype.name, "variants": vtype.variants})
    else:
        console.print(f"vehicle type [bold]{vtype.key}[/] registered ({len(vtype.variants)} variants)")


@type_app.command("list")
def type_list(as_json: JsonOpt = False) -> None:
    """Registered vehicle types."""
    types = open_app().software_updates.vehicle_types()
    if as_json:
        print_json([{"key": t.key, "name": t.name, "product_key": t.product_key, "variants": t.variants}
                    for t in types])
        return
    table = Table("key", "name", "technical file", "variants")
    for t in types:
        table.add_row(t.key, t.name, t.product_key or "", ", ".join(f"{c} {p}" for c, p in t.variants.items()))
    console.print(table)


@campaign_app.command("create")
def campaign_create(file: FileArg, as_json: JsonOpt = False) -> None:
    """Create a campaign; it is offered to every vehicle it applies to by its latest report."""
    try:
        status = open_app().software_updates.create_campaign(_load(file, as_json), actor=_actor())
    except CampaignRejected as exc:
        _rejected(exc, as_json)
    except AlreadyExists as exc:
        fail(str(exc), as_json=as_json)
    if as_json:
        print_json(status.as_json())
    else:
        console.print(f"campaign [bold]{status.campaign.key}[/] offered to {len(status.vehicles)} vehicles")


@campaign_app.command("list")
def campaign_list(as_json: JsonOpt = False) -> None:
    """Every campaign with its vehicles by state."""
    service = open_app().software_updates
    statuses = [service.campaign_status(c.key, claims_limit=0) for c in service.campaigns()]
    if as_json:
        print_json([{**s.campaign.as_json(), "by_state": s.by_state} for s in statuses])
        return
    table = Table("campaign", "vehicle type", "ECU", "target", "offered", "downloaded", "installed", "failed",
                  "rolled back")
    for s in statuses:
        c = s.campaign
        table.add_row(c.key, c.vehicle_type, c.part_number, c.target_version, *(str(n) for n in s.by_state.values()))
    console.print(table)


@campaign_app.command("status")
def campaign_status(key: str, as_json: JsonOpt = False) -> None:
    """A campaign's vehicles by state, each with why, and the claims no inventory confirmed."""
    try:
        status = open_app().software_updates.campaign_status(key)
    except NotFound as exc:
        fail(str(exc).strip("'\""), as_json=as_json, field="key")
    body = status.as_json()
    if as_json:
        print_json(body)
        return
    console.print(f"[bold]{status.campaign.name}[/] ({key}): "
                  + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in status.by_state.items())
                  + f"; completion {body['completion']}")
    table = Table("VIN", "state", "since", "why")
    for row in body["states"]:
        table.add_row(row["vin"], row["state"], row["since"], row["reason"])
    console.print(table)
    for claim in body["unconfirmed_claims"]:
        console.print(f"[yellow]unconfirmed[/] {claim['vin']}: {claim['note']}")


@updates_app.command("report")
def report(unit: str, file: Annotated[Path, typer.Argument(help="The report payload (JSON).", exists=True)],
           as_json: JsonOpt = False) -> None:
    """Keep a unit's report (the MQTT payload) for the vehicle the unit is fitted in at the report's time."""
    now = to_us(dt.datetime.now(dt.UTC))
    try:
        outcome = open_app().software_updates.report(unit, file.read_bytes(), now, actor=_actor(), channel="cli")
    except ReportRejected as exc:
        _rejected(exc, as_json)
    except UnitNotFitted as exc:
        fail(str(exc), as_json=as_json, field="unit")
    if as_json:
        print_json(outcome.as_json())
        return
    said = "duplicate, already kept" if outcome.duplicate else f"kept as report {outcome.report_id}"
    console.print(f"{outcome.vin}: {said}")
    for t in outcome.transitions:
        console.print(f"  {t['campaign']}: {t['state']} ({t['reason']})")
    for note in outcome.notes:
        console.print(f"  [yellow]note[/] {note}")


@updates_app.command("history")
def history(vehicle: Annotated[str, typer.Argument(help="VIN, EPC or GS1 Digital Link URI of the vehicle.")],
            as_json: JsonOpt = False) -> None:
    """A vehicle's installed software, its software and RXSWIN changes, and its campaign states."""
    try:
        found = open_app().software_updates.vehicle_history(vehicle, visibility=None)
    except (UnitNotFound, NotFound) as exc:
        fail(str(exc).strip("'\""), as_json=as_json, field="vehicle")
    if as_json:
        print_json(found)
        return
    console.print(f"[bold]{found['vin']}[/] type {found['vehicle_type']} variant {found['variant']}; "
                  f"RXSWIN {', '.join(found['rxswin']) or 'none reported'}")
    table = Table("at", "ECU", "part number", "from", "to")
    for c in found["changes"]:
        table.add_row(c["at"], c["ecu"] or "", c["part_number"], c["from"] or "", c["to"])
    console.print(table)
    for s in found["campaigns"]:
        console.print(f"  {s['at']} {s['campaign']}: {s['state']} ({s['reason']})")
