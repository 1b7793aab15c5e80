"""Long operations run in a background thread and report progress; pages poll ``/ui/jobs/{id}`` (htmx).

Demo generation, a large capture, a ledger verification (and any feature's long work) start a
:class:`Job` with a function that receives ``progress(done, total)``; the page shows a ``<progress>``
bar until the job ends, then its result. Only the principal who started a job sees it.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Job", "JobRunner", "Progress", "jobs_of"]

Progress = Callable[[int, int | None], None]


@dataclass(slots=True)
class Job:
    """A running or finished operation: ``done`` of ``total`` (None: unknown), then ``result`` or ``error``."""

    id: str
    label: str
    owner: str
    unit: str = "items"
    done: int = 0
    total: int | None = None
    state: str = "running"  # running, done, failed
    result: str = ""
    link: str = ""
    error: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def elapsed(self) -> float:
        """Seconds since the job started (until it ended)."""
        return (self.ended or time.monotonic()) - self.started

    @property
    def percent(self) -> int | None:
        """How far, 0-100, when the total is known."""
        if not self.total:
            return None
        return min(100, int(100 * self.done / self.total))


class JobRunner:
    """The jobs of one application (kept in memory; at most ``keep`` finished jobs are remembered)."""

    def __init__(self, keep: int = 100) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._keep = keep

    def start(
        self, *, owner: str, label: str, work: Callable[[Progress], tuple[str, str]], unit: str = "items",
        total: int | None = None,
    ) -> Job:
        """Run ``work(progress)`` in a thread; it returns (result text, link) for the finished page."""
        job = Job(secrets.token_urlsafe(8), label, owner, unit=unit, total=total)

        def progress(done: int, new_total: int | None = None) -> None:
            job.done = done
            if new_total:
                job.total = new_total

        def run() -> None:
            try:
                job.result, job.link = work(progress)
                job.state = "done"
                if job.total:
                    job.done = max(job.done, job.total)
            except Exception as exc:  # a failed job reports why; the page shows it instead of hanging
                job.error = f"{type(exc).__name__}: {exc}"
                job.state = "failed"
            finally:
                job.ended = time.monotonic()

        with self._lock:
            finished = [j.id for j in self._jobs.values() if j.state != "running"]
            for old in finished[: max(0, len(finished) - self._keep)]:
                self._jobs.pop(old, None)
            self._jobs[job.id] = job
        threading.Thread(target=run, name=f"roadpass-job-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        """The job, if ``owner`` started it."""
        job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None


def jobs_of(app: Any) -> JobRunner:
    """The application's job runner (made on first use)."""
    runner: JobRunner | None = getattr(app.state, "jobs", None)
    if runner is None:
        runner = app.state.jobs = JobRunner()
    return runner
