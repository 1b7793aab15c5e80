"""``roadpass service record|history|due``: work orders by VIN and what is due for a vehicle."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import orjson
import typer

from roadpass.aftermarket.service.due import record_json
from roadpass.aftermarket.service.model import WorkOrder, WorkOrderInvalid, WorkOrderProblem, parse_work_order
from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.trace.service import UnitNotFound
from roadpass.trace.timeutil import iso_utc

__all__ = ["service_app"]

service_app = typer.Typer(help="Service records (work orders) and what is due for a VIN.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _orders(path: Path) -> list[WorkOrder]:
    """A work order, a JSON list of them, or ``{"workOrders": [...]}`` from a file."""
    body = orjson.loads(path.read_bytes())
    items = body["workOrders"] if isinstance(body, dict) and "workOrders" in body else body
    if not isinstance(items, list):
        return [parse_work_order(items)]
    orders: list[WorkOrder] = []
    problems: list[WorkOrderProblem] = []
    for i, item in enumerate(items):
        try:
            orders.append(parse_work_order(item))
        except WorkOrderInvalid as exc:
            problems.extend(WorkOrderProblem(f"$[{i}]" + p.path[1:], p.reason) for p in exc.problems)
    if problems:
        raise WorkOrderInvalid(problems)
    return orders


@service_app.command("record")
def record(
    file: Annotated[Path, typer.Argument(help="JSON: one work order, a list, or {workOrders: [...]}.", exists=True)],
    as_json: JsonOpt = False,
) -> None:
    """Record work orders (all or none); removed and fitted parts are captured as EPCIS repair events."""
    try:
        orders = _orders(file)
        outcome = open_app().service_records.record_many(orders, actor=_actor())
    except orjson.JSONDecodeError as exc:
        fail(f"{file}: not JSON: {exc}", as_json=as_json)
    except WorkOrderInvalid as exc:
        fail(str(exc), as_json=as_json, errors=[p.as_json() for p in exc.problems])
    out = {"stored": outcome.stored, "alreadyRecorded": outcome.already_recorded, "captureID": outcome.capture_id,
           "events": outcome.events, "ledgerSeq": outcome.ledger_seq}
    if as_json:
        print_json(out)
    else:
        console.print(f"stored {outcome.stored} work order(s), {outcome.already_recorded} already recorded, "
                      f"{outcome.events} repair event(s) captured")


@service_app.command("history")
def history(
    vin: Annotated[str, typer.Argument(help="The vehicle's VIN.")],
    limit: Annotated[int, typer.Option(help="How many records, latest first.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """A vehicle's service records, latest first."""
    try:
        rows = open_app().service_records.history(vin, limit=limit)
    except UnitNotFound as exc:
        fail(str(exc), as_json=as_json)
    if as_json:
        print_json([record_json(r) for r in rows])
        return
    for r in rows:
        parts = ", ".join([*(f"-{p}" for p in r.removed), *(f"+{p}" for p in r.fitted)])
        console.print(f"{iso_utc(r.performed_at)[:10]} {r.record_key} {r.odometer_km} km {r.technician}: "
                      f"{', '.join(op['code'] for op in r.operations)} {parts}")


@service_app.command("due")
def due(
    vin: Annotated[str, typer.Argument(help="The vehicle's VIN.")],
    as_json: JsonOpt = False,
) -> None:
    """What is due for a VIN: open recalls, warranty coverage and claims, history, battery state of health."""
    try:
        answer = open_app().repairer_desk.due(vin)
    except UnitNotFound as exc:
        fail(str(exc), as_json=as_json)
    body = answer.as_json()
    if as_json:
        print_json(body)
        return
    console.print(f"[bold]{answer.vin}[/] market {answer.market or '?'}")
    for recall in body["openRecalls"] or []:
        console.print(f"[bold red]open recall[/] {recall['campaign']}: {recall['title']}")
    for cover in body["coverage"]:
        state = "running" if cover["running"] else "ended"
        console.print(f"{cover['product']}: {cover['coverage']} until {cover['until']} ({state})")
    if answer.battery is not None:
        console.print(f"battery state of health: {answer.battery.state_of_health} ({answer.battery.passport_id})")
    console.print(f"{len(answer.history)} service record(s), {len(answer.claims)} warranty claim(s)")
    for note in answer.notes:
        console.print(f"- {note}")
