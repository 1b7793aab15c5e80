"""The passport benchmark's warm-up reads every path in EVERY worker process of a server, so per-process caches
are warm before the rounds: checked against a two-worker uvicorn whose workers note which paths they served."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "passport_bench.py"

APP = '''
import os

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    with open(os.environ["WARM_LOG"], "a") as log:
        log.write(f"{os.getpid()} {scope['path']}\\n")
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"{}"})
'''


@pytest.mark.slow
def test_every_worker_reads_every_path(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("passport_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tmp_path / "warm_app.py").write_text(APP)
    log = tmp_path / "served.txt"
    port = bench._free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "warm_app:app", "--app-dir", str(tmp_path), "--port", str(port),
         "--workers", "2", "--log-level", "warning"], env={"WARM_LOG": str(log), "PATH": ""})
    try:
        bench._wait(port, server)
        bench.SERVERS[port] = server.pid
        paths = [f"/p/{i}" for i in range(300)]
        bench.warm_workers(port, paths, 2)
    finally:
        bench._stop(server)
    served: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        pid, path = line.split(" ", 1)
        served.setdefault(pid, set()).add(path)
    assert len(served) == 2
    assert all(seen >= set(paths) for seen in served.values())
