"""Traceability benchmark: capture throughput, genealogy latency and memory on a generated fleet.

Prints progress to stderr and one final JSON line to stdout. Baselines are measured in the same run:
the reference CBV 2.0 hash implementation (``epcis-event-hash-generator``) on the same events, and a plain
``executemany`` of the same event rows into the same engine, and the storage floor: every row capture
wrote (events, identifiers by role, units, links) written again through plain ``executemany`` into an empty
database of the same schema, one transaction for each one capture committed (several documents: see
``TraceService.capture_many``), with nothing else done: no parsing, hashing, look-ups or row building. The
floor's database grows as capture's did; no capture path on this schema and engine can be faster than that
floor. The sample floor writes only every k-th of those transactions (about ``--floor-events`` events) into
a database that stays small, as this benchmark's floor did before: it is the more optimistic of the two.
The storing process's time during capture is split by phase (``storing_us_per_event``, see
:class:`StoringSplit`).

    python bench/trace_bench.py --vehicles 20000
    python bench/trace_bench.py --vehicles 20000 --db postgresql://user@host/db
    python bench/trace_bench.py --vehicles 20000 --postgres     # a throw-away local cluster
    python bench/trace_bench.py --vehicles 20000 --both         # SQLite, then PostgreSQL, one JSON line

Capture is also timed with ``--writers`` (default 2) concurrent writer processes loading the same fleet into
an empty database beside the benchmark's own.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psutil
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.demo.fleet import FleetSpec, fleet_parties, generate_fleet
from roadpass.settings import Settings
from roadpass.store.bulk import bulk_insert, insert_new_keys, observe_copies
from roadpass.store.engine import is_postgresql
from roadpass.store.parties import upsert_party
from roadpass.trace.capture_plan import EVENT_COLUMNS, CaptureOutcome


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def p50(samples: list[float]) -> float:
    return round(statistics.median(samples), 3) if samples else float("nan")


def write_fleet(spec: FleetSpec, path: Path, sample: list[dict[str, Any]]) -> int:
    """Generate the fleet as EPCIS documents, one JSON body per line (the files a bulk load reads)."""
    documents = 0
    with path.open("wb") as out:
        for document in generate_fleet(spec):
            if len(sample) < 5000:
                context = document["@context"]
                events = document["epcisBody"]["eventList"][: 5000 - len(sample)]
                sample.extend({"@context": context, **e} for e in events)
            out.write(orjson.dumps(document))
            out.write(b"\n")
            documents += 1
    return documents


# Where the storing process's time goes during capture: each method of the trace records and each rule of
# capture_plan the capture service calls, timed where it is called (no call nests in another of these).
_STORING_PHASES = {
    "reads": ("master_data_versions", "stored_event_ids", "known_hashes", "children_at", "containment_state",
              "declaration_facts", "child_steps", "location_countries", "market_times", "latest_markets"),
    "units": ("intern_units",),
    "writes": ("lock_writer", "open_job", "finish_job", "insert_master_data", "insert_events", "close_links",
               "insert_links", "insert_declarations", "unlink_made_from", "replace_containment", "set_markets"),
    "ledger": ("append_ledger",),
}


class StoringSplit:
    """Wall time of the storing process by phase while installed (see :data:`_STORING_PHASES`):

    * ``parse_wait``: waiting for the parse worker's next document and receiving it (unpickling its answer);
    * ``reads``: the stored facts the rules need; ``units``: interning identifiers (cache, then database);
    * ``planning``: the capture rules, building the rows they write included (``trace/capture_plan.py``);
    * ``writes``: the rows written (events, identifiers by role, links, markets, jobs, master data);
    * ``ledger``: the ledger entry (content hash of the rows, then the chain);
    * ``commit``: the transaction's commit; ``other``: the rest (savepoints, service glue)."""

    def __init__(self) -> None:
        self.spent = dict.fromkeys(("parse_wait", "reads", "units", "planning", "writes", "ledger", "commit"), 0.0)
        self._undo: list[tuple[Any, str, Any]] = []

    def _wrap(self, owner: Any, name: str, phase: str) -> None:
        original = getattr(owner, name)
        spent = self.spent

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - started

        self._undo.append((owner, name, original))
        setattr(owner, name, timed_call)

    def install(self) -> None:
        from contextlib import contextmanager

        from roadpass.store.trace_records import SqlTraceRecords, SqlTraceStore
        from roadpass.trace import capture_plan
        from roadpass.trace.service import TraceService

        for phase, names in _STORING_PHASES.items():
            for name in names:
                self._wrap(SqlTraceRecords, name, phase)
        for name in dir(capture_plan):
            if name.startswith(("plan_", "triage", "stored_units", "emptying_deletes", "market_locations",
                                "newer_markets", "capture_ledger")) and callable(getattr(capture_plan, name)):
                self._wrap(capture_plan, name, "planning")
        spent, parsed, write = self.spent, TraceService._parsed, SqlTraceStore.write

        def timed_parsed(service: Any, bodies: Any, parallel: bool) -> Iterator[Any]:
            items = parsed(service, bodies, parallel)
            while True:
                started = time.perf_counter()
                item = next(items, None)
                spent["parse_wait"] += time.perf_counter() - started
                if item is None:
                    return
                yield item

        @contextmanager
        def timed_write(store: Any) -> Iterator[Any]:
            context = write(store)
            records = context.__enter__()
            try:
                yield records
            except BaseException:
                if not context.__exit__(*sys.exc_info()):
                    raise
            else:
                started = time.perf_counter()
                context.__exit__(None, None, None)
                spent["commit"] += time.perf_counter() - started

        self._undo += [(TraceService, "_parsed", parsed), (SqlTraceStore, "write", write)]
        TraceService._parsed = timed_parsed  # type: ignore[method-assign,assignment]
        SqlTraceStore.write = timed_write  # type: ignore[method-assign,assignment]

    def remove(self) -> None:
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo = []

    def per_event_us(self, total_s: float, events: int) -> dict[str, float]:
        """Microseconds per stored event by phase, ``other`` the remainder of ``total_s``."""
        split = {name: round(value * 1e6 / events, 1) for name, value in self.spent.items()}
        split["other"] = round((total_s - sum(self.spent.values())) * 1e6 / events, 1)
        return split


def _server_root(app: Roadpass) -> psutil.Process | None:
    """The PostgreSQL postmaster behind ``app`` when it runs on this machine and its data folder can be read
    (the benchmark's own cluster); else None (SQLite, or a server elsewhere)."""
    if not is_postgresql(app.engine):
        return None
    try:
        with app.uow.read() as conn:
            folder = conn.execute(text("SHOW data_directory")).scalar_one()
        return psutil.Process(int((Path(folder) / "postmaster.pid").read_text().split()[0]))
    except (SQLAlchemyError, OSError, ValueError, IndexError, psutil.Error):
        return None


def server_cpu_s(postmaster: psutil.Process | None) -> float:
    """CPU seconds spent by a PostgreSQL server so far (0 without one): the postmaster with its exited
    children and every live child (backends, WAL writer, checkpointer, autovacuum)."""
    if postmaster is None:
        return 0.0
    spent = postmaster.cpu_times()
    total = spent.user + spent.system + spent.children_user + spent.children_system
    for child in postmaster.children():
        try:
            mine = child.cpu_times()
        except psutil.NoSuchProcess:
            continue  # ended meanwhile: counted in the postmaster's children times
        total += mine.user + mine.system
    return total


def capture_fleet(app: Roadpass, spec: FleetSpec, path: Path) -> tuple[int, float, int]:
    """Capture the documents through the bulk capture path (validation, hash IDs, storage, genealogy,
    ledger); timed from the first body read to the last commit."""
    with app.uow.write() as conn:
        for party in fleet_parties(spec):
            upsert_party(conn, actor="bench", key=party.key, name=party.name, role=party.role,
                         country=party.country, gcp=party.company_prefix)
    events = 0
    documents = 0
    started = time.perf_counter()
    next_report = started + 15
    with path.open("rb") as bodies:
        for outcome in app.trace.capture_many(bodies, actor="bench"):
            if not isinstance(outcome, CaptureOutcome):
                raise SystemExit(f"capture failed: {outcome}")
            events += outcome.stored
            documents += 1
            if time.perf_counter() > next_report:
                spent = time.perf_counter() - started
                rate = events / spent
                log(f"  captured {events:,} events in {spent:.0f}s ({rate:,.0f}/s), rss {peak_rss_mb():.0f} MB")
                next_report = time.perf_counter() + 15
    return events, time.perf_counter() - started, documents


def reference_hash_rate(sample: list[dict[str, Any]]) -> float:
    """The reference implementation hashing the same events (it takes a JSON-LD document)."""
    from epcis_event_hash_generator import hash_generator

    subset = sample[:2000]
    document = {
        "@context": subset[0]["@context"], "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2025-01-01T00:00:00Z",
        "epcisBody": {"eventList": [{k: v for k, v in e.items() if k != "@context"} for e in subset]},
    }
    from epcis_event_hash_generator import json_to_py

    started = time.perf_counter()
    events = json_to_py.event_list_from_epcis_document_str(orjson.dumps(document).decode())
    hash_generator.epcis_hashes_from_events(events)
    return len(subset) / (time.perf_counter() - started)


def baseline_insert_rate(app: Roadpass, sample: list[dict[str, Any]]) -> float:
    """Plain executemany of event-shaped rows into a scratch table on the same engine: the floor."""
    rows = [
        (i, f"ni:///sha-256;{i:064x}?ver=CBV2.0", e.get("type"), i, i, e.get("action"), e.get("bizStep"),
         orjson.dumps(e).decode())
        for i, e in enumerate(sample * max(1, 20000 // max(1, len(sample))))
    ]
    mark = "?" if app.engine.dialect.paramstyle == "qmark" else "%s"
    with app.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_floor")
        conn.exec_driver_sql(
            "CREATE TABLE bench_floor (id BIGINT PRIMARY KEY, hash_id VARCHAR(120), event_type VARCHAR(40), "
            "event_time BIGINT, record_time BIGINT, action VARCHAR(8), biz_step VARCHAR(200), doc TEXT)"
        )
    started = time.perf_counter()
    with app.engine.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO bench_floor VALUES ({', '.join([mark] * 8)})", rows)
    rate = len(rows) / (time.perf_counter() - started)
    with app.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_floor")
    return rate


class WriteRecorder:
    """Keeps the writes (INSERT, UPDATE, DELETE, sequence blocks, with their parameters) of every capture transaction,
    pickled to ``folder`` as each commits, for :func:`replay_writes` to write again.

    Only references are held until commit. Pickling a transaction's writes is timed (:attr:`spent`) and
    taken out of the capture's time: capture without the benchmark does not pay it."""

    def __init__(self, engine: Any, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.spent = 0.0
        self.documents = 0
        self.files: list[Path] = []
        self.pending: list[tuple[str, Any, bool]] = []
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", self._rollback)
        event.listen(engine, "savepoint", self._savepoint)
        event.listen(engine, "rollback_savepoint", self._rollback_savepoint)
        observe_copies(self._copied)
        self.marks: dict[str, int] = {}

    def _statement(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        if "FROM stage_" in statement:
            return  # the staged rows were recorded as plain inserts into their table (see _copied)
        # A block of a sequence taken for rows copied with their ids (PostgreSQL units) is a write as well:
        # without it the replay's sequence would hand out those ids again.
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE") or "SELECT setval(" in statement:
            self.pending.append((statement, parameters, many))

    def _copied(self, table: str, columns: Any, rows: list[Any]) -> None:
        """Rows PostgreSQL capture sent by COPY: replayed by COPY too (the bulk path is part of the floor on
        PostgreSQL, where a row-by-row INSERT costs a round trip of its own)."""
        self.pending.append((f"{_COPY} {table} ({', '.join(columns)})", rows, True))

    def _commit(self, _conn: Any) -> None:
        writes, self.pending = self.pending, []
        if not any(s.startswith(_EVENT_ROWS) for s, _p, _m in writes):
            return  # not a capture (party set-up, statistics)
        started = time.perf_counter()
        self.documents += 1
        path = self.folder / f"writes-{self.documents:06d}.pickle"
        path.write_bytes(pickle.dumps(writes, protocol=pickle.HIGHEST_PROTOCOL))
        self.files.append(path)
        self.spent += time.perf_counter() - started

    def _rollback(self, _conn: Any) -> None:
        self.pending = []

    def _savepoint(self, _conn: Any, name: str) -> None:
        self.marks[name] = len(self.pending)

    def _rollback_savepoint(self, _conn: Any, name: str, _context: Any) -> None:
        del self.pending[self.marks.pop(name, 0):]  # a document refused inside a bulk load's transaction

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "rollback", self._rollback)
        event.remove(self.engine, "savepoint", self._savepoint)
        event.remove(self.engine, "rollback_savepoint", self._rollback_savepoint)
        observe_copies(self._copied, stop=True)


def _floor_database(url: str, create: bool) -> str | None:
    """Create (or drop) the empty PostgreSQL database beside the benchmark's own; its URL when created."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_floor"
    admin = create_engine(parsed.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except SQLAlchemyError as exc:  # e.g. a role without CREATEDB: report no floor and say why
        log(f"storage floor: cannot {'create' if create else 'drop'} database {name}: {exc}")
        return None
    finally:
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def storage_floor(url: str, workdir: Path, files: list[Path]) -> float | None:
    """The storage floor in events/s on an empty database beside the benchmark's own, removed afterwards
    (None when no such database can be made)."""
    if url.startswith("sqlite"):
        target: str | None = f"sqlite:///{workdir / 'floor.sqlite3'}"
    else:
        target = _floor_database(url, create=True)
    if target is None:
        return None
    try:
        rate, events = storage_floor_rate(target, files)
    finally:
        if url.startswith("sqlite"):
            for leftover in workdir.glob("floor.sqlite3*"):
                leftover.unlink()
        else:
            _floor_database(url, create=False)
    log(f"storage floor: the writes of {events:,} events replayed statement for statement: {rate:,.0f} events/s")
    return rate


_EVENT_JOB_COLUMN = EVENT_COLUMNS.index("job_id")


def _with_id(parameters: Any, job: int) -> Any:
    if isinstance(parameters, dict):
        return {"id": job, **parameters}
    return (job, *parameters)


def _job_ids(writes: list[tuple[str, Any, bool]]) -> Iterator[int]:
    """The id of each job a recorded transaction opens, in order: the job of the event rows that follow it (a
    bulk load's transaction holds several documents, each opening its job before writing its events)."""
    for at, (statement, _parameters, _many) in enumerate(writes):
        if statement.startswith("INSERT INTO capture_job"):
            following = (p for s, p, many in writes[at + 1:] if many and s.startswith(_EVENT_ROWS))
            yield next(following)[0][_EVENT_JOB_COLUMN]


_COPY = "-- COPY"
#: How a recorded transaction's event rows start: an INSERT, or (PostgreSQL) rows sent by COPY.
_EVENT_ROWS = ("INSERT INTO epcis_event", f"{_COPY} epcis_event ")


def _replay(conn: Any, statement: str, parameters: Any) -> None:
    """One recorded write: a statement with its parameters, or rows capture sent by COPY (PostgreSQL): into
    their table by COPY, or, for the staged keys of new units, through the same statement capture used."""
    if not statement.startswith(_COPY):
        conn.exec_driver_sql(statement, parameters)
        return
    table, listed = statement.removeprefix(_COPY).strip().split(" ", 1)
    columns = listed.strip("()").split(", ")
    if table.startswith("stage_"):
        insert_new_keys(conn, table.removeprefix("stage_"), columns[1:], {row[0]: row[1:] for row in parameters})
    else:
        bulk_insert(conn, table, columns, parameters)


def replay_writes(url: str, files: list[Path]) -> tuple[float, int]:
    """Events/s of writing the recorded transactions again, statement for statement, into an empty
    database of the same schema, one transaction each: no parsing, hashing, look-ups or row building.

    The ceiling for any capture path on this schema and engine (given every transaction; given a sample,
    the database stays smaller than capture's and the ceiling more optimistic). Runs in a process of its own
    (see :func:`storage_floor_rate`)."""
    target = bootstrap(Settings(database_url=url, environment="test"))
    mark = "?" if target.engine.dialect.paramstyle == "qmark" else "%(id)s"
    events = 0
    spent = 0.0
    try:
        for path in files:
            writes = pickle.loads(path.read_bytes())
            rows = [p for s, p, many in writes if many and s.startswith(_EVENT_ROWS)]
            events += sum(len(p) for p in rows)
            jobs = _job_ids(writes)
            started = time.perf_counter()
            with target.uow.write() as conn:
                for statement, parameters, _many in writes:
                    if statement.startswith("INSERT INTO capture_job"):
                        # The job's id is the database's own: give the copy the id its events refer to.
                        parameters = _with_id(parameters, next(jobs))
                        statement = statement.replace("INSERT INTO capture_job (", "INSERT INTO capture_job (id, ", 1)
                        statement = statement.replace("VALUES (", f"VALUES ({mark}, ", 1)
                    _replay(conn, statement, parameters)
            spent += time.perf_counter() - started
    finally:
        target.close()
    return (events / spent if spent else float("nan")), events


def storage_floor_rate(url: str, files: list[Path]) -> tuple[float, int]:
    """:func:`replay_writes` in a child process, so that its memory stays out of this one's peak RSS."""
    done = subprocess.run([sys.executable, __file__, "--replay-writes", url, *map(str, files)], capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"the storage floor's replay failed: {done.stderr.decode()[-3000:]}")
    answer = orjson.loads(done.stdout)
    return float(answer["events_per_s"]), int(answer["events"])


def _side_database(url: str, workdir: Path, name: str, create: bool) -> str | None:
    """An empty database beside the benchmark's own (a SQLite file in ``workdir``, or a PostgreSQL database)."""
    if url.startswith("sqlite"):
        return f"sqlite:///{workdir / f'{name}.sqlite3'}" if create else None
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = f"{parsed.database}_{name}"
    admin = create_engine(parsed.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}"'))
            if create:
                conn.execute(text(f'CREATE DATABASE "{database}"'))
    except SQLAlchemyError as exc:
        log(f"{name}: cannot {'create' if create else 'drop'} database {database}: {exc}")
        return None
    finally:
        admin.dispose()
    return parsed.set(database=database).render_as_string(hide_password=False)


def concurrent_capture(url: str, spec: FleetSpec, fleet: Path, workdir: Path, writers: int) -> float | None:
    """Events/s of ``writers`` ``roadpass capture``-like processes loading the fleet at once into an empty
    database beside the benchmark's own, document i going to writer i mod ``writers``. Timed from the
    moment every writer is ready (connected, migrated) to the last commit."""
    target = _side_database(url, workdir, f"writers{writers}", create=True)
    if target is None:
        return None
    try:
        app = bootstrap(Settings(database_url=target, environment="test"))
        with app.uow.write() as conn:
            for party in fleet_parties(spec):
                upsert_party(conn, actor="bench", key=party.key, name=party.name, role=party.role,
                             country=party.country, gcp=party.company_prefix)
        app.close()
        shares = [workdir / f"share-{i}.jsonl" for i in range(writers)]
        outs = [share.open("wb") for share in shares]
        with fleet.open("rb") as bodies:
            for i, body in enumerate(bodies):
                outs[i % writers].write(body)
        for out in outs:
            out.close()
        children = [
            subprocess.Popen([sys.executable, __file__, "--capture-share", target, str(share)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for share in shares
        ]
        for child in children:  # each says "ready" once bootstrapped
            assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        started = time.perf_counter()
        for child in children:
            assert child.stdin is not None
            child.stdin.write(b"go\n")
            child.stdin.flush()
        events = 0
        for child in children:
            out, _err = child.communicate()
            if child.returncode != 0:
                raise SystemExit(f"a concurrent writer failed ({child.returncode})")
            events += int(orjson.loads(out.splitlines()[-1])["events"])
        rate = events / (time.perf_counter() - started)
        for share in shares:
            share.unlink()
        log(f"{writers} concurrent writers: {events:,} events at {rate:,.0f} events/s")
        return rate
    finally:
        for leftover in workdir.glob(f"writers{writers}.sqlite3*"):
            leftover.unlink()
        _side_database(url, workdir, f"writers{writers}", create=False)


def capture_share(url: str, share: Path) -> int:
    """One concurrent writer (a child process): capture ``share`` once told to go; the events stored."""
    app = bootstrap(Settings(database_url=url, environment="test"))
    print("ready", flush=True)
    sys.stdin.readline()
    events = 0
    try:
        with share.open("rb") as bodies:
            for outcome in app.trace.capture_many(bodies, actor="bench"):
                if not isinstance(outcome, CaptureOutcome):
                    raise SystemExit(f"capture failed: {outcome}")
                events += outcome.stored
    finally:
        app.close()
    return events


def timed(fn: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn(*args)
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file in a temporary folder)")
    parser.add_argument("--postgres", action="store_true", help="start a throw-away local PostgreSQL cluster")
    parser.add_argument("--queries", type=int, default=200, help="samples per latency figure")
    parser.add_argument("--floor-events", type=int, default=40_000,
                        help="events in the sample the sample floor writes again (0: skip both floors)")
    parser.add_argument("--writers", type=int, default=2,
                        help="also capture the fleet with this many concurrent writer processes (0 or 1: skip)")
    parser.add_argument("--both", action="store_true",
                        help="SQLite and a throw-away local PostgreSQL cluster in one run, one JSON line for both")
    parser.add_argument("--replay-writes", nargs="+", help=argparse.SUPPRESS)  # the storage floor's child
    parser.add_argument("--capture-share", nargs=2, help=argparse.SUPPRESS)  # a concurrent writer
    args = parser.parse_args()
    if args.replay_writes:
        rate, events = replay_writes(args.replay_writes[0], [Path(f) for f in args.replay_writes[1:]])
        print(orjson.dumps({"events_per_s": rate, "events": events}).decode())
        return
    if args.capture_share:
        events = capture_share(args.capture_share[0], Path(args.capture_share[1]))
        print(orjson.dumps({"events": events}).decode())
        return

    # A stopped run still stops its cluster and removes its scratch (the finally below): SIGTERM becomes
    # SystemExit, as in bench/pg_scale_bench.py.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    scratch = None if args.db else Path(tempfile.mkdtemp(prefix="roadpass-bench-"))
    sqlite_url = args.db or f"sqlite:///{scratch}/bench.sqlite3"
    cluster = None
    if args.postgres or args.both:
        from pg import start_cluster

        cluster = start_cluster()
        from sqlalchemy import create_engine

        admin = create_engine(cluster.url("postgres").replace("postgresql://", "postgresql+psycopg://"),
                              isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bench"))
        admin.dispose()
    try:
        if args.both and cluster is not None:
            # The same fleet on both engines, one after the other in this run (same machine, same load), each
            # in a fresh process: PostgreSQL captured 2,748 events/s after SQLite in one process, 3,406 on its
            # own (likely: the heap the first run left makes the forked parse worker cost copy-on-write faults).
            lite, pg = run_apart(sqlite_url, args), run_apart(cluster.url("bench"), args)
            ratio = pg["capture_events_per_s"] / max(1, lite["capture_events_per_s"])
            result = {"sqlite": lite, "postgresql": pg, "postgresql_over_sqlite_capture": round(ratio, 2)}
        else:
            result = run(cluster.url("bench") if cluster is not None else sqlite_url, args)
        print(orjson.dumps(result).decode(), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def run_apart(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """:func:`run` in a child process of its own (``--db url``, the other options passed on); its figures."""
    command = [sys.executable, __file__, "--db", url, "--vehicles", str(args.vehicles), "--seed", str(args.seed),
               "--queries", str(args.queries), "--floor-events", str(args.floor_events), "--writers",
               str(args.writers)]
    done = subprocess.run(command, stdout=subprocess.PIPE, check=False)  # progress goes on to stderr
    if done.returncode != 0:
        raise SystemExit(f"the {url.split(':')[0]} run failed ({done.returncode})")
    answer: dict[str, Any] = orjson.loads(done.stdout.splitlines()[-1])
    return answer


def run(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """One engine's figures; its scratch folder (the fleet's documents, the floor's samples) goes either way."""
    workdir = Path(tempfile.mkdtemp(prefix="roadpass-bench-fleet-"))
    try:
        return measure(url, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Capture the fleet into ``url`` through the real path, then time the reads; the figures."""
    app = bootstrap(Settings(database_url=url, environment="test"))
    spec = FleetSpec(vehicles=args.vehicles, seed=args.seed)
    engine_name = app.engine.dialect.name
    log(f"roadpass trace benchmark: {args.vehicles:,} vehicles on {engine_name}")
    sample: list[dict[str, Any]] = []
    started = time.perf_counter()
    documents = write_fleet(spec, workdir / "fleet.jsonl", sample)
    log(f"generated the fleet's documents in {time.perf_counter() - started:.0f}s")
    # Every transaction's writes are kept for the storage floors.
    recorder = WriteRecorder(app.engine, workdir) if args.floor_events else None
    split = StoringSplit()
    split.install()
    server = _server_root(app)
    mine, server_then = os.times(), server_cpu_s(server)
    try:
        events, spent, documents = capture_fleet(app, spec, workdir / "fleet.jsonl")
    finally:
        split.remove()
    later, server_now = os.times(), server_cpu_s(server)
    if recorder is not None:  # the benchmark's own cost, paid inside the commits: not capture's
        spent -= recorder.spent
        split.spent["commit"] -= recorder.spent
    storing = split.per_event_us(spent, events)
    # Where the CPU went: the storing process (SQLite's own work runs inside it), the parse worker (a child,
    # joined when the load ends), and the PostgreSQL server's processes.
    own_s = later.user - mine.user + later.system - mine.system - (recorder.spent if recorder is not None else 0.0)
    worker_s = later.children_user - mine.children_user + later.children_system - mine.children_system
    cpu = {"storing": round(own_s * 1e6 / events, 1), "parse_worker": round(worker_s * 1e6 / events, 1)}
    if server is not None:
        cpu["server"] = round((server_now - server_then) * 1e6 / events, 1)
    log(f"CPU, µs per event: {cpu}")
    log(f"captured {events:,} events in {documents:,} documents: {events / spent:,.0f} events/s")
    log(f"storing process, µs per event: {storing}")
    floor_rate: float | None = None
    sample_rate: float | None = None
    if recorder is not None:
        recorder.stop()
        if recorder.files:
            # Every transaction written again into an empty database that grows as capture's did; then, as the
            # earlier floor did, every k-th (about --floor-events events) into one that stays small.
            floor_rate = storage_floor(url, workdir, recorder.files)
            stride = -(-events // args.floor_events)
            sample_rate = storage_floor(url, workdir, recorder.files[::stride])
        for path in recorder.files:
            path.unlink()
    writers_rate = None
    if args.writers > 1:
        writers_rate = concurrent_capture(url, spec, workdir / "fleet.jsonl", workdir, args.writers)
    (workdir / "fleet.jsonl").unlink()
    with app.uow.read() as conn:
        links = int(conn.execute(text("SELECT COUNT(*) FROM link")).scalar_one())
        vins = [r[0] for r in conn.execute(text("SELECT vin FROM unit WHERE vin IS NOT NULL"))]
        lot_key, lot_vins = conn.execute(
            text(
                "SELECT u.key, COUNT(*) FROM unit u JOIN link m ON m.child_id = u.id AND m.kind = 2 "
                "WHERE u.kind = 2 GROUP BY u.key ORDER BY COUNT(*) DESC LIMIT 1"
            )
        ).one()
        modules = [r[0] for r in conn.execute(
            text("SELECT u.key FROM unit u JOIN link m ON m.parent_id = u.id AND m.kind = 2 LIMIT 5000")
        )]
    log(f"{links:,} links; biggest lot {lot_key} feeds {lot_vins:,} modules")
    reference_rate = reference_hash_rate(sample)
    log(f"reference hash implementation: {reference_rate:,.0f} events/s")
    floor = baseline_insert_rate(app, sample)
    log(f"plain executemany floor: {floor:,.0f} rows/s")

    rng = random.Random(args.seed)
    for vin in rng.sample(vins, min(20, len(vins))):  # warm the page cache as a running server would be
        app.trace.as_built(vin)
    as_built_ms = [timed(app.trace.as_built, vin)[0] for vin in rng.choices(vins, k=args.queries)]
    # The first where-used builds the in-memory genealogy index from the link table (a one-time warm-up).
    index_build_ms, _ = timed(app.trace.where_used, lot_key)
    log(f"genealogy index built in {index_build_ms / 1000:.1f}s")
    lot_samples: list[float] = []
    lot_paged: list[float] = []
    lot_listed: list[float] = []
    lot_hits = 0
    for _ in range(max(5, args.queries // 10)):
        # The answer (hits in order, VINs, counts, roll-ups by market and supplier); the same answer with
        # its first page of 100 hits built, as the paged REST answer does; and with every hit built, as a
        # full listing does.
        elapsed, (_unit, answer) = timed(app.trace.where_used, lot_key)
        paging, _page = timed(answer.page, None, 100)
        _unit, answer = app.trace.where_used(lot_key)
        listing, hits = timed(list, answer)
        lot_samples.append(elapsed)
        lot_paged.append(elapsed + paging)
        lot_listed.append(elapsed + listing)
        lot_hits = sum(1 for h in hits if h.vin)
        assert lot_hits == answer.vehicles
    serial_ms = [timed(app.trace.where_used, key)[0] for key in rng.choices(modules, k=args.queries)]
    result = {
        "database": engine_name,
        "vehicles": args.vehicles,
        "events": events,
        "links": links,
        "capture_events_per_s": round(events / spent),
        "reference_hash_events_per_s": round(reference_rate),
        "baseline_insert_rows_per_s": round(floor),
        "storage_floor_events_per_s": round(floor_rate) if floor_rate is not None else None,
        "capture_share_of_floor": round(events / spent / floor_rate, 2) if floor_rate else None,
        "storage_floor_sample_events_per_s": round(sample_rate) if sample_rate is not None else None,
        "capture_share_of_sample_floor": round(events / spent / sample_rate, 2) if sample_rate else None,
        "storing_us_per_event": storing,
        "capture_cpu_us_per_event": cpu,
        "capture_writers": args.writers,
        "capture_writers_events_per_s": round(writers_rate) if writers_rate is not None else None,
        "as_built_p50_ms": p50(as_built_ms),
        "where_used_lot_p50_ms": p50(lot_samples),
        "where_used_lot_vins": lot_hits,
        "where_used_lot_first_page_p50_ms": p50(lot_paged),
        "where_used_lot_listed_p50_ms": p50(lot_listed),
        "where_used_serial_p50_ms": p50(serial_ms),
        "genealogy_index_build_s": round(index_build_ms / 1000, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }
    app.close()
    return result


if __name__ == "__main__":
    main()
