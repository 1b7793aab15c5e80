"""Battery passports as Asset Administration Shells: the AAS Part 2 V3.0 HTTP/REST subset a reader needs.

``GET /shells``, ``GET /shells/{aasIdentifier}``, ``GET /submodels``, ``GET /submodels/{submodelIdentifier}``
and ``GET /submodels/{submodelIdentifier}/$value`` (AAS Part 2 V3.0, AAS Repository and Submodel Repository
APIs, profile "read"). IDTA-01002-3 HTTP/REST API, design decisions: identifiers in paths are
base64url-encoded (RFC 4648 §5) and "shall not contain or end with the = character" (roadpass also
accepts them padded); ``?semanticId=`` is a Reference serialised to JSON, then base64url-encoded (a bare
encoded IRI is accepted too). Pagination: ``limit`` (default 100) and ``cursor``, answered as the
``Result`` object (``{"paging_metadata": {"cursor"}, "result": [...]}``; no cursor: the last page; an
empty cursor is refused, AASa-001). Errors are RFC 7807
bodies that also carry the specification's ``messages`` (``code``, ``messageType``, ``text``,
``timestamp``), so both kinds of client read them.

What a caller sees is its role's passport view (Reg. (EU) 2023/1542 Art. 77(2)): the public reader's
submodels lack the legitimate-interest and authority attributes, exactly as ``GET /passports/{id}``.

The Product Condition import is ``POST /passports/{passportId}/aas/product-condition`` on roadpass's own
namespace, not ``PUT /submodels/{id}``: the specification's PUT replaces the submodel whose identifier is
in the path (the body's ``id`` must equal it), whereas a BMS vendor's submodel carries the vendor's own
identifier, and roadpass never replaces dynamic data: each value is appended to the passport's history.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request
from fastapi.responses import Response
from starlette.types import Scope, Send

from roadpass.access.model import ANONYMOUS
from roadpass.access.policy import Op, decide
from roadpass.access.service import OPEN
from roadpass.api.deps import ActorDep
from roadpass.api.responses import JsonResponse, ProblemResponse, problem
from roadpass.api.routes.passports import caller_role
from roadpass.bootstrap import Roadpass
from roadpass.passport.aas.product_condition import ConditionRefused
from roadpass.passport.aas.service import AasNotFound, AasService, BadCursor, decode_id
from roadpass.passport.access import Role
from roadpass.passport.domain import PassportCeased
from roadpass.passport.service import PassportNotFound

__all__ = ["PublicSubmodelReads", "router"]

router = APIRouter(tags=["Asset Administration Shell"])
RoleDep = Annotated[Role, Depends(caller_role)]
Limit = Annotated[int, Query(ge=1, le=500, description="page size (AAS Part 2 V3.0 paging)")]
Cursor = Annotated[str | None, Query(description="the cursor of the previous page's paging_metadata")]
_JSON = "application/json"


def aas_problem(status: int, text: str, code: str, **extra: Any) -> ProblemResponse:
    """An RFC 7807 body carrying the AAS Part 2 V3.0 ``Result.messages`` too."""
    message = {"code": code, "messageType": "Error", "text": text,
               "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
    return problem(status, text, messages=[message], **extra)


def _service(request: Request) -> AasService:
    aas: AasService = request.app.state.roadpass.aas
    return aas


def _identifier(segment: str, parameter: str) -> str | ProblemResponse:
    try:
        return decode_id(segment)
    except ValueError as exc:
        return aas_problem(400, str(exc), "400", parameter=parameter)


def _reference_value(decoded: str) -> str:
    """The first key's value of a JSON-serialised Reference, or the text itself (a bare IRI)."""
    try:
        reference = json.loads(decoded)
    except ValueError:
        return decoded
    try:
        return str(reference["keys"][0]["value"])
    except (KeyError, IndexError, TypeError):
        return decoded


@router.get("/shells", summary="Every battery passport's Asset Administration Shell (paged).")
def get_shells(
    request: Request, role: RoleDep, limit: Limit = 100, cursor: Cursor = None,
    id_short: Annotated[str | None, Query(alias="idShort", description="GetAllAssetAdministrationShellsByIdShort")]
    = None,
) -> Response:
    """The shells, newest passport first, ``limit`` per page (AAS Part 2 V3.0 GetAllAssetAdministrationShells)."""
    if id_short is not None and id_short != "BatteryPassport":  # every passport's shell has this idShort
        return JsonResponse({"paging_metadata": {}, "result": []})
    try:
        page = _service(request).shells(role, limit=limit, cursor=cursor)
    except BadCursor as exc:
        return aas_problem(400, str(exc), "400", parameter="cursor")
    return JsonResponse(page.to_json())


@router.get("/shells/{aas_identifier}", summary="One passport's Asset Administration Shell.")
def get_shell(aas_identifier: str, request: Request, role: RoleDep) -> Response:
    """The shell (base64url-encoded identifier) with references to its seven IDTA 02035 submodels."""
    identifier = _identifier(aas_identifier, "aasIdentifier")
    if isinstance(identifier, Response):
        return identifier
    try:
        return Response(_service(request).shell_json(identifier, role), media_type=_JSON)
    except AasNotFound as exc:
        return aas_problem(404, str(exc), "404")


@router.get("/submodels", summary="Every passport's IDTA 02035 submodels (paged).")
def get_submodels(
    request: Request, role: RoleDep, limit: Limit = 100, cursor: Cursor = None,
    id_short: Annotated[str | None, Query(alias="idShort", description="one part, e.g. ProductCondition")] = None,
    semantic_id: Annotated[str | None, Query(alias="semanticId", description="base64url-encoded")] = None,
) -> Response:
    """The submodels as the caller's role may see them (AAS Part 2 V3.0 GetAllSubmodels)."""
    semantic = None
    if semantic_id is not None:
        decoded = _identifier(semantic_id, "semanticId")
        if isinstance(decoded, Response):
            return decoded
        semantic = _reference_value(decoded)
    try:
        page = _service(request).submodels(role, limit=limit, cursor=cursor, id_short=id_short, semantic_id=semantic)
    except BadCursor as exc:
        return aas_problem(400, str(exc), "400", parameter="cursor")
    return JsonResponse(page.to_json())


@router.get("/submodels/{submodel_identifier}", summary="One IDTA 02035 submodel of a passport.")
def get_submodel(submodel_identifier: str, request: Request, role: RoleDep) -> Response:
    """The submodel (base64url-encoded identifier) as the caller's role may see it."""
    identifier = _identifier(submodel_identifier, "submodelIdentifier")
    if isinstance(identifier, Response):
        return identifier
    try:
        return Response(_service(request).submodel_json(identifier, role), media_type=_JSON)
    except AasNotFound as exc:
        return aas_problem(404, str(exc), "404")


@router.get("/submodels/{submodel_identifier}/$value", summary="A submodel's values only.")
def get_submodel_value(submodel_identifier: str, request: Request, role: RoleDep) -> Response:
    """The ValueOnly serialisation (IDTA-01002-3 HTTP/REST API, design decisions: Content="Value" is the
    path suffix ``/$value``, an unnamed JSON object): ``{idShort: value}``."""
    identifier = _identifier(submodel_identifier, "submodelIdentifier")
    if isinstance(identifier, Response):
        return identifier
    try:
        return Response(_service(request).submodel_value_json(identifier, role), media_type=_JSON)
    except AasNotFound as exc:
        return aas_problem(404, str(exc), "404")


@router.post("/passports/{passport_id}/aas/product-condition",
             summary="Record an IDTA 02035-5 Product Condition submodel as the passport's dynamic data.")
def post_product_condition(
    passport_id: str, request: Request, role: RoleDep, actor: ActorDep, document: Annotated[Any, Body()],
) -> Response:
    """A Product Condition submodel (or an AAS environment holding one) from another system; refused whole
    (422, each JSON path and reason) when invalid; recorded in the ledger."""
    if role is Role.PUBLIC:
        return aas_problem(403, "recording dynamic passport data needs a signed-in operator", "403")
    try:
        body = _service(request).import_product_condition(passport_id, document, actor=actor)
    except ConditionRefused as exc:
        return aas_problem(422, "Product Condition refused", "422", issues=exc.issues_json())
    except (AasNotFound, PassportNotFound) as exc:
        return aas_problem(404, str(exc), "404")
    except PassportCeased as exc:
        return aas_problem(409, str(exc), "409")
    return JsonResponse(body, status_code=201)


_PREFIX = "/submodels/"
_CREDENTIALS = (b"authorization", b"cookie")


class PublicSubmodelReads:
    """``GET /submodels/{id}`` by an anonymous caller, answered from the AAS service's remembered bodies.

    The same reasoning as :class:`roadpass.api.routes.passports.PublicPassportReads`: a request without
    credentials is the anonymous principal, so the rule table and the passport audience are decided once;
    anything else (credentials, a query string, a body not remembered or changed since) goes to the route.
    """

    def __init__(self, roadpass: Roadpass, app: FastAPI) -> None:
        self.roadpass = roadpass
        self.app = app
        principal = ANONYMOUS if roadpass.settings.auth_enabled else OPEN
        self.audience: Role | None = None
        if decide(principal, Op.PASSPORT_READ).allowed:
            self.audience = Role(roadpass.access.passport_role(principal))

    async def __call__(self, scope: Scope, send: Send) -> bool:
        """Answer the request and return True, or return False and leave it to the application."""
        if self.audience is None or scope["method"] != "GET" or scope.get("query_string"):
            return False
        path: str = scope["path"]
        if not path.startswith(_PREFIX):
            return False
        segment = path[len(_PREFIX):]
        if not segment or "/" in segment:
            return False
        for name, _ in scope["headers"]:
            if name in _CREDENTIALS:
                return False
        try:
            identifier = decode_id(segment)
        except ValueError:
            return False
        body = self.roadpass.aas.cached("submodel", identifier, self.audience)
        if body is None:
            return False
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return True
