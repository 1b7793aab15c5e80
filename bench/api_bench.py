"""API benchmark: authorised reads and captures at 100 concurrent clients, with the access layer on and off.

roadpass runs under uvicorn in a subprocess on 127.0.0.1, on a demo database loaded beforehand; the load
comes from a second process (this script with ``--client``: asyncio, 100 client tasks each on its own
keep-alive connection, bounded in requests and time). The same database is served twice in the same run,
once with authorisation on (a carmaker's API key: authentication, the rule table, the visibility check of
each event) and once with ``ROADPASS_AUTH_ENABLED=false``; the difference is what the access layer costs.

Two load shapes:

* **paced** — 100 clients, each sending its next ``GET /events/{id}`` a fixed interval after the previous
  one was sent (``--rate`` requests per second in total): the latency a caller sees on a busy node.
  ``get_event_p50_ms`` / ``get_event_p99_ms`` come from here.
* **saturated** — 100 clients, each sending its next request as soon as the previous one is answered:
  ``requests_per_s`` is the node's throughput (latency there is queueing: 100 / throughput).

Then 100 clients capture small EPCIS documents (10 new events each) for ``capture_doc_p99_ms``; last, one
document of 10,000 events is captured while 10 clients keep reading (100 GETs per second in total):
``get_during_large_capture_p99_ms`` is what other callers wait while a large capture is stored.
Prints progress to stderr and one final JSON line to stdout::

    python bench/api_bench.py                     # 2000 vehicles
    python bench/api_bench.py --vehicles 500 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson

CLIENTS = 100


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0-1) of ``samples`` in milliseconds, rounded."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


# --- the load client (runs in its own process) ------------------------------------------------------
#
# The client speaks HTTP/1.1 itself over asyncio streams, one keep-alive connection per client. httpx was
# the first choice, but at 100 connections its pool costs about ten times what the server spends on a
# request (measured: 62 requests/s against a static file that this client fetches 680 times a second),
# so the benchmark would have measured the client.


class Connection:
    """One client's keep-alive HTTP/1.1 connection to the server."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.head = "".join(f"{k}: {v}\r\n" for k, v in {"Host": "127.0.0.1", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", content_type: str = "") -> int:
        """Send one request and read the whole answer; its status code."""
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        extra = f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n" if method == "POST" else ""
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{extra}\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        if b"connection: close" in head.lower():
            self.writer.close()
            self.reader = self.writer = None
        return status


async def _paced(port: int, headers: dict[str, str], paths: list[str], rate: float, seconds: float) -> dict[str, Any]:
    interval = CLIENTS / rate
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + seconds

    async def one_client(index: int) -> None:
        rnd = random.Random(index)
        conn = Connection(port, headers)
        await conn.request("GET", rnd.choice(paths))  # connect before the clock starts
        await asyncio.sleep(rnd.random() * interval)  # spread the clients over one interval
        due = time.perf_counter()
        while due < stop:
            started = time.perf_counter()
            status = await conn.request("GET", rnd.choice(paths))
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            due += interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    began = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(CLIENTS)))
    took = time.perf_counter() - began
    return {"p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "n": len(latencies),
            "rps": round(len(latencies) / took, 1), "statuses": statuses}


async def _saturated(port: int, headers: dict[str, str], paths: list[str], seconds: float, limit: int
                     ) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + seconds

    async def one_client(index: int) -> None:
        rnd = random.Random(1000 + index)
        conn = Connection(port, headers)
        while time.perf_counter() < stop and len(latencies) < limit:
            started = time.perf_counter()
            status = await conn.request("GET", rnd.choice(paths))
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(one_client(i) for i in range(CLIENTS)))
    took = time.perf_counter() - began
    return {"p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "n": len(latencies),
            "rps": round(len(latencies) / took, 1), "statuses": statuses}


def _capture_doc(gcp: str, n: int, serial_base: int) -> bytes:
    context = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
    events = [
        {
            "type": "ObjectEvent", "eventTime": "2026-01-05T10:00:00.000Z", "eventTimeZoneOffset": "+00:00",
            "epcList": [f"urn:epc:id:sgtin:{gcp}.099999.{serial_base + i}"], "action": "OBSERVE",
            "bizStep": "inspecting", "readPoint": {"id": f"urn:epc:id:sgln:{gcp}.00010.0"},
        }
        for i in range(n)
    ]
    return orjson.dumps({"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
                         "creationDate": "2026-01-05T10:00:00.000Z", "epcisBody": {"eventList": events}})


async def _captures(port: int, headers: dict[str, str], gcp: str, docs: int, offset: int) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(range(docs))

    async def one_client() -> None:
        conn = Connection(port, headers)
        while queue:
            body = _capture_doc(gcp, 10, offset + queue.pop() * 10)
            started = time.perf_counter()
            status = await conn.request("POST", "/capture", body, "application/ld+json")
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    took = time.perf_counter() - began
    return {"p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "n": len(latencies),
            "docs_per_s": round(len(latencies) / took, 1), "statuses": statuses}


async def _during_large_capture(port: int, headers: dict[str, str], paths: list[str], gcp: str, events: int,
                                offset: int, rate: float) -> dict[str, Any]:
    """One capture of ``events`` events and, for as long as it runs, paced GETs on other connections: what
    other callers see while a large document is validated and stored."""
    body = _capture_doc(gcp, events, offset)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    done = asyncio.Event()

    async def capture() -> tuple[int, float]:
        started = time.perf_counter()
        status = await Connection(port, headers).request("POST", "/capture", body, "application/ld+json")
        done.set()
        return status, time.perf_counter() - started

    async def reader(index: int, clients: int) -> None:
        conn = Connection(port, headers)
        interval = clients / rate
        await asyncio.sleep(index * interval / clients)
        while not done.is_set():
            started = time.perf_counter()
            status = await conn.request("GET", paths[(index * 7919 + len(latencies)) % len(paths)])
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))

    clients = 10
    readers = [asyncio.create_task(reader(i, clients)) for i in range(clients)]
    capture_status, capture_s = await capture()
    await asyncio.gather(*readers)
    return {"p50": pct(latencies, 0.5), "p99": pct(latencies, 0.99), "n": len(latencies),
            "capture_s": round(capture_s, 2), "capture_status": capture_status, "statuses": statuses}


def client_main(args: argparse.Namespace) -> None:
    """The load process: read the plan on stdin, print one JSON result line."""
    plan = orjson.loads(sys.stdin.buffer.read())
    headers = plan["headers"]
    paths = plan["paths"]
    port = plan["port"]
    if args.client == "paced":
        result = asyncio.run(_paced(port, headers, paths, plan["rate"], plan["seconds"]))
    elif args.client == "saturated":
        result = asyncio.run(_saturated(port, headers, paths, plan["seconds"], plan["limit"]))
    elif args.client == "large":
        result = asyncio.run(_during_large_capture(port, headers, paths, plan["gcp"], plan["events"], plan["offset"],
                                                   plan["rate"]))
    else:
        result = asyncio.run(_captures(port, headers, plan["gcp"], plan["docs"], plan["offset"]))
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS).decode() + "\n")


# --- the orchestration ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(db_url: str, vehicles: int) -> tuple[str, list[str]]:
    """Load the fleet, make the carmaker's API key; return its token and event paths it may read."""
    from roadpass.bootstrap import bootstrap
    from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
    from roadpass.settings import Settings
    from roadpass.trace.query import parse_event_query

    app = bootstrap(Settings(database_url=db_url, environment="test"))
    for p in fleet_parties():
        app.admin.create_party(actor="bench", key=p.key, name=p.name, role=p.role, country=p.country,
                               gcp=p.company_prefix)
    started = time.perf_counter()
    bodies = (orjson.dumps(d) for d in generate_fleet(FleetSpec(vehicles=vehicles)))
    events = sum(getattr(o, "stored", 0) for o in app.trace.capture_many(bodies, actor="demo-generator"))
    log(f"loaded {vehicles} vehicles, {events} events in {time.perf_counter() - started:.1f} s")
    carmaker = app.access.party("lanxing")
    assert carmaker is not None
    made, _ = app.admin.create_api_key(actor="bench", party_id=carmaker.id, name="bench", days=1)
    rows = app.trace.events(parse_event_query({"MATCH_anyEPC": "urn:epc:idpat:giai:6975001.*", "perPage": "1000"}))[0]
    paths = [f"/events/{quote(e['eventID'], safe='')}" for e in rows]
    app.close()
    log(f"{len(paths)} events of the carmaker's vehicles to read")
    return made.token, paths


class Server:
    """roadpass under uvicorn in a subprocess (one worker: the other core runs the load)."""

    def __init__(self, db_url: str, auth: bool) -> None:
        self.port = _free_port()
        env = {**os.environ, "ROADPASS_DATABASE_URL": db_url, "ROADPASS_ENVIRONMENT": "test",
               "ROADPASS_AUTH_ENABLED": "true" if auth else "false",
               "ROADPASS_RATE_LIMIT_CAPTURE_PER_MINUTE": "1000000"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "roadpass.api.app:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log", "--loop", "uvloop",
             "--http", "httptools"],
            env=env,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (all its threads)."""
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def run_client(kind: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Run the load client in a second process and return its result."""
    done = subprocess.run([sys.executable, __file__, "--client", kind], input=orjson.dumps(plan),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"load client failed: {done.stderr.decode()[-2000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return result


def _median(results: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(r[key] for r in results), 2)


def measure(db_url: str, token: str, paths: list[str], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Both servers (authorisation on and off) up at once, measured in alternating rounds so that a
    background hiccup on the machine falls on both alike; medians over the rounds."""
    servers = {"on": Server(db_url, True), "off": Server(db_url, False)}
    plans = {mode: {"port": server.port, "headers": {"Authorization": f"Bearer {token}"} if mode == "on" else {},
                    "paths": paths} for mode, server in servers.items()}
    paced: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    saturated: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    capture: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
    try:
        for mode in servers:  # warm caches and connections
            run_client("saturated", {**plans[mode], "seconds": 2.0, "limit": 3000})
        for _round in range(args.rounds):
            for mode in servers:
                paced[mode].append(run_client("paced", {**plans[mode], "rate": args.rate, "seconds": args.seconds}))
                before = servers[mode].cpu_seconds()
                result = run_client("saturated", {**plans[mode], "seconds": args.seconds / 2, "limit": 200_000})
                # The server's own CPU per request: what authorisation costs, whatever else the machine does.
                result["cpu_us"] = (servers[mode].cpu_seconds() - before) / max(1, result["n"]) * 1e6
                saturated[mode].append(result)
        for round_ in range(args.rounds):
            for offset, mode in enumerate(servers):
                capture[mode].append(run_client("capture", {
                    **plans[mode], "gcp": "6975001", "docs": max(CLIENTS, args.docs // args.rounds),
                    "offset": 1_000_000 * (1 + offset + 2 * round_),
                }))
        large = [run_client("large", {**plans["on"], "gcp": "6975002", "events": args.large_events, "rate": 100.0,
                                      "offset": 1_000_000 * (1 + round_)}) for round_ in range(args.rounds)]
    finally:
        for server in servers.values():
            server.stop()
    out: dict[str, dict[str, Any]] = {}
    for mode in servers:
        out[mode] = {
            "p50": _median(paced[mode], "p50"), "p99": _median(paced[mode], "p99"),
            "rps": _median(saturated[mode], "rps"), "saturated_p99": _median(saturated[mode], "p99"),
            "cpu_us": _median(saturated[mode], "cpu_us"),
            "capture_p50": _median(capture[mode], "p50"), "capture_p99": _median(capture[mode], "p99"),
            "statuses": [paced[mode][-1]["statuses"], saturated[mode][-1]["statuses"], capture[mode][-1]["statuses"]],
        }
        log(f"auth {mode:<3}: paced {args.rate:.0f}/s p50 {out[mode]['p50']} ms p99 {out[mode]['p99']} ms "
            f"(rounds: {[r['p99'] for r in paced[mode]]}); saturated {out[mode]['rps']} req/s "
            f"(rounds: {[r['rps'] for r in saturated[mode]]}), {out[mode]['cpu_us']} µs server CPU per request "
            f"(rounds: {[round(r['cpu_us']) for r in saturated[mode]]}); capture p99 {out[mode]['capture_p99']} ms "
            f"(rounds: {[r['p99'] for r in capture[mode]]}); "
            f"statuses {out[mode]['statuses']}")
    out["large"] = {"p50": _median(large, "p50"), "p99": _median(large, "p99"),
                    "capture_s": _median(large, "capture_s"), "statuses": [r["capture_status"] for r in large]}
    log(f"GET during a {args.large_events}-event capture: p50 {out['large']['p50']} ms p99 {out['large']['p99']} ms "
        f"(rounds: {[r['p99'] for r in large]}; capture took {[r['capture_s'] for r in large]} s, "
        f"statuses {out['large']['statuses']}, GET statuses {large[-1]['statuses']})")
    return out


def main() -> None:
    """Run the benchmark and print the final JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--client", choices=["paced", "saturated", "capture", "large"], help=argparse.SUPPRESS)
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each paced round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--rate", type=float, default=500.0,
                        help="paced load: requests per second in total (100 clients, one every 200 ms each)")
    parser.add_argument("--docs", type=int, default=300, help="capture phase: documents (10 events each)")
    parser.add_argument("--large-events", type=int, default=10_000,
                        help="events of the one large capture during which GETs are timed")
    args = parser.parse_args()
    if args.client:
        client_main(args)
        return
    with tempfile.TemporaryDirectory(prefix="roadpass-api-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'roadpass.sqlite3'}"
        token, paths = prepare(db_url, args.vehicles)
        found = measure(db_url, token, paths, args)
    on, off = found["on"], found["off"]
    cpu_overhead = on["cpu_us"] / off["cpu_us"] - 1 if off["cpu_us"] else float("nan")
    rps_overhead = off["rps"] / on["rps"] - 1 if on["rps"] else float("nan")
    result = {
        "vehicles": args.vehicles,
        "clients": CLIENTS,
        "paced_rate_per_s": args.rate,
        "get_event_p50_ms": on["p50"],
        "get_event_p99_ms": on["p99"],
        "get_event_p50_ms_auth_off": off["p50"],
        "get_event_p99_ms_auth_off": off["p99"],
        "requests_per_s": on["rps"],
        "requests_per_s_auth_off": off["rps"],
        "saturated_p99_ms": on["saturated_p99"],
        "server_cpu_us_per_request": on["cpu_us"],
        "server_cpu_us_per_request_auth_off": off["cpu_us"],
        "auth_overhead_pct": round(100 * cpu_overhead, 1),
        "auth_overhead_throughput_pct": round(100 * rps_overhead, 1),
        "capture_doc_p50_ms": on["capture_p50"],
        "capture_doc_p99_ms": on["capture_p99"],
        "capture_doc_p99_ms_auth_off": off["capture_p99"],
        "large_capture_events": args.large_events,
        "large_capture_s": found["large"]["capture_s"],
        "get_during_large_capture_p50_ms": found["large"]["p50"],
        "get_during_large_capture_p99_ms": found["large"]["p99"],
        "cpus": os.cpu_count(),
    }
    print(orjson.dumps(result, option=orjson.OPT_NON_STR_KEYS).decode(), flush=True)


if __name__ == "__main__":
    main()
