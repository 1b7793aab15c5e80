"""Subscription benchmark: capture throughput with 0, 10 and 100 stream subscriptions, webhook delivery latency
and throughput, and at-least-once delivery through a receiver that goes down mid-run.

The demo fleet (``--vehicles``, default 2,000) is captured into a fresh SQLite database once per subscription
count (``--subscriptions``, default ``0,10,100``), each pass in a child process of its own (this script with
``--pass-subscriptions``) so that no pass inherits another's warm caches. A pass captures the way
``roadpass demo`` does: the demo parties through the admin service, then the fleet's documents through
``TraceService.capture_many``; the subscription worker runs as when serving (``rp.subscriptions.start()``).
The documents are generated before the clock starts.

Half the subscriptions (even numbers) are to a named query that every fleet event matches, half to one that
none matches; all are streams signed with a ``signatureToken``. Their webhooks are real HTTP servers on
127.0.0.1 (``--receivers`` of them, ``http.server.ThreadingHTTPServer`` speaking HTTP/1.1 with kept-alive
connections, as production receivers do) run by this, the parent, process:
each receipt is timestamped on arrival, its ``GS1-Signature`` checked and its eventIDs read from the
``EPCISQueryDocument`` body. The pass records when each capture committed (a hook at the head of
``trace.after_capture_commit``) and which eventIDs it stored, so every (subscription, event) pair has a
latency: first webhook receipt minus commit. Both processes read the same wall clock.

During the largest pass, receiver 0 (which serves only matching subscriptions) stops listening once a third of
the documents are captured (``--down-mode 503`` answers 503 instead) and listens again on the same port after
``--down-seconds`` and once the worker has failed ``--down-refusals`` attempts on it, so that the failure,
backoff and retry path really runs. After the capture the parent waits (at most ``--drain-timeout``) until every
matching subscription has received every captured event, then the pass lets the worker settle and counts what
is left in its outbox. Every matching event must have reached every matching subscription at least once
(``lost`` counts the (subscription, event) pairs that did not; ``duplicates`` the extra copies), no event may
have reached a subscription whose query matches none (``unexpected``), and every receipt must carry a valid
signature (``bad_receipts``). Latency percentiles leave out the subscriptions of the receiver that was down
(what it waited is reported as ``down_receiver_*``).

Figures: ``capture_events_per_s_{n}`` (wall clock, from the first document to the last commit) and
``capture_ratio_{max}_to_0`` (target ≥ 0.80); ``delivery_latency_p50_ms`` / ``_p99_ms`` of the largest pass
(target p99 < 500 ms) and per pass; ``deliveries_per_s`` (acknowledged POSTs from the first capture to the last
receipt) and ``delivered_events_per_s``; ``last_delivery_after_capture_s_{n}``. Wall-clock figures move with
whatever else the machine runs, so the load average is printed, ``--repeat`` keeps the best capture rate of
several interleaved runs, and CPU figures are given beside them: ``capture_cpu_ms_per_1000_events_{n}`` (the
capturing process while it captured, its subscription worker thread included), ``pass_cpu_s_{n}`` (that process
over the whole pass) and ``receivers_cpu_s_{n}`` (this process's webhooks).

Prints progress to stderr and one final JSON line to stdout::

    python bench/subscription_bench.py                  # 2,000 vehicles, 0/10/100 subscriptions
    python bench/subscription_bench.py --vehicles 200   # a quick run
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import queue
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson

TOKEN = "subscription-bench-signature-token"
ACTOR = "subscription-bench"
MATCHING = "fleet-every-event"
NOTHING = "fleet-no-event"
# Every event type there is: each fleet event matches.
MATCHING_QUERY = {"eventType": ["ObjectEvent", "AggregationEvent", "TransformationEvent", "TransactionEvent",
                                "AssociationEvent"]}
# No fleet event is a destruction (checked against the documents in every pass).
NOTHING_QUERY = {"EQ_bizStep": ["destroying"]}
NOTHING_STEPS = {"destroying", "urn:epcglobal:cbv:bizstep:destroying"}

_EVENT_ID = re.compile(rb'"eventID":"([^"]+)"')

TARGET_RATIO = 0.80
TARGET_P99_MS = 500.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pct_ms(samples: list[float], q: float) -> float | None:
    """The q-quantile (0-1) of ``samples`` (seconds) in milliseconds, rounded; None when there are none."""
    if not samples:
        return None
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


# --- the receivers (parent process) ------------------------------------------------------------------


class Receipts:
    """What the webhooks received, per request path (one path per subscription): for each eventID the
    time it first arrived, and how many event copies and requests came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.first: dict[str, dict[str, float]] = {}
        self.copies: dict[str, int] = {}
        self.requests: list[tuple[float, str, int]] = []  # (arrival, path, events) of each 2xx answer
        self.refused = 0  # requests answered 503 while "down" in --down-mode 503
        self.bad = 0  # bad signature or not an EPCISQueryDocument

    def record(self, at: float, path: str, body: bytes, signed: str | None) -> bool:
        if signed != hmac.new(TOKEN.encode(), body, hashlib.sha256).hexdigest():
            with self.lock:
                self.bad += 1
            return False
        # The receiver's own cost is not what is measured: the eventIDs are picked out of the body without
        # building the whole document (its type is checked near the top, where roadpass writes it).
        if b'"type":"EPCISQueryDocument"' not in body[:400]:
            with self.lock:
                self.bad += 1
            return False
        ids = [m.decode() for m in _EVENT_ID.findall(body)]
        with self.lock:
            seen = self.first.setdefault(path, {})
            for event_id in ids:
                seen.setdefault(event_id, at)
            self.copies[path] = self.copies.get(path, 0) + len(ids)
            self.requests.append((at, path, len(ids)))
        return True


class Receiver:
    """One webhook server on 127.0.0.1 that can go down (stop listening, or answer 503) and come back on the
    same port."""

    def __init__(self, receipts: Receipts, port: int = 0) -> None:
        self.receipts = receipts
        self.answer_503 = False
        self.dead = False
        self.server = self._listen(port)
        self.port = int(self.server.server_address[1])

    def _listen(self, port: int) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps connections open, as production receivers do

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.dead:  # stopped listening: a kept connection dies without an answer too
                    self.close_connection = True
                    return
                at = time.time()
                if receiver.answer_503:
                    with receiver.receipts.lock:
                        receiver.receipts.refused += 1
                    status = 503
                else:
                    ok = receiver.receipts.record(at, self.path, body, self.headers.get("GS1-Signature"))
                    status = 204 if ok else 400
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)  # allow_reuse_address: same port again
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name=f"receiver-{port}", daemon=True).start()
        return server

    def down(self, mode: str) -> None:
        if mode == "503":
            self.answer_503 = True
        else:
            self.dead = True
            self.server.shutdown()
            self.server.server_close()

    def up(self, mode: str) -> None:
        if mode == "503":
            self.answer_503 = False
        else:
            self.dead = False
            self.server = self._listen(self.port)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- one pass (child process) ------------------------------------------------------------------------


def paced(documents: list[bytes], steps: list[list[Any]], rate: float) -> Iterator[bytes]:
    """The documents, handed to capture no faster than ``rate`` events per second (0: as fast as it takes
    them), so that latency can also be measured at a steady capture rate below the node's maximum."""
    started = time.perf_counter()
    handed = 0
    for body, events in zip(documents, steps, strict=True):
        if rate:
            time.sleep(max(0.0, started + handed / rate - time.perf_counter()))
        handed += len(events)
        yield body


def run_pass(args: argparse.Namespace) -> None:
    """Capture the fleet with ``args.pass_subscriptions`` subscriptions to the webhooks on ``args.ports``;
    control lines (``DOWN``) and one ``RESULT`` line go to stdout."""
    from sqlalchemy import text

    from roadpass.bootstrap import bootstrap
    from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
    from roadpass.settings import Settings
    from roadpass.trace.capture_plan import CaptureOutcome

    said = threading.Lock()  # the capture loop and the subscription worker both report

    def say(line: str) -> None:
        with said:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    count = args.pass_subscriptions
    ports = [int(p) for p in args.ports.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="roadpass-subscription-bench-"))
    database_url = f"sqlite:///{folder / 'bench.sqlite3'}"
    rp = bootstrap(Settings(database_url=database_url, environment="test"))
    spec = FleetSpec(vehicles=args.vehicles, seed=args.seed)
    for party in fleet_parties(spec):  # as roadpass demo registers them (demo.load.load_fleet)
        rp.admin.create_party(actor=ACTOR, key=party.key, name=party.name, role=party.role,
                              country=party.country, gcp=party.company_prefix)
    rp.queries.create({"name": MATCHING, "query": MATCHING_QUERY}, actor=ACTOR, party_id=None)
    rp.queries.create({"name": NOTHING, "query": NOTHING_QUERY}, actor=ACTOR, party_id=None)
    subscriptions = []
    for i in range(count):
        matching = i % 2 == 0
        receiver = i % len(ports)
        path = f"/pass{args.tag}-{count}/s{i}"
        rp.subscriptions.create(MATCHING if matching else NOTHING,
                                {"dest": f"http://127.0.0.1:{ports[receiver]}{path}", "signatureToken": TOKEN,
                                 "stream": True}, actor=ACTOR, party_id=None)
        subscriptions.append({"path": path, "receiver": receiver, "matching": matching})

    documents = [orjson.dumps(d) for d in generate_fleet(spec)]
    steps = [[e.get("bizStep") for e in orjson.loads(b)["epcisBody"]["eventList"]] for b in documents]

    # When each capture committed: the first after-commit hook, before the subscription worker is woken.
    commit_clock: list[float] = []
    rp.trace.after_capture_commit.insert(0, lambda: commit_clock.append(time.time()))
    worker = DeliveryWorker(args, rp, say, database_url)
    down_after = len(documents) // 3 if args.down_receiver else -1
    commits: list[tuple[float, list[str]]] = []
    nothing_ids: list[str] = []
    events = 0
    log(f"pass with {count} subscriptions: capturing {len(documents)} documents")
    started_wall = time.time()
    started_cpu = time.process_time()
    started = time.perf_counter()
    for k, outcome in enumerate(rp.trace.capture_many(paced(documents, steps, args.pace), actor=ACTOR)):
        if not isinstance(outcome, CaptureOutcome):
            raise SystemExit(f"capture failed: {outcome}")
        if len(outcome.event_ids) != len(steps[k]) or outcome.stored != len(steps[k]):
            raise SystemExit(f"document {k}: {outcome.stored} of {len(steps[k])} events stored")
        commits.append((commit_clock[-1], outcome.event_ids))
        nothing_ids += [i for i, step in zip(outcome.event_ids, steps[k], strict=True) if step in NOTHING_STEPS]
        events += outcome.stored
        if k == down_after:
            say(f"DOWN {args.down_seconds}")
    capture_s = time.perf_counter() - started
    capture_cpu = time.process_time() - started_cpu
    # The parsing process of capture_many has ended with it: its CPU is this process's children's so far.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    parser_cpu = children.ru_utime + children.ru_stime
    captured_wall = time.time()
    log(f"  captured {events:,} events in {capture_s:.2f}s ({events / capture_s:,.0f}/s); delivering")
    say("CAPTURED " + orjson.dumps({
        "subscriptions": subscriptions, "events": events, "capture_s": capture_s, "capture_cpu_s": capture_cpu,
        "parser_cpu_s": parser_cpu,
        "started": started_wall,
        "captured": captured_wall, "commits": commits, "nothing_ids": nothing_ids,
    }).decode())
    sys.stdin.readline()  # the parent has seen every delivery it waits for (or gave up)
    outbox_left = None
    try:  # what the worker still holds once it has settled (the non-matching subscriptions' ranges)
        settle = time.perf_counter() + 10
        while outbox_left != 0 and time.perf_counter() < settle:
            if outbox_left is not None:
                time.sleep(0.05)
            with rp.uow.read() as conn:
                outbox_left = int(conn.execute(text("SELECT COUNT(*) FROM outbox")).scalar_one())
    except Exception as exc:  # a figure, not a check: the schema may have moved on
        log(f"  outbox not counted: {exc}")
    attempts = worker.stop()
    rp.close()
    say("RESULT " + orjson.dumps({
        "attempts": attempts["sent"], "failed_attempts": attempts["failed"], "outbox_left": outbox_left,
        "worker_cpu_s": attempts["cpu_s"],
        "cpu_s": time.process_time() - started_cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }).decode())


def counting(webhook: Any, first_receiver: str, say: Callable[[str], None]) -> dict[str, int]:
    """Count the worker's POSTs (and their failures) on ``webhook``; a refusal by receiver 0 is reported."""
    attempts = {"sent": 0, "failed": 0}
    post: Callable[..., int] = webhook.post

    def counted_post(url: str, body: bytes, headers: Any) -> int:
        attempts["sent"] += 1
        status = 0
        try:
            status = post(url, body, headers)
        finally:
            if not 200 <= status < 300:
                attempts["failed"] += 1
                if url.startswith(first_receiver):
                    say("REFUSED")  # the parent keeps receiver 0 down until it has refused a few attempts
        return status

    webhook.post = counted_post
    return attempts


class DeliveryWorker:
    """The pass's subscription worker: a thread of the capturing process (``--delivery thread``) or, as
    ``roadpass serve`` runs it by default, a process of its own (``--delivery process``: this script with
    ``--delivery-worker``, which runs ``SubscriptionService.serve_forever`` as ``roadpass subscriptions worker``
    does, with its POSTs counted)."""

    def __init__(self, args: argparse.Namespace, rp: Any, say: Callable[[str], None], database_url: str) -> None:
        first_receiver = f"http://127.0.0.1:{args.ports.split(',')[0]}/"
        self.rp = rp
        self.child: subprocess.Popen[bytes] | None = None
        self.attempts: dict[str, Any] = {"sent": 0, "failed": 0, "cpu_s": 0.0}
        if args.delivery == "thread":
            self.counted = counting(rp.subscriptions.webhook, first_receiver, say)
            rp.subscriptions.start()
            return
        self.child = subprocess.Popen(
            [sys.executable, __file__, "--delivery-worker", database_url, "--ports", args.ports],
            stdout=subprocess.PIPE)
        self.ready = threading.Event()
        self.relay = threading.Thread(target=self._relay, args=(say,), daemon=True)
        self.relay.start()
        if not self.ready.wait(60):  # a server's worker is up before captures arrive
            raise SystemExit("the delivery worker process did not start")

    def _relay(self, say: Callable[[str], None]) -> None:
        assert self.child is not None and self.child.stdout is not None
        for raw in self.child.stdout:
            line = raw.decode().strip()
            if line == "REFUSED":
                say(line)
            elif line == "READY":
                self.ready.set()
            elif line.startswith("ATTEMPTS "):
                self.attempts = orjson.loads(line.split(" ", 1)[1])

    def stop(self) -> dict[str, Any]:
        """Stop the worker; its POSTs (sent, failed) and, for a process, its CPU seconds."""
        if self.child is None:
            self.rp.subscriptions.close()
            return {**self.counted, "cpu_s": 0.0}
        self.child.terminate()
        self.child.wait(timeout=30)
        self.relay.join(timeout=5)
        return self.attempts


def run_delivery_worker(args: argparse.Namespace) -> None:
    """``--delivery-worker URL``: deliver the pass's subscriptions from a process of its own until SIGTERM, then
    print ``ATTEMPTS {...}``."""
    import signal

    from roadpass.bootstrap import bootstrap
    from roadpass.settings import Settings

    rp = bootstrap(Settings(database_url=args.delivery_worker, environment="test"), migrate=False)
    lock = threading.Lock()

    def say(line: str) -> None:
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    attempts = counting(rp.subscriptions.webhook, f"http://127.0.0.1:{args.ports.split(',')[0]}/", say)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: rp.subscriptions.close())
    started_cpu = time.process_time()
    say("READY")
    rp.subscriptions.serve_forever()
    say("ATTEMPTS " + orjson.dumps({**attempts, "cpu_s": time.process_time() - started_cpu}).decode())
    rp.close()


# --- the parent: passes, receivers, figures ----------------------------------------------------------


def complete(run: dict[str, Any], receipts: Receipts) -> bool:
    """True once every matching subscription has received every event the pass captured."""
    wanted = sum(len(ids) for _at, ids in run["commits"])
    with receipts.lock:
        return all(len(receipts.first.get(sub["path"], ())) >= wanted
                   for sub in run["subscriptions"] if sub["matching"])


def one_pass(args: argparse.Namespace, count: int, tag: int, receivers: list[Receiver], receipts: Receipts,
             down_receiver: bool) -> dict[str, Any]:
    """Run one pass in a child process, serving its webhooks meanwhile, until every matching event has
    reached every matching subscription (or ``--drain-timeout`` after the capture); what the pass reported,
    whether delivery completed, and when the downed receiver went down and came back."""
    command = [sys.executable, __file__, "--pass-subscriptions", str(count), "--tag", str(tag), "--ports",
               ",".join(str(r.port) for r in receivers), "--vehicles", str(args.vehicles), "--seed",
               str(args.seed), "--down-seconds", str(args.down_seconds), "--pace", str(args.pace),
               "--delivery", args.delivery]
    if down_receiver:
        command.append("--down-receiver")
    receivers_cpu = time.process_time()
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdin is not None and child.stdout is not None
    run: dict[str, Any] | None = None
    down: dict[str, float] = {"refused": 0}
    timers: list[threading.Thread] = []

    def back_up(seconds: float) -> None:
        # Down for ``seconds`` and until the worker has been refused --down-refusals times (so that the
        # failure, backoff and retry path really runs), but never more than a minute.
        until = time.perf_counter() + seconds
        cap = time.perf_counter() + max(seconds, 60.0)
        while time.perf_counter() < cap and (
                time.perf_counter() < until or down["refused"] < args.down_refusals):
            time.sleep(0.01)
        receivers[0].up(args.down_mode)
        down["up"] = time.time()
        log(f"  receiver 0 is back on port {receivers[0].port} after {down['up'] - down['down']:.1f}s, "
            f"{down['refused']:g} attempts refused")

    reports: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()

    def read_reports() -> None:  # control lines are acted on at once, even while the main thread waits
        assert child.stdout is not None
        for raw in child.stdout:
            line = raw.decode().rstrip("\n")
            if line.startswith("DOWN "):
                receivers[0].down(args.down_mode)
                down["down"] = time.time()
                log(f"  receiver 0 down ({args.down_mode}) for {args.down_seconds:g}s or more")
                timer = threading.Thread(target=back_up, args=(float(line.split()[1]),), daemon=True)
                timer.start()
                timers.append(timer)
            elif line == "REFUSED":
                down["refused"] += 1
            elif line.startswith(("CAPTURED ", "RESULT ")):
                kind, _, payload = line.partition(" ")
                reports.put((kind, orjson.loads(payload)))
        reports.put(None)

    reader = threading.Thread(target=read_reports, daemon=True)
    reader.start()
    captured = reports.get()
    if captured is not None:
        run = captured[1]
        deadline = time.perf_counter() + args.drain_timeout
        while not (done := complete(run, receipts)) and time.perf_counter() < deadline:
            time.sleep(0.02)
        for timer in timers:
            timer.join()
        run["drained"] = done or complete(run, receipts)
        if not run["drained"]:
            log(f"  not every event delivered {args.drain_timeout:.0f}s after the capture")
        child.stdin.write(b"STOP\n")
        child.stdin.flush()
        result = reports.get()
        if result is not None:
            run.update(result[1])
    reader.join()
    if child.wait() != 0 or run is None or "attempts" not in run:
        raise SystemExit(f"the pass with {count} subscriptions failed (exit {child.returncode})")
    run["down"] = down
    run["receivers_cpu_s"] = time.process_time() - receivers_cpu
    return run


def figures(run: dict[str, Any], receipts: Receipts) -> dict[str, Any]:
    """Latency samples, throughput and completeness of one pass from its report and what the webhooks
    received."""
    committed: dict[str, float] = {}
    for at, ids in run["commits"]:
        for event_id in ids:
            committed[event_id] = at
    nothing = set(run["nothing_ids"])
    expected_matching = set(committed)
    latencies: list[float] = []
    down_latencies: list[float] = []
    lost = duplicates = unexpected = 0
    down_last = 0.0
    paths = set()
    for sub in run["subscriptions"]:
        path = sub["path"]
        paths.add(path)
        first = receipts.first.get(path, {})
        expected = expected_matching if sub["matching"] else nothing
        lost += len(expected - first.keys())
        unexpected += len(first.keys() - expected)
        duplicates += receipts.copies.get(path, 0) - len(first)
        was_down = "down" in run["down"] and sub["receiver"] == 0
        into = down_latencies if was_down else latencies
        for event_id, at in first.items():
            if event_id in committed:
                into.append(at - committed[event_id])
                if was_down:
                    down_last = max(down_last, at)
    requests = [(at, n) for at, path, n in receipts.requests if path in paths]
    last = max((at for at, _n in requests), default=run["captured"])
    out = {
        "events": run["events"],
        "capture_events_per_s": run["events"] / run["capture_s"],
        # CPU per 1,000 captured events in the capturing process while it captured (capture and the
        # subscription worker's thread; the parsing child is not counted): a figure a busy machine moves less
        # than wall-clock rates.
        "capture_cpu_ms_per_1000_events": run["capture_cpu_s"] * 1e6 / run["events"],
        "pass_cpu_s": run["cpu_s"],
        "worker_cpu_s": run.get("worker_cpu_s", 0.0),
        "parser_cpu_s": run["parser_cpu_s"],
        "capture_s": run["capture_s"],
        "receivers_cpu_s": run["receivers_cpu_s"],
        "latencies": latencies,
        "down_latencies": down_latencies,
        "deliveries": len(requests),
        "delivered_events": sum(n for _at, n in requests),
        "window_s": max(last, run["captured"]) - run["started"],
        "drain_after_capture_s": max(0.0, last - run["captured"]) if requests else 0.0,
        "lost": lost,
        "duplicates": duplicates,
        "unexpected": unexpected,
        "attempts": run["attempts"],
        "failed_attempts": run["failed_attempts"],
        "drained": run["drained"],
        "outbox_left": run["outbox_left"] or 0,
        "peak_rss_mb": run["peak_rss_mb"],
    }
    if run["down"].get("up"):
        out["down_receiver_down_s"] = run["down"]["up"] - run["down"]["down"]
        out["down_receiver_refused_attempts"] = int(run["down"]["refused"])
        if down_last:
            out["down_receiver_caught_up_s"] = max(0.0, down_last - run["down"]["up"])
    return out


def pooled(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one subscription count over its repeats: the best capture rate (the least disturbed by
    whatever else the machine ran), latency percentiles over every sample, sums of the counts."""
    latencies = [x for p in passes for x in p["latencies"]]
    down = [x for p in passes for x in p["down_latencies"]]
    window = sum(p["window_s"] for p in passes)
    out = {
        "capture_events_per_s": max(p["capture_events_per_s"] for p in passes),
        "capture_events_per_s_runs": [round(p["capture_events_per_s"]) for p in passes],
        "capture_cpu_ms_per_1000_events": min(p["capture_cpu_ms_per_1000_events"] for p in passes),
        "pass_cpu_s": min(p["pass_cpu_s"] for p in passes),
        "receivers_cpu_s": min(p["receivers_cpu_s"] for p in passes),
        "worker_cpu_s": min(p["worker_cpu_s"] for p in passes),
        "parser_cpu_s": min(p["parser_cpu_s"] for p in passes),
        "capture_s": min(p["capture_s"] for p in passes),
        "latency_p50_ms": pct_ms(latencies, 0.50),
        "latency_p99_ms": pct_ms(latencies, 0.99),
        "latency_max_ms": pct_ms(latencies, 1.0),
        "deliveries": sum(p["deliveries"] for p in passes),
        "deliveries_per_s": sum(p["deliveries"] for p in passes) / window if window else 0.0,
        "delivered_events_per_s": sum(p["delivered_events"] for p in passes) / window if window else 0.0,
        "drain_after_capture_s": max(p["drain_after_capture_s"] for p in passes),
        "drained": all(p["drained"] for p in passes),
        "peak_rss_mb": max(p["peak_rss_mb"] for p in passes),
    }
    for key in ("lost", "duplicates", "unexpected", "failed_attempts", "outbox_left"):
        out[key] = sum(p[key] for p in passes)
    if down:
        out["down_receiver_latency_p50_ms"] = pct_ms(down, 0.50)
        out["down_receiver_latency_max_ms"] = pct_ms(down, 1.0)
    caught_up = [p["down_receiver_caught_up_s"] for p in passes if "down_receiver_caught_up_s" in p]
    if caught_up:
        out["down_receiver_caught_up_s"] = round(max(caught_up), 2)
    was_down = [p for p in passes if "down_receiver_down_s" in p]
    if was_down:
        out["down_receiver_down_s"] = round(max(p["down_receiver_down_s"] for p in was_down), 2)
        out["down_receiver_refused_attempts"] = sum(p["down_receiver_refused_attempts"] for p in was_down)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--subscriptions", default="0,10,100", help="subscription counts, one pass each")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the passes this many times, interleaved; capture rates are the best of them")
    parser.add_argument("--pace", type=float, default=0.0,
                        help="capture at most this many events/s (0: as fast as it goes, the default); the "
                             "capture ratio is then meaningless, latency is that of a steady load")
    parser.add_argument("--receivers", type=int, default=10, help="webhook servers (subscription i → i mod n)")
    parser.add_argument("--down-seconds", type=float, default=3.0, help="how long receiver 0 is down (0: never)")
    parser.add_argument("--down-refusals", type=int, default=3,
                        help="receiver 0 stays down until the worker has failed this many attempts on it")
    parser.add_argument("--down-mode", choices=["refuse", "503"], default="refuse",
                        help="refuse: stop listening; 503: answer 503 Service Unavailable")
    parser.add_argument("--drain-timeout", type=float, default=120.0,
                        help="most seconds after a pass's capture to wait for its deliveries")
    parser.add_argument("--delivery", choices=["process", "thread"], default="process",
                        help="the subscription worker: a process of its own (as roadpass serve runs it) or a "
                        "thread of the capturing process")
    parser.add_argument("--pass-subscriptions", type=int, help=argparse.SUPPRESS)  # a pass's child process
    parser.add_argument("--delivery-worker", help=argparse.SUPPRESS)  # a pass's delivery process
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    parser.add_argument("--tag", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--down-receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.delivery_worker is not None:
        run_delivery_worker(args)
        return
    if args.pass_subscriptions is not None:
        run_pass(args)
        return

    counts = [int(c) for c in args.subscriptions.split(",")]
    if counts[0] != 0:
        raise SystemExit("--subscriptions starts with 0: the pass without subscriptions is the baseline")
    top = max(counts)
    receipts = Receipts()
    receivers = [Receiver(receipts) for _ in range(args.receivers)]
    load_before = os.getloadavg()[0]
    log(f"roadpass subscription benchmark: {args.vehicles:,} vehicles, {counts} stream subscriptions, "
        f"{len(receivers)} webhook receivers on 127.0.0.1, {os.cpu_count()} CPUs, load {load_before:.2f}")
    passes: dict[int, list[dict[str, Any]]] = {count: [] for count in counts}
    try:
        for tag in range(args.repeat):
            for count in counts:
                down = count == top and count > 0 and args.down_seconds > 0
                got = figures(one_pass(args, count, tag, receivers, receipts, down), receipts)
                passes[count].append(got)
                log(f"  {count} subscriptions: {got['capture_events_per_s']:,.0f} events/s captured; latency p50 "
                    f"{pct_ms(got['latencies'], 0.5)} ms, p99 {pct_ms(got['latencies'], 0.99)} ms; "
                    f"{got['deliveries']} deliveries, the last {got['drain_after_capture_s']:.1f}s after the "
                    f"capture; lost {got['lost']}")
    finally:
        for receiver in receivers:
            receiver.close()

    results = {count: pooled(found) for count, found in passes.items()}
    ratio = results[top]["capture_events_per_s"] / results[0]["capture_events_per_s"]
    headline = results[top] if top else {}
    lost = sum(r["lost"] for r in results.values())
    out: dict[str, Any] = {
        "database": "sqlite",
        "vehicles": args.vehicles,
        "delivery": args.delivery,
        "events": passes[0][0]["events"],
        "subscriptions": counts,
        "receivers": len(receivers),
        "repeat": args.repeat,
        "pace_events_per_s": args.pace,
        "cpus": os.cpu_count(),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }
    for count in counts:
        out[f"capture_events_per_s_{count}"] = round(results[count]["capture_events_per_s"])
    out[f"capture_ratio_{top}_to_0"] = round(ratio, 3)
    for count in counts:
        out[f"capture_cpu_ms_per_1000_events_{count}"] = round(results[count]["capture_cpu_ms_per_1000_events"])
    for count in counts:
        out[f"pass_cpu_s_{count}"] = round(results[count]["pass_cpu_s"], 1)
        out[f"receivers_cpu_s_{count}"] = round(results[count]["receivers_cpu_s"], 1)
        out[f"worker_cpu_s_{count}"] = round(results[count]["worker_cpu_s"], 1)
        out[f"parser_cpu_s_{count}"] = round(results[count]["parser_cpu_s"], 1)
        out[f"capture_s_{count}"] = round(results[count]["capture_s"], 2)
    out["delivery_latency_p50_ms"] = headline.get("latency_p50_ms")
    out["delivery_latency_p99_ms"] = headline.get("latency_p99_ms")
    out["deliveries_per_s"] = round(headline.get("deliveries_per_s", 0.0), 1)
    out["delivered_events_per_s"] = round(headline.get("delivered_events_per_s", 0.0))
    for count in counts[1:]:
        got = results[count]
        out[f"latency_p50_ms_{count}"] = got["latency_p50_ms"]
        out[f"latency_p99_ms_{count}"] = got["latency_p99_ms"]
        out[f"latency_max_ms_{count}"] = got["latency_max_ms"]
        out[f"deliveries_per_s_{count}"] = round(got["deliveries_per_s"], 1)
        out[f"last_delivery_after_capture_s_{count}"] = round(got["drain_after_capture_s"], 2)
    if args.repeat > 1:
        out["capture_events_per_s_runs"] = {str(c): results[c]["capture_events_per_s_runs"] for c in counts}
    out["receiver_down_mode"] = args.down_mode
    for key in ("down_receiver_down_s", "down_receiver_refused_attempts", "down_receiver_latency_p50_ms",
                "down_receiver_latency_max_ms", "down_receiver_caught_up_s"):
        if key in headline:
            out[key] = headline[key]
    for key in ("failed_attempts", "duplicates", "unexpected", "outbox_left"):
        out[key] = sum(r[key] for r in results.values())
    out["lost"] = lost
    out["bad_receipts"] = receipts.bad
    out["drained"] = all(r["drained"] for r in results.values())
    p99 = headline.get("latency_p99_ms")
    out["target_ratio_met"] = ratio >= TARGET_RATIO
    out["target_p99_met"] = p99 is not None and p99 < TARGET_P99_MS
    out["peak_rss_mb"] = round(max(r["peak_rss_mb"] for r in results.values()))
    log(f"lost: {lost}")
    print(orjson.dumps(out).decode(), flush=True)


if __name__ == "__main__":
    main()
