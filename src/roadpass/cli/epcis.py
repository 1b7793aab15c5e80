"""``roadpass capture``, ``roadpass epcis validate|hash`` and ``roadpass events``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.trace.capture import CaptureRejected
from roadpass.trace.epcis.event_hash import document_event_hashes
from roadpass.trace.epcis.schema import document_problems
from roadpass.trace.query import QueryError, parse_event_query
from roadpass.trace.service import CaptureFailed

__all__ = ["capture_command", "epcis_app", "events_command"]

epcis_app = typer.Typer(help="Work with EPCIS 2.0 documents without storing them.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _load(path: Path, as_json: bool) -> Any:
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        fail(f"{path}: no such file", as_json=as_json)
    except orjson.JSONDecodeError as exc:
        fail(f"{path}: not JSON: {exc}", as_json=as_json)


def capture_command(
    files: Annotated[list[Path], typer.Argument(help="EPCIS 2.0 JSON-LD documents or single events.")],
    behaviour: Annotated[
        str, typer.Option("--error-behaviour", help="rollback (all or nothing) or proceed (keep good events).")
    ] = "rollback",
    actor: Annotated[str, typer.Option(help="Who is capturing (recorded in the ledger).")] = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Capture EPCIS documents into the repository (idempotent: a repeated event is stored once)."""
    app = open_app()
    results: list[dict[str, Any]] = []
    failed = False
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=console, disable=as_json or len(files) < 2,
    ) as progress:
        task = progress.add_task("capturing", total=len(files))
        for path in files:
            body = _load(path, as_json)
            try:
                outcome = app.trace.capture(body, actor=actor, behaviour=behaviour)
                results.append(
                    {
                        "file": str(path), "captureID": outcome.capture_id, "events": outcome.events,
                        "stored": outcome.stored, "duplicates": outcome.duplicates,
                        "corrections": outcome.corrections, "errors": outcome.errors,
                    }
                )
            except CaptureRejected as exc:
                failed = True
                results.append({"file": str(path), "rejected": [str(p) for p in exc.problems]})
            except CaptureFailed as exc:
                failed = True
                results.append({"file": str(path), "captureID": exc.capture_id, "rolledBack": exc.errors})
            progress.advance(task)
    if as_json:
        print_json(results)
    else:
        for item in results:
            if "rejected" in item:
                console.print(f"[red]rejected[/] {item['file']}")
                for line in item["rejected"]:
                    console.print(f"  {line}")
            elif "rolledBack" in item:
                console.print(f"[red]rolled back[/] {item['file']} (capture {item['captureID']})")
                for error in item["rolledBack"]:
                    console.print(f"  {error.get('instance')}: {error.get('title')}")
            else:
                console.print(
                    f"[green]captured[/] {item['file']}: {item['stored']} stored, {item['duplicates']} already "
                    f"stored, {item['corrections']} corrections (capture {item['captureID']})"
                )
    if failed:
        raise typer.Exit(1)


@epcis_app.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="EPCIS 2.0 JSON-LD document or event.")], as_json: JsonOpt = False
) -> None:
    """Validate a document against the GS1 EPCIS 2.0 JSON Schema (exit 1 when invalid)."""
    problems = document_problems(_load(file, as_json), limit=100)
    if as_json:
        print_json(
            {
                "file": str(file), "valid": not problems,
                "problems": [
                    {"eventIndex": p.event_index, "path": p.path, "reason": p.reason} for p in problems
                ],
            }
        )
    elif problems:
        console.print(f"[red]invalid[/] {file}")
        for p in problems:
            console.print(f"  {p}")
    else:
        console.print(f"[green]valid[/] {file}")
    if problems:
        raise typer.Exit(1)


@epcis_app.command("hash")
def hash_command(
    file: Annotated[Path, typer.Argument(help="EPCIS 2.0 JSON-LD document or event.")], as_json: JsonOpt = False
) -> None:
    """Print the CBV 2.0 event hash ID of each event, in document order."""
    hashes = document_event_hashes(_load(file, as_json))
    if as_json:
        print_json(hashes)
    else:
        for value in hashes:
            typer.echo(value)


def events_command(
    event_type: Annotated[str | None, typer.Option("--type", help="eventType, e.g. ObjectEvent")] = None,
    biz_step: Annotated[str | None, typer.Option(help="EQ_bizStep (bare CBV word or URI)")] = None,
    disposition: Annotated[str | None, typer.Option(help="EQ_disposition")] = None,
    biz_location: Annotated[str | None, typer.Option(help="EQ_bizLocation")] = None,
    epc: Annotated[str | None, typer.Option(help="MATCH_anyEPC: EPC, pattern or Digital Link URI")] = None,
    since: Annotated[str | None, typer.Option(help="GE_eventTime (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option(help="LT_eventTime (ISO 8601)")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Any EPCIS query parameter as NAME=VALUE.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Most events to show.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Query stored events with EPCIS 2.0 SimpleEventQuery parameters."""
    params: dict[str, list[str]] = {}
    for name, value in (
        ("eventType", event_type), ("EQ_bizStep", biz_step), ("EQ_disposition", disposition),
        ("EQ_bizLocation", biz_location), ("MATCH_anyEPC", epc), ("GE_eventTime", since), ("LT_eventTime", until),
    ):
        if value:
            params[name] = [value]
    for item in param or []:
        name, _, value = item.partition("=")
        params.setdefault(name, []).append(value)
    params["perPage"] = [str(limit)]
    try:
        query = parse_event_query(params, max_per_page=10_000)
    except QueryError as exc:
        fail(str(exc), as_json=as_json, parameter=exc.parameter)
    events, _contexts, token = open_app().trace.events(query)
    if as_json:
        print_json({"events": events, "nextPageToken": token.encode() if token else None})
        return
    table = Table("eventTime", "type", "action", "bizStep", "identifiers")
    for event in events:
        ids = [*event.get("epcList", []), *event.get("childEPCs", []), *event.get("outputEPCList", [])]
        parent = [event["parentID"]] if "parentID" in event else []
        shown = ", ".join([*parent, *ids][:3]) + (" …" if len(parent) + len(ids) > 3 else "")
        table.add_row(
            str(event.get("eventTime")), str(event.get("type")), str(event.get("action", "")),
            str(event.get("bizStep", "")), shown,
        )
    console.print(table)
    if token:
        console.print(f"(more: --param nextPageToken={token.encode()})")
