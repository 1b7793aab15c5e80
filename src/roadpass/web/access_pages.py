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
from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from roadpass.access import admin
from roadpass.access.model import ShareKind
from roadpass.access.policy import Op, decide_own, decide_share
from roadpass.access.service import SignInFailed
from roadpass.api.access import CSRF_COOKIE, SESSION_COOKIE
from roadpass.api.deps import AccessDep, ActorDep, AppDep
from roadpass.api.routes.access import session_cookie
from roadpass.store import access as store
from roadpass.store import access_shares as shares_store
from roadpass.web.routes import templates

__all__ = ["mount_access_pages", "safe_next"]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path on this site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _signin_page(request: Request, *, next_: str, error: str | None = None, email: str = "",
                 status: int = 200) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    demo = []
    if request.app.state.roadpass.settings.environment == "development":
        from roadpass.access.demo import DEMO_SIGN_INS

        demo = list(DEMO_SIGN_INS[:3])
    response = templates.TemplateResponse(
        request, "signin.html", {"next": next_, "error": error, "email": email, "csrf": token, "demo": demo},
        status_code=status,
    )
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/signin",
                        secure=request.app.state.roadpass.settings.environment == "production")
    return response


def _account_context(rp: Any, access: Any, **extra: Any) -> dict[str, Any]:
    principal = access.principal
    party = principal.party
    operator = principal.role == "operator"
    with rp.uow.read() as conn:
        everyone = store.parties(conn)
        names = {p.id: p.key for p in everyone}
        keys = store.list_api_keys(conn, party_id=None if operator else (party.id if party else -1))
        shares = shares_store.list_shares(conn, party_id=None if operator else (party.id if party else -1))
        users = store.list_users(conn, party_id=None if operator else (party.id if party else -1))
    now = store.now_us()
    return {
        "party": party, "parties": [p for p in everyone if party is None or p.id != party.id],
        "keys": [(k, names.get(k.party_id, "")) for k in keys], "shares": shares, "users": users, "now": now,
        "kinds": [k.value for k in ShareKind], "new_key": None, "message": None, "error": None,
        "default_until": (dt.date.today() + dt.timedelta(days=365)).isoformat(), **extra,
    }


def mount_access_pages(app: FastAPI) -> None:
    """Add ``/signin``, ``/signout`` and ``/ui/account`` (with its forms) to ``app``."""

    @app.get("/signin", response_class=HTMLResponse, include_in_schema=False)
    def signin_form(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> Response:
        principal = getattr(request.state, "principal", None)
        if principal is not None and principal.signed_in:
            return RedirectResponse(safe_next(next), status_code=303)
        return _signin_page(request, next_=safe_next(next))

    @app.post("/signin", response_class=HTMLResponse, include_in_schema=False)
    async def signin(
        request: Request, rp: AppDep, email: Annotated[str, Form(max_length=254)] = "",
        password: Annotated[str, Form(max_length=1000)] = "", csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form(max_length=500)] = "/",
    ) -> Response:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, csrf_token):
            return _signin_page(request, next_=safe_next(next), email=email, status=403,
                                error="The form expired; please sign in again.")
        service = rp.access
        try:
            signed = await anyio.to_thread.run_sync(service.sign_in, email, password)
        except SignInFailed:
            return _signin_page(request, next_=safe_next(next), email=email, status=401,
                                error="Wrong email or password.")
        response = RedirectResponse(safe_next(next), status_code=303)
        session_cookie(response, request, signed.token, int(rp.settings.session_hours * 3600))
        response.delete_cookie(CSRF_COOKIE, path="/signin")
        return response

    @app.post("/signout", include_in_schema=False)
    def signout(rp: AppDep, access: AccessDep) -> Response:
        rp.access.sign_out(access.principal)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.get("/ui/account", response_class=HTMLResponse, include_in_schema=False)
    def account(
        request: Request, rp: AppDep, access: AccessDep, msg: Annotated[str, Query(max_length=200)] = ""
    ) -> Response:
        return templates.TemplateResponse(request, "account.html", _account_context(rp, access, message=msg or None))

    @app.post("/ui/account/keys", response_class=HTMLResponse, include_in_schema=False)
    def new_key(
        request: Request, rp: AppDep, access: AccessDep, actor: ActorDep,
        name: Annotated[str, Form(max_length=200)] = "", days: Annotated[int, Form(ge=1, le=3650)] = 365,
    ) -> Response:
        party = access.principal.party
        if party is None:
            return RedirectResponse("/ui/account?msg=" + quote("only a party's users make keys"), status_code=303)
        try:
            made, info = admin.create_api_key(rp, actor=actor, party_id=party.id, name=name, days=days,
                                              user_id=access.principal.user_id)
        except admin.AdminError as exc:
            context = _account_context(rp, access, error=str(exc))
            return templates.TemplateResponse(request, "account.html", context, status_code=422)
        context = _account_context(rp, access, new_key=(made.token, info))
        return templates.TemplateResponse(request, "account.html", context, status_code=201)

    @app.post("/ui/account/keys/{key_id}/revoke", include_in_schema=False)
    def revoke_key(key_id: str, rp: AppDep, access: AccessDep, actor: ActorDep) -> Response:
        with rp.uow.read() as conn:
            found = store.api_key_by_key_id(conn, key_id)
        decision = decide_own(access.principal, Op.KEYS_WRITE, found[0].party_id if found else None)
        if found is None or not decision.allowed:
            if found is not None:
                access.deny(decision)
            return RedirectResponse("/ui/account?msg=" + quote("no such key of yours"), status_code=303)
        admin.revoke_api_key(rp, actor=actor, key_id=key_id)
        return RedirectResponse("/ui/account?msg=" + quote(f"key {key_id} revoked"), status_code=303)

    @app.post("/ui/account/shares", response_class=HTMLResponse, include_in_schema=False)
    def new_share(
        request: Request, rp: AppDep, access: AccessDep, actor: ActorDep,
        grantee: Annotated[str, Form(max_length=200)] = "", kind: Annotated[str, Form(max_length=10)] = "unit",
        target: Annotated[str, Form(max_length=300)] = "", purpose: Annotated[str, Form(max_length=300)] = "",
        until: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        party = access.principal.party
        try:
            if party is None:
                raise admin.AdminError("grantor", "only a party shares")
            try:
                share_kind = ShareKind(kind)
                day = dt.date.fromisoformat(until)
            except ValueError as exc:
                raise admin.AdminError("kind" if kind not in ShareKind.__members__.values() else "until",
                                       str(exc)) from exc
            key = admin.share_target(rp, share_kind, target)
            decision = decide_share(access.principal, key)
            if not decision.allowed:
                access.deny(decision)
                raise admin.AdminError("target", decision.reason)
            valid_until = int(dt.datetime.combine(day, dt.time(), dt.UTC).timestamp() * 1_000_000)
            admin.grant_share(rp, actor=actor, grantor=party, grantee_key=grantee, kind=share_kind, target_key=key,
                              purpose=purpose, valid_until=valid_until)
        except admin.AdminError as exc:
            context = _account_context(rp, access, error=str(exc))
            return templates.TemplateResponse(request, "account.html", context, status_code=422)
        return RedirectResponse("/ui/account?msg=" + quote(f"shared with {grantee}"), status_code=303)

    @app.post("/ui/account/shares/{share_id}/revoke", include_in_schema=False)
    def end_share(share_id: int, rp: AppDep, access: AccessDep, actor: ActorDep) -> Response:
        with rp.uow.read() as conn:
            found = shares_store.share_by_id(conn, share_id)
        decision = decide_own(access.principal, Op.SHARES_WRITE, found[1] if found else None)
        if found is None or not decision.allowed:
            if found is not None:
                access.deny(decision)
            return RedirectResponse("/ui/account?msg=" + quote("no such share of yours"), status_code=303)
        admin.revoke_share(rp, actor=actor, share_id=share_id)
        return RedirectResponse("/ui/account?msg=" + quote("share ended"), status_code=303)
