"""``roadpass telematics simulate`` and ``roadpass telematics health``: the demo fleet drives and reports
through the broker; battery health goes into the packs' passports.

``simulate`` publishes through the broker ``roadpass serve`` runs (``ROADPASS_MQTT_HOST`` / ``_PORT``); when
none listens there, it starts roadpass's own broker and ingester for the run and stops them after. The same
simulation runs beside ``roadpass serve`` (``make run``) when ``ROADPASS_TELEMATICS_SIMULATE_VEHICLES`` > 0.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from roadpass.cli.common import console, fail, open_app, print_json
from roadpass.telematics.health_warranty import WarrantyTerms
from roadpass.telematics.simulation_fleet import simulated_fleet
from roadpass.telematics.simulation_run import SimulationResult, SimulationRunner
from roadpass.trace.identifiers import epc_pattern_to_canonical_prefix
from roadpass.trace.timeutil import iso_utc

if TYPE_CHECKING:
    from roadpass.bootstrap import Roadpass

__all__ = ["demo_runner", "demo_unit_prefixes", "health", "register", "simulate", "start_background_simulation"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def demo_unit_prefixes() -> list[str]:
    """The demo fleet's telematics control units' Digital Link prefixes (the units that report)."""
    from roadpass.demo.fleet_world import World  # the demo's parts list; read on use only

    prefixes = [epc_pattern_to_canonical_prefix(p.klass) for p in World().parts if p.service == "tcu"]
    return [f"{p}/21/" for p in prefixes if p]


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def demo_runner(rp: Roadpass, *, vehicles: int, minutes: float, speedup: float, seed: int = 14) -> SimulationRunner:
    """A simulation of ``vehicles`` demo vehicles through the configured broker (not started yet): it
    replays the ``minutes x speedup`` before now."""
    from roadpass.broker.publisher import MqttPublisher

    s = rp.settings
    now = time.time_ns() // 1000
    start = now - int(minutes * 60 * speedup * 1_000_000)
    fleet = simulated_fleet(rp.passports, rp.trace, vehicles=vehicles, unit_prefixes=demo_unit_prefixes(),
                            start_us=start)
    return SimulationRunner(fleet.vehicles, MqttPublisher(s.mqtt_host, s.mqtt_port), rp.telematics,
                            minutes=minutes, speedup=speedup, health=rp.health, seed=seed, now_us=now)


def start_background_simulation(rp: Roadpass) -> str:
    """Start the serve-time simulation in a daemon thread (``ROADPASS_TELEMATICS_SIMULATE_*``); the line
    ``roadpass serve`` prints about it."""
    s = rp.settings
    if s.telematics_simulate_vehicles <= 0:
        return "telematics: no simulation (ROADPASS_TELEMATICS_SIMULATE_VEHICLES=0)"
    try:
        runner = demo_runner(rp, vehicles=s.telematics_simulate_vehicles, minutes=s.telematics_simulate_minutes,
                             speedup=s.telematics_simulate_speedup)
    except Exception as exc:  # the server starts anyway; the line says why there is no simulation
        return f"telematics: simulation not started: {exc}"
    if not runner.vehicles:
        return "telematics: no simulation (no demo vehicle with a passport and a telematics unit: roadpass demo)"
    threading.Thread(target=runner.run, name="telematics-simulation", daemon=True).start()
    return (f"telematics: simulating {len(runner.vehicles)} vehicles for {s.telematics_simulate_minutes:g} min "
            f"at x{s.telematics_simulate_speedup:g}; health lands on their passports")


def _print_result(result: SimulationResult, as_json: bool) -> None:
    if as_json:
        print_json(result.as_json())
        return
    console.print(f"{result.vehicles} vehicles, {result.messages} messages published "
                  f"({result.unacknowledged} unacknowledged), simulated {iso_utc(result.start_us)} .. "
                  f"{iso_utc(result.end_us)}", markup=False, highlight=False)
    table = Table("pack", "at", "SOCE reported %", "capacity est. Ah", "fade %", "full cycles", "events")
    for u in result.health_updates[-20:]:
        r = u.report
        table.add_row(u.pack, iso_utc(r.at_us), f"{r.reported_soh_percent or 0:.1f}",
                      f"{r.estimated_capacity_ah:.1f}" if r.estimated_capacity_ah else "-",
                      f"{r.capacity_fade_percent:.2f}" if r.capacity_fade_percent is not None else "-",
                      f"{r.equivalent_full_cycles:.1f}", str(len(r.events)))
    console.print(table)


def simulate(
    vehicles: Annotated[int, typer.Option(min=1, help="How many demo vehicles drive.")] = 5,
    minutes: Annotated[float, typer.Option(min=0.05, help="How long the run lasts, wall-clock minutes.")] = 2.0,
    speedup: Annotated[float, typer.Option(min=1.0, help="Simulated time per wall-clock time.")] = 1440.0,
    seed: Annotated[int, typer.Option(help="Random seed (the same seed drives the same way).")] = 14,
    as_json: JsonOpt = False,
) -> None:
    """Drive the demo fleet: units publish VSS through the broker, health lands on the passports."""
    rp = open_app()
    runner = demo_runner(rp, vehicles=vehicles, minutes=minutes, speedup=speedup, seed=seed)
    if not runner.vehicles:
        fail("no demo vehicle with a passport and a telematics unit: run `roadpass demo` first", as_json=as_json,
             field="vehicles")
    edge = None
    if not _listening(rp.settings.mqtt_host, rp.settings.mqtt_port):
        from roadpass.broker.runner import BrokerUnavailable
        from roadpass.features.telematics import start_edge

        try:
            edge = start_edge(rp)  # no server running: this run brings its own broker and ingester
        except BrokerUnavailable as exc:
            fail(str(exc), as_json=as_json)
    try:
        result = runner.run()
    finally:
        if edge is not None:
            edge.stop()
    _print_result(result, as_json)


def health(
    pack: Annotated[list[str] | None, typer.Option(help="A pack (EPC URN or Digital Link); default: every pack.")]
    = None,
    force: Annotated[bool, typer.Option(help="Write even when the new signals cover less than the cadence.")]
    = False,
    threshold: Annotated[float | None, typer.Option(help="Warranty check: warranted state of health, %.")] = None,
    years: Annotated[float, typer.Option(help="Warranty check: warranted years from putting into service.")] = 8.0,
    as_json: JsonOpt = False,
) -> None:
    """Fold the packs' new signals into their passports now; with --threshold, list the packs the warranty
    rule flags."""
    rp = open_app()
    packs = pack or rp.health.packs()
    if threshold is not None:
        try:
            terms = WarrantyTerms(threshold_percent=threshold, years=years)
        except ValueError as exc:
            fail(str(exc), as_json=as_json, field="threshold")
        flagged = {k: f.reason for k, f in rp.health.flagged(packs, terms).items()}
        if as_json:
            print_json({"flagged": flagged})
        for key, reason in ([] if as_json else flagged.items()):
            console.print(f"{key}: {reason}", markup=False, highlight=False)
        return
    updates = [u.as_json() for u in rp.health.update_all(packs, force=force)]
    if as_json:
        print_json(updates)
        return
    console.print(f"{len(updates)} passports updated", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``simulate`` and ``health`` to the ``telematics`` command group."""
    app.command("simulate")(simulate)
    app.command("health")(health)
