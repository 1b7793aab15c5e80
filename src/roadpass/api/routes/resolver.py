"""The node as a GS1-Conformant resolver: Digital Link URIs on its own host, and its description file.

``GET /{primary key AI}/{value}[/{qualifier AI}/{value}…]`` answers a scan: a 307 to the most specific
default link, the link a ``linkType`` names, or the RFC 9264 linkset (``linkType=linkset`` or ``Accept:
application/linkset+json``), each with the ``Link`` header; a malformed URI is a 400 naming the part, an
unknown one a 404. ``GET /.well-known/gs1resolver`` is the resolver description file. Who sees which link
is the access policy's decision (:func:`audience_of`). :class:`ResolverDoor` answers anonymous scans whose
answer is cached and provably current before the framework's layers, as the passports' door does.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import HTTPConnection
from starlette.types import Scope, Send

from roadpass.access.model import ANONYMOUS, Principal
from roadpass.access.policy import Op, decide
from roadpass.access.service import OPEN
from roadpass.api.access import principal_of
from roadpass.api.responses import JsonResponse, problem
from roadpass.bootstrap import Roadpass
from roadpass.resolver.links import Audience
from roadpass.resolver.scan import ScanError, accept_languages
from roadpass.resolver.service import Answer, NotResolved, ResolverService
from roadpass.resolver.vocabulary import vocabulary

__all__ = [
    "PRIMARY_KEY_CONVERTOR", "ResolverDoor", "audience_of", "raw_path", "register_primary_key_convertor",
    "resolver_router",
]

#: The path convertor that matches a primary key's AI (the first path segment of a Digital Link URI).
PRIMARY_KEY_CONVERTOR = "gs1primary"
_CREDENTIALS = (b"authorization", b"cookie")
_UNKNOWN = object()
#: Most raw requests whose answer key the door remembers (a bound on memory, not on correctness).
_KEY_MEMO = 100_000


def _primary_key_convertor(ais: list[str]) -> Convertor[str]:
    """A path convertor matching the numeric AIs of the primary keys served (``link-types.yaml``)."""

    class PrimaryKey(Convertor[str]):
        regex = "|".join(sorted(ais, key=len, reverse=True))

        def convert(self, value: str) -> str:
            """The AI as matched."""
            return value

        def to_string(self, value: str) -> str:
            """The AI as written."""
            return value

    return PrimaryKey()


_OPERATIONS: dict[tuple[str, str], frozenset[str]] = {}


def _operations(principal: Principal) -> frozenset[str]:
    """The access-policy operations ``principal`` may perform (the rule table decides, not the resolver);
    the rule table depends on the role alone, so the answer is kept per role."""
    key = (principal.role, principal.via)
    found = _OPERATIONS.get(key)
    if found is None:
        found = _OPERATIONS[key] = frozenset(op.value for op in Op if decide(principal, op).allowed)
    return found


def audience_of(request: HTTPConnection) -> Audience:
    """Who is scanning: the battery-passport audience the access layer set, and the operations allowed."""
    principal = principal_of(request)
    role = str(getattr(request.state, "passport_role", "public"))
    return Audience(role, _operations(principal))


def raw_path(scope: Scope) -> str:
    """The request path as sent (percent-encoding kept: a serial may hold an encoded ``/``)."""
    raw: bytes | None = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else str(scope["path"])
    root_path = str(scope.get("root_path", ""))
    return path[len(root_path):] if root_path and path.startswith(root_path) else path


def _origin(scope: Scope, host: str) -> str:
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}"


def _reply(answer: Answer) -> Response:
    return Response(content=answer.body or b"", status_code=answer.status, headers=dict(answer.headers()),
                    media_type=answer.media_type)


def register_primary_key_convertor() -> None:
    """Let routes match ``{ai:gs1primary}`` (done when routes are built, never at import)."""
    ais = list(vocabulary().description["supportedPrimaryKeys"])
    register_url_convertor(PRIMARY_KEY_CONVERTOR, _primary_key_convertor(ais))


def resolver_router() -> APIRouter:
    """The resolver's routes."""
    register_primary_key_convertor()
    router = APIRouter(tags=["GS1 resolver"])

    @router.get("/.well-known/gs1resolver", summary="The GS1 resolver description file.")
    def description(request: Request) -> Response:
        """Name, root, primary keys and link type namespace (GS1-Conformant Resolver Standard 1.2.0)."""
        service: ResolverService = request.app.state.roadpass.resolver
        return JsonResponse(service.description(str(request.base_url)))

    @router.get(f"/{{ai:{PRIMARY_KEY_CONVERTOR}}}/{{rest:path}}", summary="Resolve a GS1 Digital Link URI.")
    def resolve(request: Request, ai: str, rest: str, linkType: str | None = None) -> Response:
        """307 to the default link or the ``linkType`` asked for; the linkset for ``linkType=linkset`` or
        ``Accept: application/linkset+json``; 400 naming the malformed part; 404 when nothing is known."""
        service: ResolverService = request.app.state.roadpass.resolver
        path = raw_path(request.scope)
        try:
            languages = accept_languages(request.headers.get("accept-language"))
            answer = service.answer(path, audience_of(request), str(request.base_url), link_type=linkType,
                                    accept=request.headers.get("accept"), languages=languages)
        except ScanError as exc:
            return problem(400, f"not a valid GS1 Digital Link URI: {exc}", part=exc.part, reason=exc.reason,
                           uri=path)
        except NotResolved as exc:
            return problem(404, str(exc), uri=path)
        return _reply(answer)

    return router


class ResolverDoor:
    """Anonymous scans answered at the door from the resolver's cache (the QR-scan hot path).

    A request without credentials is the anonymous principal; its audience is fixed by the settings and
    decided once here with the same rule table. Only an answer computed before and provably current (the
    store's change probe) is sent; anything else goes through the route above, which computes and caches.
    """

    def __init__(self, roadpass: Roadpass, app: FastAPI) -> None:
        self.service = roadpass.resolver
        self.app = app
        principal = ANONYMOUS if roadpass.settings.auth_enabled else OPEN
        self.audience: Audience | None = None
        if decide(principal, Op.PUBLIC).allowed:
            self.audience = Audience(roadpass.access.passport_role(principal), _operations(principal))
        self.first_segments = frozenset(f"/{ai}/" for ai in vocabulary().description["supportedPrimaryKeys"])
        self._keys: dict[tuple[Any, ...], object] = {}

    def _key(self, scope: Scope) -> tuple[Any, ...] | None:
        """The answer key of a request without credentials (memoised on the raw request facts it uses)."""
        accept = language = host = None
        for name, value in scope["headers"]:
            if name in _CREDENTIALS:
                return None
            if name == b"accept":
                accept = value
            elif name == b"accept-language":
                language = value
            elif name == b"host":
                host = value
        query: bytes = scope.get("query_string") or b""
        # Other query parameters (data attributes, passportId) do not change the answer.
        link_query = query if b"linkType" in query else b""
        facts = (scope.get("raw_path") or scope["path"], scope.get("root_path", ""), link_query, accept, language,
                 host)
        key = self._keys.get(facts, _UNKNOWN)
        if key is _UNKNOWN:
            key = self._compute_key(scope, link_query, accept, language, host)
            if len(self._keys) >= _KEY_MEMO:
                self._keys.clear()
            self._keys[facts] = key
        return key  # type: ignore[return-value]

    def _compute_key(self, scope: Scope, query: bytes, accept: bytes | None, language: bytes | None,
                     host: bytes | None) -> tuple[Any, ...] | None:
        if host is None or self.audience is None:
            return None
        link_type = None
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if name == "linkType":
                link_type = value
        try:
            return self.service.answer_key(
                raw_path(scope), self.audience, _origin(scope, host.decode("latin-1")), link_type=link_type,
                accept=accept.decode("latin-1") if accept is not None else None,
                languages=accept_languages(language.decode("latin-1") if language is not None else None))
        except ScanError:
            return None

    async def __call__(self, scope: MutableMapping[str, Any], send: Send) -> bool:
        """Answer the request and return True, or return False and leave it to the application."""
        if scope["method"] != "GET":
            return False
        path: str = scope["path"]
        head = path[: path.find("/", 1) + 1]
        if head not in self.first_segments:
            return False
        key = self._key(scope)
        answer = None if key is None else self.service.cached_answer(key)
        if answer is None:
            return False
        await send({"type": "http.response.start", "status": answer.status, "headers": answer.asgi_headers})
        await send({"type": "http.response.body", "body": answer.body or b""})
        return True
