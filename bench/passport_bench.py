"""Battery passport benchmark: bulk issue, validation, and public GET latency against a peer server.

1. Generate a demo fleet and capture it through the real capture path (SQLite in a temporary folder).
2. Issue a passport for every traction pack from the trace record (validation included): ``issue_per_s``.
3. Validate every issued passport (all seven sections): ``validate_per_s`` (the issue path: compiled
   validator, reference validator for anything it refuses) and ``validate_reference_per_s`` (jsonschema).
4. Serve the passports (a) by roadpass's application under uvicorn, as ``roadpass serve --workers`` runs
   it, and (b) by the peer a user would otherwise pick: the Eclipse BaSyx Python SDK's AAS repository
   server (``basyx.aas.adapter.http.WSGIApp``,
   basyx-python-sdk 1.2.x, the last release that ships it) under gunicorn, each passport an AAS with one
   submodel per Battery Pass section holding the public view. Both servers get the same number of worker
   processes; a SECOND process (wrk when installed, else this script with ``--load``) drives each over
   loopback with a fixed number of concurrent keep-alive connections after a steady-state warm-up.

Prints progress to stderr and one JSON line to stdout. ``python bench/passport_bench.py --vehicles 5000``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- servers


def _element(name: str, value: Any) -> Any:
    from basyx.aas import model

    if isinstance(value, dict):
        return model.SubmodelElementCollection(
            name, [_element(k, v) for k, v in value.items() if v is not None and (not isinstance(v, list) or v)]
        )
    if isinstance(value, list):
        return model.SubmodelElementCollection(name, [_element(f"item{i}", v) for i, v in enumerate(value)])
    if isinstance(value, bool):
        return model.Property(name, model.datatypes.Boolean, value)
    if isinstance(value, int | float):
        return model.Property(name, model.datatypes.Double, float(value))
    return model.Property(name, model.datatypes.String, str(value))


def make_basyx() -> Any:
    """The BaSyx AAS repository server (WSGI) holding every passport's public view as AAS submodels."""
    from basyx.aas import model
    from basyx.aas.adapter.aasx import DictSupplementaryFileContainer
    from basyx.aas.adapter.http import WSGIApp

    store: model.DictObjectStore[model.Identifiable] = model.DictObjectStore()
    views = json.loads(Path(os.environ["BENCH_VIEWS"]).read_text())
    for view in views:
        pid = view["passportId"]
        refs = set()
        for section, payload in view["sections"].items():
            sm_id = f"{pid}/{section}"
            sm = model.Submodel(sm_id, id_short=section,
                                submodel_element=[_element(k, v) for k, v in payload.items()
                                                  if v is not None and (not isinstance(v, list) or v)])
            store.add(sm)
            refs.add(model.ModelReference.from_referable(sm))
        shell = model.AssetAdministrationShell(
            model.AssetInformation(global_asset_id=view["batteryId"]), pid, id_short="BatteryPassport", submodel=refs
        )
        store.add(shell)
    return WSGIApp(store, DictSupplementaryFileContainer())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, proc: subprocess.Popen[bytes], seconds: float = 300) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------------------------- load client


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> tuple[bool, bool]:
    """One GET on a keep-alive connection: (status 2xx/3xx, server keeps the connection open)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    length, keep = 0, True
    for line in head.split(b"\r\n"):
        lower = line.lower()
        if lower.startswith(b"content-length:"):
            length = int(line[15:])
        elif lower.startswith(b"connection:") and b"close" in lower:
            keep = False
    if length:
        await reader.readexactly(length)
    # A 2xx or 3xx is an answer (the resolver's 307 is its success), as wrk counts it.
    return head[9:10] in (b"2", b"3"), keep


async def _worker(port: int, paths: list[str], budget: list[int], deadline: float, out: list[float],
                  errors: list[int]) -> None:
    rng = random.Random(len(out))
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            started = time.perf_counter()
            try:
                ok, keep = await _get(reader, writer, paths[rng.randrange(len(paths))])
            except (asyncio.IncompleteReadError, ConnectionError):
                ok, keep = False, False
            out.append(time.perf_counter() - started)
            if not ok:
                errors[0] += 1
            if not keep:  # the server closed it: reconnect (the time to do so is not counted)
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
    finally:
        writer.close()


async def _load(port: int, paths: list[str], concurrency: int, requests: int, seconds: float) -> dict[str, Any]:
    budget, errors = [requests], [0]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    await asyncio.gather(*(_worker(port, paths, budget, deadline, latencies, errors) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
    }


def load_main(args: argparse.Namespace) -> None:
    """The load-generator process: print one JSON line of figures."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    paths = json.loads(Path(args.paths).read_text())
    print(json.dumps(asyncio.run(_load(args.port, paths, args.concurrency, args.requests, args.seconds))))


# ---------------------------------------------------------------------------------------------- warm-up

#: The server process (uvicorn's or gunicorn's master) listening on each port, for the warm-up.
SERVERS: dict[int, int] = {}
WARM_CONNECTIONS = 4  # per worker process


def _owners(port: int, master: int) -> dict[int, int]:
    """Which worker process holds each client-side port of a connection to ``port`` (kernel's view)."""
    owners: dict[int, int] = {}
    for child in psutil.Process(master).children(recursive=True):
        try:
            for conn in child.net_connections(kind="tcp"):
                if conn.laddr and conn.raddr and conn.laddr.port == port:
                    owners[conn.raddr.port] = child.pid
        except psutil.Error:
            continue
    return owners


async def _pinned(port: int, master: int, workers: int, probe: str) -> dict[int, list[Any]]:
    """``WARM_CONNECTIONS`` keep-alive connections per worker process: open connections (each asked one
    request, so a worker has accepted it) until every worker holds enough or 512 were opened."""
    pinned: dict[int, list[Any]] = {}
    spare: list[Any] = []
    for _ in range(64):
        batch = [await asyncio.open_connection("127.0.0.1", port) for _ in range(8)]
        for reader, writer in batch:
            await _get(reader, writer, probe)
        owners = _owners(port, master)
        for reader, writer in batch:
            pid = owners.get(writer.get_extra_info("sockname")[1])
            chosen = pinned.setdefault(pid, []) if pid is not None else spare
            (chosen if len(chosen) < WARM_CONNECTIONS else spare).append((reader, writer))
        if len(pinned) >= workers and all(len(c) >= WARM_CONNECTIONS for c in pinned.values()):
            break
    for _, writer in spare:
        writer.close()
    return pinned


async def _read_each(port: int, connections: list[Any], paths: list[str]) -> int:
    """Every path once over one worker's connections (a closed connection is reopened, perhaps elsewhere)."""
    errors = 0

    async def one(index: int) -> None:
        nonlocal errors
        reader, writer = connections[index]
        for path in paths[index::len(connections)]:
            try:
                ok, keep = await _get(reader, writer, path)
            except (asyncio.IncompleteReadError, ConnectionError):
                ok, keep = False, False
            errors += not ok
            if not keep:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    await asyncio.gather(*(one(i) for i in range(len(connections))))
    return errors


def warm_workers(port: int, paths: list[str], workers: int) -> None:
    """Warm-up, not measured: every path read once by EVERY worker process of the server, so both servers
    are measured in their steady state (roadpass: each worker's caches hold every body; the peer: nothing
    to warm, its store is in memory). Which worker holds a connection is the kernel's choice, so the
    connections are pinned by asking the operating system which process owns each (psutil)."""
    master = SERVERS.get(port)
    if master is None:
        return

    async def run() -> None:
        started = time.perf_counter()
        pinned = await _pinned(port, master, workers, paths[0])
        errors = await asyncio.gather(*(_read_each(port, c, paths) for c in pinned.values()))
        log(f"warm-up: {len(paths)} paths x {len(pinned)} worker(s) in {time.perf_counter() - started:.1f}s, "
            f"{sum(errors)} errors")

    asyncio.run(run())


# wrk's Lua hooks: a random path of the list per request; the figures as one JSON line at the end.
WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
math.randomseed(7)
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = "application/json"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "errors": %d, "p50_ms": %.2f, "p99_ms": %.2f, "seconds": %.3f}\\n',
    summary.requests, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.duration / 1e6))
end
"""


def run_wrk(port: int, paths: list[str], args: argparse.Namespace, tmp: Path, name: str) -> dict[str, Any]:
    """Load with wrk (one thread, ``--concurrency`` keep-alive connections, ``--seconds`` long) after a
    warm-up run: the load generator then costs the machine least, leaving the servers the most."""
    (tmp / f"{name}-paths.txt").write_text("\n".join(paths) + "\n")
    (tmp / "paths.lua").write_text(WRK_SCRIPT)

    def wrk(seconds: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["wrk", "-t1", f"-c{args.concurrency}", f"-d{max(1, int(seconds))}s", "--timeout", "10s",
             "-s", str(tmp / "paths.lua"), f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=seconds + 120,
            env={**os.environ, "WRK_PATHS": str(tmp / f"{name}-paths.txt")},
        )

    # Warm-up, not measured, after every worker read every path (warm_workers): the same load in rounds
    # until the throughput of two rounds in a row agrees within 10 %, so both servers are measured in
    # their steady state (connections, allocator, the kernel's buffers).
    previous = 0.0
    for _ in range(8):
        warm = wrk(args.warm_seconds)
        rate = json.loads(warm.stdout.strip().splitlines()[-1])["requests"] / args.warm_seconds
        if previous and abs(rate - previous) <= 0.1 * previous:
            break
        previous = rate
    out = wrk(args.seconds)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed against {name}: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["requests_per_s"] = round(result["requests"] / result["seconds"], 1)
    return result


def run_load(port: int, paths: list[str], args: argparse.Namespace, tmp: Path, name: str) -> dict[str, Any]:
    """Load one server from a second process: wrk when the machine has it (Debian package ``wrk``),
    else this script's own asyncio client (``--client python`` asks for it); every worker warmed first."""
    warm_workers(port, paths, args.workers)
    if args.client == "wrk":
        return run_wrk(port, paths, args, tmp, name)
    path_file = tmp / f"{name}-paths.json"
    path_file.write_text(json.dumps(paths))
    out = subprocess.run(
        [sys.executable, __file__, "--load", "--port", str(port), "--paths", str(path_file), "--concurrency",
         str(args.concurrency), "--requests", str(args.requests), "--seconds", str(args.seconds),
         "--workers", str(args.workers)],
        capture_output=True, text=True, timeout=args.seconds + 300,
    )
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed against {name}: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def serve_roadpass(paths: list[str], args: argparse.Namespace, tmp: Path, env: dict[str, str]) -> dict[str, Any]:
    """Serve with the factory ``roadpass serve --workers N`` runs (the whole application, access layer
    included) and load it."""
    port = _free_port()
    ours = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "roadpass.api.app:create_app_from_environment", "--factory",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning", "--no-access-log",
         "--loop", "auto", "--http", "auto", "--backlog", "4096"], env=env)
    SERVERS[port] = ours.pid
    try:
        _wait(port, ours)
        result = run_load(port, paths, args, tmp, "roadpass")
        result["resolver"] = load_resolver(port, paths, args, tmp)  # same server processes
        result["aas"] = load_aas(port, paths, args, tmp)  # same server processes
        return result
    finally:
        _stop(ours)


def load_resolver(port: int, passport_paths: list[str], args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """The GS1 resolver under the same load: (a) anonymous scans of the passports' QR codes (each answered
    307 to the passport page), (b) machines asking for the linkset (``linkType=linkset``, 200). The URIs
    are the ``digitalLink`` each passport's public view carries, as printed in its QR code."""
    scans: list[str] = []
    for path in passport_paths[:2000]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
            link = json.loads(answer.read())["digitalLink"]
        scans.append("/" + link.split("://", 1)[1].split("/", 1)[1])
    scan = run_load(port, scans, args, tmp, "resolver-scan")
    log(f"resolver 307: {scan}")
    machine = run_load(port, [f"{p}&linkType=linkset" for p in scans], args, tmp, "resolver-linkset")
    log(f"resolver linkset: {machine}")
    return {"scan": scan, "linkset": machine}


def resolver_figures(resolver: dict[str, Any]) -> dict[str, Any]:
    """The resolver's figures for the JSON line."""
    scan, machine = resolver["scan"], resolver["linkset"]
    return {
        "resolver_307_p50_ms": scan["p50_ms"], "resolver_307_p99_ms": scan["p99_ms"],
        "resolver_307_requests_per_s": scan["requests_per_s"], "resolver_307_errors": scan["errors"],
        "resolver_linkset_p50_ms": machine["p50_ms"], "resolver_linkset_p99_ms": machine["p99_ms"],
        "resolver_linkset_requests_per_s": machine["requests_per_s"], "resolver_linkset_errors": machine["errors"],
    }


def load_aas(port: int, passport_paths: list[str], args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """The AAS Part 2 submodel GET under the same load: anonymous ``GET /submodels/{id}`` of every passport's
    seven IDTA 02035 submodels (identifiers base64url-encoded without padding), the public view."""
    parts = ("BatteryNameplate", "HandoverDocumentation", "CarbonFootprint", "TechnicalData", "ProductCondition",
             "MaterialComposition", "Circularity")
    paths = [
        "/submodels/" + base64.urlsafe_b64encode(f"{p[len('/passports/'):]}/aas/{part}".encode()).decode().rstrip("=")
        for p in passport_paths for part in parts
    ]
    result = run_load(port, paths, args, tmp, "aas-submodels")
    log(f"aas submodels: {result}")
    return result


def aas_figures(aas: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """The AAS submodel GET figures for the JSON line, with the ratio to the BaSyx peer of the same run."""
    return {
        "aas_submodel_get_p50_ms": aas["p50_ms"], "aas_submodel_get_p99_ms": aas["p99_ms"],
        "aas_submodel_requests_per_s": aas["requests_per_s"], "aas_submodel_requests": aas["requests"],
        "aas_submodel_errors": aas["errors"],
        "aas_throughput_ratio": round(aas["requests_per_s"] / peer["requests_per_s"], 2)
        if peer["requests_per_s"] else None,
    }


def serve_peer(
    views: list[dict[str, Any]], args: argparse.Namespace, tmp: Path, env: dict[str, str]
) -> dict[str, Any]:
    """Serve the public views from the BaSyx AAS repository server under gunicorn and load it, one
    submodel (section) per GET."""
    peer_port = _free_port()
    peer = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(HERE), "--preload", "-k", "gthread", "--threads", "32",
         "-w", str(args.workers), "-b", f"127.0.0.1:{peer_port}", "--backlog", "4096", "--log-level", "warning",
         "passport_bench:make_basyx()"], env=env)
    SERVERS[peer_port] = peer.pid
    try:
        _wait(peer_port, peer)
        sections = [(v["passportId"], s) for v in views for s in v["sections"]]
        peer_paths = [
            "/api/v3.0/submodels/" + base64.urlsafe_b64encode(f"{pid}/{s}".encode()).decode().rstrip("=")
            for pid, s in sections
        ]
        return run_load(peer_port, peer_paths, args, tmp, "basyx")
    finally:
        _stop(peer)


# ---------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200_000, help="request budget per server")
    parser.add_argument("--seconds", type=float, default=20.0, help="time limit per server")
    parser.add_argument("--workers", type=int, default=2, help="worker processes per server (one per core)")
    parser.add_argument("--warm-seconds", type=float, default=5.0, help="length of each unmeasured warm-up round")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto",
                        help="load generator: wrk (when installed) or the asyncio client in this script")
    parser.add_argument("--load", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        load_main(args)
        return
    if args.client == "auto":
        args.client = "wrk" if shutil.which("wrk") else "python"
    sys.path.insert(0, str(HERE.parent / "src"))
    from roadpass.bootstrap import bootstrap
    from roadpass.demo.fleet import FleetSpec
    from roadpass.demo.load import load_fleet
    from roadpass.passport.access import Role
    from roadpass.passport.issuing import validate_for_issue
    from roadpass.passport.schemas import validate_sections
    from roadpass.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="roadpass-passport-bench-"))
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    app = bootstrap(Settings(database_url=url))
    started = time.perf_counter()
    load_fleet(app, FleetSpec(vehicles=args.vehicles))
    log(f"fleet of {args.vehicles} vehicles captured in {time.perf_counter() - started:.1f}s")

    service = app.passports
    service.ensure_models(actor="bench")
    started = time.perf_counter()
    issued = service.issue_from_trace(actor="bench")
    issue_s = time.perf_counter() - started
    passports = len(issued.issued)
    log(f"issued {passports} passports in {issue_s:.2f}s ({passports / issue_s:,.0f}/s); refused {len(issued.refused)}")

    full = [service.get(pid) for pid in issued.issued[: min(passports, 2000)]]
    started = time.perf_counter()
    for passport in full:
        assert not validate_for_issue(passport.sections)
    validate_per_s = len(full) / (time.perf_counter() - started)
    sample = full[:200]
    started = time.perf_counter()
    for passport in sample:
        assert not [i for i in validate_sections(passport.sections) if i.path != "$.puttingIntoService"]
    reference_per_s = len(sample) / (time.perf_counter() - started)
    log(f"validate: {validate_per_s:,.0f}/s (issue path), {reference_per_s:,.0f}/s (reference validator)")

    views = [json.loads(service.view_json(pid, Role.PUBLIC, actor="bench")) for pid in issued.issued]
    (tmp / "views.json").write_text(json.dumps(views))
    app.close()
    env = {**os.environ, "ROADPASS_DATABASE_URL": url, "BENCH_VIEWS": str(tmp / "views.json"),
           "PYTHONPATH": f"{HERE.parent / 'src'}:{HERE}"}

    try:
        roadpass = serve_roadpass([f"/passports/{pid}" for pid in issued.issued], args, tmp, env)
        log(f"roadpass: {roadpass}")
        basyx = serve_peer(views, args, tmp, env)
        log(f"basyx: {basyx}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # the fleet's database and the servers' path lists
    print(json.dumps({
        "passports": passports,
        "vehicles": args.vehicles,
        "issue_per_s": round(passports / issue_s, 1),
        "validate_per_s": round(validate_per_s, 1),
        "validate_reference_per_s": round(reference_per_s, 1),
        "concurrency": args.concurrency,
        "load_client": args.client,
        "workers": args.workers,
        "get_public_p50_ms": roadpass["p50_ms"],
        "get_public_p99_ms": roadpass["p99_ms"],
        "get_public_requests_per_s": roadpass["requests_per_s"],
        "get_public_requests": roadpass["requests"],
        "get_public_errors": roadpass["errors"],
        **resolver_figures(roadpass["resolver"]),
        **aas_figures(roadpass["aas"], basyx),
        "peer": "basyx-python-sdk WSGIApp (AAS repository server) under gunicorn gthread, one submodel per GET",
        "peer_get_p50_ms": basyx["p50_ms"],
        "peer_get_p99_ms": basyx["p99_ms"],
        "peer_requests_per_s": basyx["requests_per_s"],
        "peer_requests": basyx["requests"],
        "peer_errors": basyx["errors"],
        "throughput_ratio": round(roadpass["requests_per_s"] / basyx["requests_per_s"], 2)
        if basyx["requests_per_s"] else None,
    }))


if __name__ == "__main__":
    main()
