"""Sign-in and sign-out, and the account page: the party's API keys, shares and users.

Sign-in uses a double-submit CSRF cookie (there is no session yet); every other form posts the
session's CSRF token, checked by the API's access layer before any handler runs.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from typing import Annotated, Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roadpass.access.admin import AdminError
from roadpass.access.demo import DEMO_SIGN_INS
from roadpass.access.model import ShareKind, now_us
from roadpass.access.service import Refused, SignInFailed
from roadpass.api.access import CSRF_COOKIE, SESSION_COOKIE, session_cookie
from roadpass.api.deps import Access, AccessDep, AppDep
from roadpass.bootstrap import Roadpass
from roadpass.web.routes import templates

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _signin_page(request: Request, *, next_: str, error: str | None = None, email: str = "",
                 status: int = 200) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    development = request.app.state.roadpass.settings.environment == "development"
    demo = list(DEMO_SIGN_INS[:3]) if development else []
    response = templates.TemplateResponse(
        request, "signin.html", {"next": next_, "error": error, "email": email, "csrf": token, "demo": demo},
        status_code=status,
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/signin",
                        secure=request.app.state.roadpass.settings.environment == "production")
    return response


def _account_page(request: Request, rp: Roadpass, access: Access, status: int = 200, **extra: Any) -> Response:
    view = rp.admin.account(access.principal)
    context = {
        "party": access.principal.party, "parties": view.parties, "keys": view.keys, "shares": view.shares,
        "users": view.users, "now": now_us(), "kinds": [k.value for k in ShareKind], "new_key": None,
        "message": None, "error": None, "default_until": (dt.date.today() + dt.timedelta(days=365)).isoformat(),
        **extra,
    }
    return templates.TemplateResponse(request, "account.html", context, status_code=status)


def _back(message: str) -> Response:
    return RedirectResponse("/ui/account?msg=" + quote(message), status_code=303)


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
    """The sign-in form (a signed-in caller goes straight on to ``next``)."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return _signin_page(request, next_=safe_next(next))


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request, rp: AppDep, email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "", csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the double-submit token and the password, open a session and go on to ``next``."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        return _signin_page(request, next_=safe_next(next), email=email, status=403,
                            error="The form expired; please sign in again.")
    try:
        signed = await anyio.to_thread.run_sync(rp.access.sign_in, email, password)
    except SignInFailed:
        return _signin_page(request, next_=safe_next(next), email=email, status=401,
                            error="Wrong email or password.")
    response = RedirectResponse(safe_next(next), status_code=303)
    session_cookie(response, request, signed.token, int(rp.settings.session_hours * 3600))
    response.delete_cookie(CSRF_COOKIE, path="/signin")
    return response


@router.post("/signout")
def signout(rp: AppDep, access: AccessDep) -> Response:
    """End the session and return to the sign-in page."""
    rp.access.sign_out(access.principal)
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/ui/account", response_class=HTMLResponse)
def account(
    request: Request, rp: AppDep, access: AccessDep, msg: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """The account page: the party, its keys, shares and people."""
    return _account_page(request, rp, access, message=msg or None)


@router.post("/ui/account/keys", response_class=HTMLResponse)
def new_key(
    request: Request, rp: AppDep, access: AccessDep, name: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[int, Form(ge=1, le=3650)] = 365,
) -> Response:
    """Make an API key for the caller's party and show it this once."""
    if access.principal.party is None:
        return _back("only a party's users make keys")
    try:
        made, info, _party = rp.admin.create_api_key_as(access.principal, name=name, days=days)
    except AdminError as exc:
        return _account_page(request, rp, access, 422, error=str(exc))
    return _account_page(request, rp, access, 201, new_key=(made.token, info))


@router.post("/ui/account/keys/{key_id}/revoke")
def revoke_key(key_id: str, rp: AppDep, access: AccessDep) -> Response:
    """Revoke one of the party's keys."""
    try:
        rp.admin.revoke_api_key_as(access.caller, key_id)
    except Refused:
        return _back("no such key of yours")
    return _back(f"key {key_id} revoked")


@router.post("/ui/account/shares", response_class=HTMLResponse)
def new_share(
    request: Request, rp: AppDep, access: AccessDep, grantee: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=10)] = "unit", target: Annotated[str, Form(max_length=300)] = "",
    purpose: Annotated[str, Form(max_length=300)] = "", until: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Share units, a lot or a product of the caller's party with another party."""
    try:
        try:
            share_kind = ShareKind(kind)
        except ValueError as exc:
            raise AdminError("kind", str(exc)) from exc
        try:
            day = dt.date.fromisoformat(until)
        except ValueError as exc:
            raise AdminError("until", str(exc)) from exc
        valid_until = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1_000_000)
        rp.admin.share_as(access.caller, grantee_key=grantee, kind=share_kind, target=target, purpose=purpose,
                          valid_until=valid_until)
    except Refused as exc:
        return _account_page(request, rp, access, 422, error=str(AdminError("target", exc.decision.reason)))
    except AdminError as exc:
        return _account_page(request, rp, access, 422, error=str(exc))
    return _back(f"shared with {grantee}")


@router.post("/ui/account/shares/{share_id}/revoke")
def end_share(share_id: int, rp: AppDep, access: AccessDep) -> Response:
    """End a share the caller's party granted."""
    try:
        rp.admin.revoke_share_as(access.caller, share_id)
    except Refused:
        return _back("no such share of yours")
    return _back("share ended")
