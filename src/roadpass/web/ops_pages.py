"""Pages for long operations (capture upload, demo generation, ledger verification) with progress."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from roadpass.api.deps import AccessDep, ActorDep, AppDep
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_demo
from roadpass.trace.capture import CaptureRejected
from roadpass.trace.service import CaptureFailed
from roadpass.web.jobs import Progress, jobs_of
from roadpass.web.routes import templates

__all__ = ["mount_ops_pages", "router", "verify_with_progress"]


def verify_with_progress(rp: Roadpass, progress: Progress) -> tuple[str, str]:
    """Walk the ledger chain (as ``roadpass ledger verify`` does), reporting entries checked of the total."""
    report = rp.ledger.verify(progress=progress)
    if report.ok:
        return f"Chain intact: {report.entries} entries, head {report.head_hash[:16]}…", ""
    first = report.first_mismatch
    where = f"entry {first.seq}: {first.reason}" if first else "unknown entry"
    raise RuntimeError(f"chain broken at {where}")


def _job_page(request: Request, job: Any, status: int = 202) -> Response:
    """The job's progress: a fragment for htmx, a whole page for a plain form post."""
    name = "_job.html" if request.headers.get("hx-request") else "job.html"
    return templates.TemplateResponse(request, name, {"job": job}, status_code=status)


router = APIRouter(include_in_schema=False)


def mount_ops_pages(app: FastAPI) -> None:
    """Add job progress, capture upload, demo generation and ledger verification pages."""
    app.include_router(router)


@router.get("/ui/jobs/{job_id}", response_class=HTMLResponse)
def job_status(job_id: str, request: Request, access: AccessDep) -> Response:
    """A long job's progress (polled by htmx until it ends); only its owner sees it."""
    job = jobs_of(request.app).get(job_id, access.principal.actor)
    fragment = bool(request.headers.get("hx-request"))
    name = "_job.html" if fragment else "job.html"
    if job is None:
        return templates.TemplateResponse(request, name, {"job": None}, status_code=404)
    # 286 tells htmx to stop polling once the job has ended (a browser without htmx gets 200).
    status = 200 if job.state == "running" or not fragment else 286
    return templates.TemplateResponse(request, name, {"job": job}, status_code=status)


@router.post("/ui/ledger/verify", response_class=HTMLResponse)
def ledger_verify(request: Request, rp: AppDep, access: AccessDep) -> Response:
    """Verify the whole ledger chain as a job with progress."""
    job = jobs_of(request.app).start(
        owner=access.principal.actor, label="Verifying the ledger chain", unit="entries",
        work=lambda progress: verify_with_progress(rp, progress),
    )
    return _job_page(request, job)


@router.get("/ui/capture", response_class=HTMLResponse)
def capture_form(request: Request, rp: AppDep) -> Response:
    """The capture upload form, with the node's limits."""
    limits = {"limit": rp.settings.capture_max_bytes, "max_events": rp.settings.capture_max_events}
    return templates.TemplateResponse(request, "capture.html", limits)


@router.post("/ui/capture", response_class=HTMLResponse)
async def capture_upload(
    request: Request, rp: AppDep, access: AccessDep, actor: ActorDep, document: UploadFile,
    behaviour: Annotated[str, Form(pattern="^(rollback|proceed)$")] = "rollback",
) -> Response:
    """Capture an uploaded EPCIS document as a job with progress."""
    body = await document.read()
    name = document.filename or "document"

    def work(progress: Progress) -> tuple[str, str]:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{name} is not JSON: {exc}") from exc
        events = (parsed.get("epcisBody") or {}).get("eventList") if isinstance(parsed, dict) else None
        progress(0, len(events) if isinstance(events, list) else 1)
        try:
            outcome = rp.trace.capture(parsed, actor=actor, behaviour=behaviour)
        except CaptureRejected as exc:
            first = exc.problems[0] if exc.problems else None
            raise ValueError(f"refused whole: {first.path}: {first.reason}" if first else str(exc)) from exc
        except CaptureFailed as exc:
            raise ValueError(str(exc)) from exc
        progress(outcome.events, outcome.events)
        return (f"{name}: {outcome.stored} events stored, {outcome.duplicates} already known "
                f"(capture {outcome.capture_id})", f"/capture/{outcome.capture_id}")

    job = jobs_of(request.app).start(owner=access.principal.actor, label=f"Capturing {name}", unit="events",
                                     work=work)
    return _job_page(request, job)


@router.post("/ui/demo", response_class=HTMLResponse)
def demo(
    request: Request, rp: AppDep, access: AccessDep, vehicles: Annotated[int, Form(ge=1, le=20000)] = 100,
) -> Response:
    """Generate demo vehicles as a job with progress (development databases only)."""
    if rp.settings.environment != "development":
        return templates.TemplateResponse(request, "_job.html", {"job": None,
                                          "error": "demo data only in development"}, status_code=403)

    def work(progress: Progress) -> tuple[str, str]:
        # About eleven events per vehicle in the demo supply chain: a total to show a bar against.
        estimate = vehicles * 11
        result = load_demo(rp, FleetSpec(vehicles=vehicles),
                           progress=lambda done, _t: progress(done, max(estimate, done)))
        return f"{result.vehicles} vehicles, {result.stored} events stored", "/"

    job = jobs_of(request.app).start(owner=access.principal.actor, label=f"Generating {vehicles} vehicles",
                                     unit="events", total=vehicles * 11, work=work)
    return _job_page(request, job)
