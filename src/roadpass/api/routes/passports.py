"""Battery passports and producer-responsibility reports over REST (Reg. (EU) 2023/1542 Art. 77, 75).

``GET /passports/{id}`` returns the view the caller's role may see (Art. 77(2)): the public view for an
anonymous caller; ``?level=`` asks for a given level, and asking above one's role is refused with ``403``
and written to the ledger. The role comes from :func:`caller_role`: the sign-in layer sets
``request.state.passport_role``; without it the caller is the public.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Path, Query, Request
from fastapi.responses import Response
from starlette.types import Scope, Send

from roadpass.access.model import ANONYMOUS
from roadpass.access.policy import Op, decide
from roadpass.access.service import OPEN
from roadpass.api.deps import ActorDep, AppDep
from roadpass.api.responses import JsonResponse, problem
from roadpass.bootstrap import Roadpass
from roadpass.passport.access import Role
from roadpass.passport.assemble import parse_level
from roadpass.passport.epr.report import report_html, report_pdf
from roadpass.passport.importing import ImportRefused
from roadpass.passport.service import AccessDenied, PassportNotFound

__all__ = ["PublicPassportReads", "caller_role", "router"]

router = APIRouter(tags=["Battery passport"])


async def caller_role(request: Request) -> Role:
    """The caller's role: ``request.state.passport_role`` (set by the sign-in layer), else the public.

    A coroutine on purpose: FastAPI runs plain-function dependencies in a worker thread, which costs more
    than the whole cached public read it guards."""
    role = getattr(request.state, "passport_role", None)
    if isinstance(role, Role):
        return role
    if isinstance(role, str):
        try:
            return Role(role)
        except ValueError:
            return Role.PUBLIC
    return Role.PUBLIC


RoleDep = Annotated[Role, Depends(caller_role)]


async def _actor(request: Request) -> str:
    """Who is calling, for the ledger (as :func:`roadpass.api.deps.current_actor`, without a thread hop)."""
    actor = getattr(request.state, "actor", None)
    return str(actor) if actor else "anonymous"


FastActorDep = Annotated[str, Depends(_actor)]
LevelQuery = Annotated[str | None, Query(description="public, legitimate or authority; default: your role")]


def _level(level: str | None) -> Role | Response | None:
    if level is None:
        return None
    try:
        return parse_level(level)
    except ValueError as exc:
        return problem(400, str(exc), parameter="level")


def _denied(exc: AccessDenied) -> Response:
    return problem(403, str(exc), passportId=exc.passport_id, role=exc.role.value, requested=exc.requested.value,
                   ledgerSeq=exc.ledger_seq)


@router.get("/passports", summary="Passports, newest first.")
def list_passports(
    request: Request, q: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """Passport identifiers, battery identifiers, categories and statuses (all public, Annex XIII (1))."""
    return JsonResponse(request.app.state.roadpass.passports.list_passports(limit=limit, offset=offset, query=q))


async def _read(passport_id: str, request: Request, role: Role, actor: str, level: str | None) -> Response:
    requested = _level(level)
    if isinstance(requested, Response):
        return requested
    try:
        body = request.app.state.roadpass.passports.view_json(passport_id, role, requested=requested, actor=actor)
    except PassportNotFound as exc:
        return problem(404, str(exc))
    except AccessDenied as exc:
        return _denied(exc)
    return Response(body, media_type="application/json")


@router.get("/passports/{passport_id}", summary="A battery passport as your role may see it.")
async def get_passport(
    passport_id: str, request: Request, role: RoleDep, actor: FastActorDep, level: LevelQuery = None
) -> Response:
    """The view of the caller's role (or of ``level``, if the role allows it); fields above it are absent.

    Asking for a level above one's role is refused with 403 and the refusal is written to the ledger."""
    return await _read(passport_id, request, role, actor, level)


@router.get("/passports/{passport_id}/export", summary="The passport in the Battery Pass consortium format.")
def export_passport(
    passport_id: str, request: Request, role: RoleDep, actor: ActorDep, level: LevelQuery = None
) -> Response:
    """Consortium-format JSON (the union of the visible sections), as the role may see it."""
    requested = _level(level)
    if isinstance(requested, Response):
        return requested
    try:
        body = request.app.state.roadpass.passports.export(passport_id, role, requested=requested, actor=actor)
    except PassportNotFound as exc:
        return problem(404, str(exc))
    except AccessDenied as exc:
        return _denied(exc)
    return JsonResponse(body)


@router.get("/passports/{passport_id}/qr.{fmt}", summary="The data carrier: a QR code with the Digital Link.")
def passport_qr(passport_id: str, fmt: str, request: Request) -> Response:
    """``qr.svg`` or ``qr.png`` (Art. 77(3): the QR code links to the passport)."""
    if fmt not in ("svg", "png"):
        return problem(404, f"no QR code format {fmt!r}; use qr.svg or qr.png")
    try:
        data = request.app.state.roadpass.passports.qr(passport_id, "svg" if fmt == "svg" else "png")
    except PassportNotFound as exc:
        return problem(404, str(exc))
    return Response(data, media_type="image/svg+xml" if fmt == "svg" else "image/png",
                    headers={"Cache-Control": "public, max-age=86400"})


@router.post("/passports/import", summary="Import a consortium-format passport or section.")
def import_passport(
    request: Request, role: RoleDep, actor: ActorDep, document: Annotated[Any, Body()],
    passport: Annotated[str | None, Query(description="the passport a single section belongs to")] = None,
) -> Response:
    """Refused whole (422, JSON path and reason) when invalid; normalisations are reported and ledgered."""
    if role is Role.PUBLIC:
        return problem(403, "importing passports needs a signed-in operator")
    try:
        outcome = request.app.state.roadpass.passports.import_document(document, actor=actor, passport_id=passport)
    except ImportRefused as exc:
        return problem(422, "import refused", issues=exc.issues_json())
    return JsonResponse(outcome.to_json(), status_code=201)


@router.post("/passports/issue", summary="Issue passports for battery units from the trace record.")
def issue_passports(
    request: Request, app: AppDep, role: RoleDep, actor: ActorDep,
    units: Annotated[list[str] | None, Body(embed=True)] = None,
) -> Response:
    """Issue for the given units (EPC URN or Digital Link), or for every battery without one."""
    if role is Role.PUBLIC:
        return problem(403, "issuing passports needs a signed-in operator")
    return JsonResponse(app.passports.issue_from_trace(units, actor=actor).to_json(), status_code=201)


@router.get("/epr/reports/{producer}/{member_state}/{year}", summary="Producer responsibility report (Art. 75).")
def epr_report(
    producer: str, member_state: str, year: Annotated[int, Path(ge=2000, le=2100)], request: Request,
    format: Annotated[str, Query(pattern="^(json|html|pdf)$")] = "json",
) -> Response:
    """Collected mass and rate, recycling efficiency and material recovery against the cited targets."""
    report = request.app.state.roadpass.epr.report(producer, member_state, year)
    if format == "html":
        return Response(report_html(report), media_type="text/html; charset=utf-8")
    if format == "pdf":
        return Response(report_pdf(report), media_type="application/pdf")
    return JsonResponse(report.to_json())


@router.get("/epr/registrations", summary="Producers' registrations per member state (Art. 55).")
def registrations(request: Request, producer: str | None = None) -> Response:
    """Every registration, optionally of one producer."""
    return JsonResponse([r.to_json() for r in request.app.state.roadpass.epr.registrations(producer)])


_PREFIX = "/passports/"
_JSON_HEAD = b"application/json"
_CREDENTIALS = (b"authorization", b"cookie")


class PublicPassportReads:
    """``GET /passports/{id}`` by an anonymous caller, answered from the rendered-view cache at the door.

    The hot path of a passport is a QR code scanned in a shop or at a recycling outlet: the same few
    kilobytes for everybody, read by somebody who is not signed in. A request that carries no credentials
    is the anonymous principal whatever else it says, so this door can decide it before the framework's
    layers run: the same rule table (:func:`roadpass.access.policy.decide`), the same audience
    (:meth:`AccessService.passport_role`), the same cached bytes the route would send. Anything else — a
    credential, a query string, a refusal, an unknown passport, a view not rendered yet or changed since —
    goes through the documented route, which gives the same answers the slow way.
    """

    def __init__(self, roadpass: Roadpass, app: FastAPI) -> None:
        self.roadpass = roadpass
        self.app = app
        # Who a request without credentials is, and what it may read, is fixed by the settings: decide
        # it once (the principal the access layer would resolve, the rule table, the passport audience).
        principal = ANONYMOUS if roadpass.settings.auth_enabled else OPEN
        self.audience: Role | None = None
        if decide(principal, Op.PASSPORT_READ).allowed:
            self.audience = Role(roadpass.access.passport_role(principal))

    async def __call__(self, scope: Scope, send: Send) -> bool:
        """Answer the request and return True, or return False and leave it to the application."""
        if scope["method"] != "GET" or scope.get("query_string"):
            return False
        path: str = scope["path"]
        if not path.startswith(_PREFIX):
            return False
        passport_id = path[len(_PREFIX):]
        if not passport_id or "/" in passport_id:
            return False
        for name, _ in scope["headers"]:
            if name in _CREDENTIALS:
                return False
        body = self._cached(passport_id)
        if body is None:
            return False
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", _JSON_HEAD), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return True

    def _cached(self, passport_id: str) -> bytes | None:
        if self.audience is None:
            return None
        return self.roadpass.passports.cached_view_json(passport_id, self.audience)
