"""The ``roadpass`` command line (typer + rich); every command takes ``--json``."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from roadpass.cli.common import console, open_app, print_json, state
from roadpass.cli.subscriptions import start_delivery_worker, stop_delivery_worker
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import is_empty, load_demo
from roadpass.features import features

__all__ = ["app", "main"]

app = typer.Typer(
    name="roadpass",
    help="Trace, certify and serve vehicles, batteries and parts across markets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for _feature in features():
    _hook = getattr(_feature, "cli", None)
    if _hook is not None:
        _hook(app)


@app.callback()
def _global(
    db: Annotated[
        str | None,
        typer.Option("--db", envvar="ROADPASS_DATABASE_URL", help="Database URL (sqlite:///FILE or postgresql://…)."),
    ] = None,
) -> None:
    state.database_url = db


@app.command("demo")
def demo(
    vehicles: Annotated[int, typer.Option("--vehicles", "-n", help="How many vehicles to generate.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same fleet).")] = 7,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when the database has events.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")] = False,
) -> None:
    """Generate a realistic fleet as EPCIS events (cells to vehicles, export, import, sale, service)."""
    roadpass = open_app()
    if if_empty and not is_empty(roadpass):
        if as_json:
            print_json({"skipped": True, "reason": "database already holds events"})
        else:
            console.print("demo data already present: skipping generation")
        return
    spec = FleetSpec(vehicles=vehicles, seed=seed)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed} events"),
        TimeElapsedColumn(), console=console, disable=as_json,
    ) as progress:
        task = progress.add_task(f"generating {vehicles} vehicles", total=None)
        result = load_demo(roadpass, spec, progress=lambda done, _total: progress.update(task, completed=done))
    if as_json:
        print_json({"vehicles": result.vehicles, "documents": result.documents, "events": result.events,
                    "stored": result.stored})
    else:
        console.print(f"[green]demo fleet ready[/]: {result.vehicles} vehicles, {result.stored} events stored")


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default ROADPASS_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default ROADPASS_PORT or 8000).")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, max=64, help="Server processes (default ROADPASS_WORKERS or 1).")
    ] = None,
) -> None:
    """Serve the web UI and the API on localhost."""
    # The server and the web stack load only for this command, not for every other one.
    import uvicorn

    from roadpass.api.app import create_app, prepare_to_serve

    roadpass = open_app()
    bind_host = host or roadpass.settings.host
    bind_port = port or roadpass.settings.port
    console.print(f"roadpass is serving on [bold]http://{bind_host}:{bind_port}/[/] (API docs at /docs)")
    for feature in features():
        prepare = getattr(feature, "before_serve", None)
        for line in prepare(roadpass) if prepare is not None else []:
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    processes = workers or roadpass.settings.workers
    delivery = start_delivery_worker(roadpass.settings)
    try:
        if processes == 1:
            api = create_app(roadpass=roadpass, deliver=delivery is None)
            prepare_to_serve()
            uvicorn.run(api, host=bind_host, port=bind_port, log_level="warning")
            return
        # Several processes each build their own application from the environment: pass on what the
        # command line chose, then let uvicorn supervise them.
        os.environ["ROADPASS_DATABASE_URL"] = roadpass.settings.database_url
        roadpass.close()
        uvicorn.run("roadpass.api.app:create_app_from_environment", factory=True, workers=processes,
                    host=bind_host, port=bind_port, log_level="warning")
    finally:
        stop_delivery_worker(delivery)


def main() -> None:
    """Entry point of the ``roadpass`` script."""
    app()
