"""``roadpass subscriptions list|create|delete``: webhook subscriptions to named queries on the local node.

The shell user is trusted as the node's administrator: a subscription it makes belongs to the party that
owns the query, it sees every party's subscriptions and deletes any. Every write is ledgered with the actor
``cli:<shell user>``. Deliveries are made by ``roadpass serve`` (its worker resumes from the outbox) or by
``roadpass subscriptions worker``, a delivery process of its own.
"""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.settings import Settings
from roadpass.trace.named_query_service import NamedQueryNotFound
from roadpass.trace.subscription_service import SubscriptionNotFound
from roadpass.trace.subscriptions import SubscriptionRejected

__all__ = ["start_delivery_worker", "stop_delivery_worker", "subscriptions_app"]

subscriptions_app = typer.Typer(help="Webhook subscriptions to named queries: list, create, delete.",
                                no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
QueryArg = Annotated[str, typer.Argument(help="The named query's name.")]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


@subscriptions_app.command("list")
def subscriptions_list(query: QueryArg, as_json: JsonOpt = False) -> None:
    """A query's subscriptions with their delivery state (last acknowledged delivery, failures since)."""
    rp = open_app()
    try:
        found = rp.subscriptions.listing(query, party_scope=None)
    except NamedQueryNotFound:
        fail(f"no query named {query!r}", as_json=as_json, field="query")
    rows = [s.as_json() for s in found]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"Subscriptions to {query}")
    for column in ("subscriptionID", "dest", "when", "lastNotifiedAt", "failures"):
        table.add_column(column)
    for row in rows:
        when = "stream" if row.get("stream") else orjson.dumps(row.get("schedule")).decode()
        table.add_row(row["subscriptionID"], row["dest"], when, row.get("lastNotifiedAt", ""), str(row["failures"]))
    console.print(table)


@subscriptions_app.command("create")
def subscriptions_create(
    query: QueryArg,
    dest: Annotated[str, typer.Option(help="The webhook URL deliveries are posted to.")],
    stream: Annotated[bool, typer.Option("--stream", help="Deliver every new matching event.")] = False,
    schedule: Annotated[str | None, typer.Option(help="A schedule (JSON, query-schedule.json).")] = None,
    token: Annotated[str | None, typer.Option("--token", help="The signatureToken (GS1-Signature key).")] = None,
    report_if_empty: Annotated[bool, typer.Option("--report-if-empty", help="Deliver when nothing matched.")] = False,
    initial_record_time: Annotated[str | None, typer.Option(help="Stream events recorded from this time.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe a webhook to a named query for the query's owning party (ledgered)."""
    rp = open_app()
    body: dict[str, Any] = {"dest": dest, "reportIfEmpty": report_if_empty}
    if stream:
        body["stream"] = True
    if schedule is not None:
        try:
            body["schedule"] = orjson.loads(schedule)
        except orjson.JSONDecodeError as exc:
            fail(f"--schedule: not JSON: {exc}", as_json=as_json, field="schedule")
    if token is not None:
        body["signatureToken"] = token
    if initial_record_time is not None:
        body["initialRecordTime"] = initial_record_time
    try:
        owner = rp.queries.get(query, party_scope=None).party_id
        made = rp.subscriptions.create(query, body, actor=_actor(), party_id=owner)
    except NamedQueryNotFound:
        fail(f"no query named {query!r}", as_json=as_json, field="query")
    except SubscriptionRejected as exc:
        fail(f"subscription refused: {exc}", as_json=as_json, errors=[p.as_json() for p in exc.problems])
    if as_json:
        print_json(made.as_json())
    else:
        console.print(f"subscribed [bold]{made.id}[/] to {query}: deliveries to {made.request.dest}")


@subscriptions_app.command("delete")
def subscriptions_delete(
    query: QueryArg, subscription_id: Annotated[str, typer.Argument(help="The subscriptionID.")],
    as_json: JsonOpt = False,
) -> None:
    """Unsubscribe (ledgered); deliveries not yet made are dropped."""
    rp = open_app()
    try:
        rp.subscriptions.delete(query, subscription_id, actor=_actor(), party_scope=None)
    except SubscriptionNotFound:
        fail(f"no subscription {subscription_id!r} to query {query!r}", as_json=as_json, field="subscription_id")
    if as_json:
        print_json({"deleted": subscription_id})
    else:
        console.print(f"deleted subscription [bold]{subscription_id}[/]")


@subscriptions_app.command("worker")
def subscriptions_worker(
    parent: Annotated[int | None, typer.Option(
        help="Stop when the process with this id is no longer this worker's parent (set by roadpass serve).")] = None,
) -> None:
    """Deliver webhook subscriptions in this process until stopped (SIGTERM or Ctrl-C): the delivery worker
    of its own that `roadpass serve` starts, or that an operator runs beside several API processes."""
    rp = open_app()

    def stop(_signum: int, _frame: object) -> None:
        rp.subscriptions.close()

    signal.signal(signal.SIGTERM, stop)
    try:
        rp.subscriptions.serve_forever(parent=parent)
    except KeyboardInterrupt:
        rp.subscriptions.close()


def start_delivery_worker(settings: Settings) -> subprocess.Popen[bytes] | None:
    """Start ``roadpass subscriptions worker`` beside the server when the settings ask for a delivery process
    of its own (``ROADPASS_DELIVERY_WORKER=process``); None when the server processes deliver themselves."""
    if settings.delivery_worker != "process":
        return None
    env = {**os.environ, "ROADPASS_DATABASE_URL": settings.database_url}
    command = [sys.executable, "-m", "roadpass", "subscriptions", "worker", "--parent", str(os.getpid())]
    return subprocess.Popen(command, env=env)


def stop_delivery_worker(worker: subprocess.Popen[bytes] | None) -> None:
    """Stop the delivery process (it records what it attempted before it exits)."""
    if worker is None or worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
