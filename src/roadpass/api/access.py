"""The API's access layer: who is calling (an ASGI middleware) and may they (one global dependency).

The middleware resolves the caller once per request — an API key (``Authorization: Bearer rpk_…``), the
session cookie, or, for a query subscription's delivery into ``/capture`` from another repository, the
``GS1-Signature`` it made with one of this node's webhook keys — and sets ``request.state.principal``,
``.actor``, ``.party`` and ``.passport_role``; it also refuses oversized bodies before they are read (413)
and applies rate limits (429). The dependency :func:`authorise`, installed on every route, asks the policy
(:func:`roadpass.access.policy.decide`) for the route's operation and checks CSRF tokens on cookie-borne
writes. A denial is written to the ledger before the caller is answered.
"""

from __future__ import annotations

import hmac
from collections.abc import MutableMapping
from typing import Any

import anyio
import orjson
from fastapi import Request, Response, WebSocketException
from starlette.requests import HTTPConnection, cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from roadpass.access.model import ANONYMOUS, Principal
from roadpass.access.policy import Decision, Effect, decide, operation_for
from roadpass.access.ratelimit import RateLimiter
from roadpass.access.service import OPEN, AccessService
from roadpass.api.problems import problem_body
from roadpass.bootstrap import Roadpass

__all__ = [
    "CAPTURE_PATHS",
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "AccessMiddleware",
    "Denied",
    "authorise",
    "csrf_ok",
    "principal_of",
    "record_denial",
    "session_cookie",
]

SESSION_COOKIE = "rp_session"
CSRF_COOKIE = "rp_csrf"
CAPTURE_PATHS = frozenset({"/capture", "/events", "/ui/capture"})
SIGN_IN_PATHS = frozenset({"/signin", "/auth/session"})
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


class Denied(Exception):
    """Raised by :func:`authorise`; the app's handler answers 401/403/404 as problem JSON or as a page."""

    def __init__(self, decision: Decision, *, page: bool) -> None:
        self.decision = decision
        self.page = page
        super().__init__(decision.reason)


_Reply = tuple[int, bytes, list[tuple[bytes, bytes]]]


def _problem(status: int, title: str, headers: dict[str, str] | None = None, **extra: Any) -> _Reply:
    body = orjson.dumps(problem_body(status, title, **extra))
    head = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]
    head += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return status, body, head


async def _respond(send: Send, reply: _Reply) -> None:
    status, body, headers = reply
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class AccessMiddleware:
    """Authentication, body-size limits and rate limits, in front of every request (pure ASGI: cheap)."""

    def __init__(self, app: ASGIApp, roadpass: Roadpass) -> None:
        self.app = app
        self.roadpass = roadpass
        settings = roadpass.settings
        self.capture_limiter = RateLimiter(lambda: settings.rate_limit_capture_per_minute)
        # People mistype: the whole minute's allowance may be used at once, then one try per interval.
        self.signin_limiter = RateLimiter(lambda: settings.rate_limit_signin_per_minute, burst_share=1.0)

    async def _principal(self, service: AccessService, scope: Scope) -> Principal | None:
        """The caller; None when credentials were presented and are wrong (answered 401)."""
        authorization = cookie = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value.decode("latin-1")
        if authorization is not None:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer" or not token:
                return None
            cached = service.cached_key(token.strip())
            if cached is False:
                return await anyio.to_thread.run_sync(service.principal_for_key, token.strip())
            return cached
        if cookie is not None:
            session = cookie_parser(cookie).get(SESSION_COOKIE)
            if session:
                found = service.cached_session(session)
                if found is False:
                    found = await anyio.to_thread.run_sync(service.principal_for_session, session)
                # An ended or expired session is no error: the caller is simply not signed in any more.
                return found or ANONYMOUS
        return ANONYMOUS

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket handshake: the caller is resolved as for a request; a session cookie counts only from
        the node's own pages (``Origin`` is this host), so that another site cannot open a subscription in a
        signed-in user's name (cross-site WebSocket hijacking)."""
        settings = self.roadpass.settings
        headers = dict(scope["headers"])
        if settings.auth_enabled and b"authorization" not in headers and b"cookie" in headers:
            origin = headers.get(b"origin", b"").decode("latin-1")
            host = headers.get(b"host", b"").decode("latin-1")
            if origin.partition("://")[2] != host:
                scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"cookie"]}
        principal = await self._principal(self.roadpass.access, scope) if settings.auth_enabled else OPEN
        if principal is None:
            # Closing before accepting answers the handshake with 403 (ASGI WebSocket specification).
            await send({"type": "websocket.close", "code": 1008, "reason": "the API key is unknown or wrong"})
            return
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state.update(principal=principal, actor=principal.actor, party=principal.party)
        await self.app(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the caller, refuse what is too big or too frequent, then hand over."""
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = self.roadpass.settings
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        service = self.roadpass.access
        principal = await self._principal(service, scope) if settings.auth_enabled else OPEN
        method, path = scope["method"], scope["path"]
        signature = (dict(scope["headers"]).get(b"gs1-signature")
                     if principal is ANONYMOUS and method == "POST" and path in CAPTURE_PATHS else None)
        if signature is not None:
            # A subscription delivery from another repository, signed with a webhook key of this node.
            body = await _read_body(receive, send, settings.capture_max_bytes)
            if body is None:
                return
            principal = await anyio.to_thread.run_sync(
                service.principal_for_signature, body, signature.decode("latin-1"))
            if principal is None:
                await _respond(send, _problem(401, "GS1-Signature: no live webhook key of this node signed this body"))
                return
            receive = _replaying(body, receive)
        if principal is None:
            await _respond(send, _problem(401, "the API key is unknown, wrong, revoked or expired",
                                          {"WWW-Authenticate": 'Bearer realm="roadpass"'}))
            return
        state["principal"] = principal
        state["actor"] = principal.actor
        state["party"] = principal.party
        state["passport_role"] = service.passport_role(principal)
        if method == "POST" and settings.auth_enabled:
            client = (scope.get("client") or ("local", 0))[0]
            wait = 0.0
            if path in CAPTURE_PATHS:
                wait = self.capture_limiter.take(principal.party.key if principal.party else f"ip:{client}")
            elif path in SIGN_IN_PATHS:
                wait = self.signin_limiter.take(f"ip:{client}")
            if wait:
                await _respond(send, _problem(429, "too many requests; slow down",
                                              {"Retry-After": str(int(wait) + 1)}))
                return
        if method in _SAFE:
            await self.app(scope, receive, send)
            return
        limit = settings.capture_max_bytes if path in CAPTURE_PATHS else settings.max_request_bytes
        await self._limited(scope, receive, send, limit)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the request on, refusing a body over ``limit`` bytes (413) before the app parses it.

        With a Content-Length the header decides (the server delivers no more than it says). A chunked
        body is read here first, up to the limit, and replayed to the app: an error raised while the app
        reads would be turned into a 400 by the framework's body parsing.
        """
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    await _respond(send, _too_large(f"request body of {int(value)} bytes exceeds the limit of {limit}"))
                    return
                await self.app(scope, receive, send)
                return
        body = await _read_body(receive, send, limit)
        if body is not None:
            await self.app(scope, _replaying(body, receive), send)


async def _read_body(receive: Receive, send: Send, limit: int) -> bytes | None:
    """The whole request body, up to ``limit`` bytes; None when it was refused (413, answered) or the client
    went away."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _respond(send, _too_large(f"request body exceeds the limit of {limit} bytes"))
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app ``body`` (already read) first."""
    replayed = False

    async def replay() -> MutableMapping[str, Any]:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _too_large(title: str) -> _Reply:
    return _problem(413, title, type_="epcisException:CapturePayloadTooLargeException")


def principal_of(request: HTTPConnection) -> Principal:
    """The caller the middleware resolved (anonymous if the middleware did not run)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else ANONYMOUS


def _is_page(request: Request) -> bool:
    route = request.scope.get("route")
    return route is not None and not getattr(route, "include_in_schema", True)


def method_of(request: HTTPConnection) -> str:
    """The HTTP method of a request; a WebSocket handshake is a ``GET``."""
    return request.method if isinstance(request, Request) else "GET"


def record_denial(request: HTTPConnection, decision: Decision, operation: str | None = None) -> int:
    """Write a denied request to the ledger (``access.denied``); returns the entry's sequence number."""
    op = operation or str(getattr(getattr(request.state, "operation", None), "value", "unclassified"))
    route = request.scope.get("route")
    roadpass: Roadpass = request.app.state.roadpass
    return roadpass.access.record_denial(
        principal_of(request), operation=op, method=method_of(request),
        path=getattr(route, "path", request.url.path), status=decision.status,
        reason=decision.reason or decision.rule,
    )


async def authorise(request: HTTPConnection) -> None:
    """The one authorisation check before every handler: the route's operation against the rule table."""
    principal = principal_of(request)
    route = request.scope.get("route")
    op = operation_for(method_of(request), getattr(route, "path", ""))
    decision = decide(principal, op)
    request.state.operation = op
    request.state.decision = decision
    if not decision.allowed:
        if decision.status != 401:
            await anyio.to_thread.run_sync(record_denial, request, decision)
        if not isinstance(request, Request):  # a WebSocket handshake: refused with 403
            raise WebSocketException(code=1008, reason=decision.reason)
        raise Denied(decision, page=_is_page(request))
    if not isinstance(request, Request):
        return
    if principal.via == "session" and request.method not in _SAFE:
        presented = request.headers.get("x-csrf-token")
        if presented is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            form = await request.form()
            value = form.get("csrf_token")
            presented = value if isinstance(value, str) else None
        if not csrf_ok(principal.csrf, presented):
            refused = Decision(False, 403, Effect.DENY, decision.rule, "missing or wrong CSRF token")
            await anyio.to_thread.run_sync(record_denial, request, refused)
            raise Denied(refused, page=_is_page(request))


def session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """Set the session cookie: HttpOnly (no script reads it), SameSite=Lax, Secure outside development."""
    roadpass: Roadpass = request.app.state.roadpass
    secure = roadpass.settings.environment == "production"
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/")


def csrf_ok(expected: str | None, presented: str | None) -> bool:
    """True when ``presented`` is the session's CSRF token (constant-time comparison)."""
    return bool(expected) and bool(presented) and hmac.compare_digest(str(expected), str(presented))
