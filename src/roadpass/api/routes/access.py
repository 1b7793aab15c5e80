"""Access over REST: sessions, parties, users, API keys and shares.

What the caller may do is decided by :mod:`roadpass.access.policy` (route operation first, then the
object: own party, owned keys); every write is ledgered by the store.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from roadpass.access.admin import AdminError
from roadpass.access.model import ApiKeyInfo, Party, Principal, Share, ShareKind
from roadpass.access.service import Refused, SignInFailed
from roadpass.api.access import SESSION_COOKIE, session_cookie
from roadpass.api.deps import AccessDep, AppDep
from roadpass.api.responses import problem
from roadpass.trace.timeutil import iso_utc, parse_time

__all__ = ["router"]

router = APIRouter(tags=["Access"])


class PartyOut(BaseModel):
    """A party (organisation)."""

    key: str
    name: str
    role: str
    country: str
    region: str | None = None
    gcp: str | None = Field(default=None, description="GS1 Company Prefix: the keys it owns")


class PartyIn(PartyOut):
    """A party to create or update."""

    model_config = ConfigDict(extra="forbid")


class Me(BaseModel):
    """Who the caller is."""

    signedIn: bool
    actor: str
    role: str
    party: PartyOut | None = None
    passportRole: str
    csrfToken: str | None = None


class SignInBody(BaseModel):
    """Email and password."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    password: str = Field(max_length=1000)


class UserOut(BaseModel):
    """A user (never its password)."""

    email: str
    name: str
    party: str
    partyAdmin: bool
    disabled: bool


class UserIn(BaseModel):
    """A user to create (in the caller's party unless the operator names another)."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254)
    name: str = Field(default="", max_length=200)
    password: str = Field(min_length=10, max_length=1000)
    party: str | None = None
    partyAdmin: bool = False


class KeyOut(BaseModel):
    """An API key as listed."""

    keyId: str
    party: str
    name: str
    createdAt: str
    expiresAt: str
    revokedAt: str | None = None


class NewKeyOut(KeyOut):
    """A new key: ``key`` is shown this once and never stored."""

    key: str


class KeyIn(BaseModel):
    """A key to make for the caller's party."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    days: int | None = Field(default=None, ge=1, le=3650)


class ShareOut(BaseModel):
    """A share (grant)."""

    id: int
    grantor: str
    grantee: str
    kind: ShareKind
    target: str
    purpose: str
    validUntil: str
    revokedAt: str | None = None


class ShareIn(BaseModel):
    """A share to grant: what (a VIN, EPC, Digital Link URI, lot or GTIN), to whom, why, until when."""

    model_config = ConfigDict(extra="forbid")
    grantee: str = Field(max_length=200)
    kind: ShareKind
    target: str = Field(max_length=300)
    purpose: str = Field(min_length=1, max_length=300)
    validUntil: str = Field(description="ISO 8601 date-time with offset", examples=["2027-01-01T00:00:00Z"])


def _party_out(p: Party) -> PartyOut:
    return PartyOut(key=p.key, name=p.name, role=p.role, country=p.country, region=p.region, gcp=p.gcp)


def _key_out(k: ApiKeyInfo, party: str) -> KeyOut:
    return KeyOut(keyId=k.key_id, party=party, name=k.name, createdAt=iso_utc(k.created_at),
                  expiresAt=iso_utc(k.expires_at), revokedAt=iso_utc(k.revoked_at) if k.revoked_at else None)


def _share_out(s: Share) -> ShareOut:
    return ShareOut(id=s.id, grantor=s.grantor, grantee=s.grantee, kind=s.kind, target=s.target, purpose=s.purpose,
                    validUntil=iso_utc(s.valid_until), revokedAt=iso_utc(s.revoked_at) if s.revoked_at else None)


def _refused(exc: Refused) -> Response:
    decision = exc.decision
    if decision.status == 404:
        return problem(404, "not found")
    return problem(decision.status, decision.reason, rule=decision.rule)


def _bad(exc: AdminError) -> Response:
    return problem(422, exc.reason, field=exc.field)


def me_json(principal: Principal, passport_role: str) -> Me:
    """The caller, as :class:`Me`."""
    return Me(signedIn=principal.signed_in, actor=principal.actor, role=principal.role,
              party=_party_out(principal.party) if principal.party else None, passportRole=passport_role,
              csrfToken=principal.csrf)


@router.post("/auth/session", summary="Sign in with email and password; sets the session cookie.",
             response_model=Me, responses={401: {"description": "wrong email or password"}})
async def sign_in(body: SignInBody, request: Request, app: AppDep) -> Any:
    """Open a session (ledgered). Write requests with the cookie must send ``X-CSRF-Token: csrfToken``."""
    service = app.access
    try:
        signed = await anyio.to_thread.run_sync(service.sign_in, body.email, body.password)
    except SignInFailed:
        return problem(401, "wrong email or password")
    response = Response(me_json(signed.principal, service.passport_role(signed.principal)).model_dump_json(),
                        media_type="application/json")
    session_cookie(response, request, signed.token, int(app.settings.session_hours * 3600))
    return response


@router.delete("/auth/session", status_code=204, summary="Sign out (ends the session).")
def sign_out(app: AppDep, access: AccessDep) -> Response:
    """End the caller's session; the cookie is cleared."""
    app.access.sign_out(access.principal)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/auth/me", summary="Who the caller is.", response_model=Me)
def who_am_i(request: Request, access: AccessDep) -> Me:
    """The caller's party, role, ledger actor and battery-passport audience."""
    return me_json(access.principal, str(getattr(request.state, "passport_role", "public")))


@router.get("/parties", summary="The parties on this node.", response_model=list[PartyOut])
def list_parties(app: AppDep, role: str | None = None) -> list[PartyOut]:
    """Every party (its key, name, role, country, region, company prefix), optionally of one role."""
    return [_party_out(p) for p in app.access.parties(role=role)]


@router.get("/parties/{key}", summary="One party.", response_model=PartyOut, responses={404: {}})
def get_party(key: str, app: AppDep) -> Any:
    """The party with this key."""
    party = app.access.party(key)
    return problem(404, f"no party {key!r}") if party is None else _party_out(party)


@router.post("/parties", status_code=201, summary="Create or update a party (operator).", response_model=PartyOut)
def put_party(body: PartyIn, app: AppDep, access: AccessDep) -> Any:
    """Register an organisation with its role, country, region and GS1 company prefix."""
    try:
        party = app.admin.create_party(actor=access.principal.actor, key=body.key, name=body.name, role=body.role,
                                       country=body.country, region=body.region, gcp=body.gcp)
    except AdminError as exc:
        return _bad(exc)
    return _party_out(party)


@router.get("/users", summary="Users of the caller's party (every user for the operator).",
            response_model=list[UserOut])
def list_users(app: AppDep, access: AccessDep) -> list[UserOut]:
    """Users (never their passwords)."""
    return [UserOut(email=u.email, name=u.name, party=p.key, partyAdmin=u.party_admin, disabled=u.disabled)
            for u, p in app.admin.users(party_id=access.party_scope)]


@router.post("/users", status_code=201, summary="Create a user (party administrators, operator).",
             response_model=UserOut)
def create_user(body: UserIn, app: AppDep, access: AccessDep) -> Any:
    """A person who signs in; their password is stored only as an argon2id hash."""
    try:
        user, party = app.admin.add_user_as(access.caller, party_key=body.party, email=body.email, name=body.name,
                                            password=body.password, party_admin=body.partyAdmin)
    except Refused as exc:
        return _refused(exc)
    except AdminError as exc:
        return _bad(exc)
    return UserOut(email=user.email, name=user.name, party=party.key, partyAdmin=user.party_admin, disabled=False)


@router.get("/keys", summary="API keys of the caller's party (never their secrets).", response_model=list[KeyOut])
def list_keys(app: AppDep, access: AccessDep) -> list[KeyOut]:
    """Keys with their expiry and revocation."""
    return [_key_out(k, party) for k, party in app.admin.api_keys(party_id=access.party_scope)]


@router.post("/keys", status_code=201, summary="Create an API key for the caller's party (shown once).",
             response_model=NewKeyOut)
def create_key(body: KeyIn, app: AppDep, access: AccessDep) -> Any:
    """A machine client's key: ``Authorization: Bearer <key>``. Only its SHA-256 is kept."""
    try:
        made, info, party = app.admin.create_api_key_as(access.principal, name=body.name, days=body.days)
    except AdminError as exc:
        return _bad(exc)
    return NewKeyOut(key=made.token, **_key_out(info, party.key).model_dump())


@router.delete("/keys/{key_id}", status_code=204, summary="Revoke an API key (at once).",
               responses={404: {"description": "no such key of yours"}})
def revoke_key(key_id: str, app: AppDep, access: AccessDep) -> Response:
    """Revoke one of the party's keys; it stops working immediately."""
    try:
        app.admin.revoke_api_key_as(access.caller, key_id)
    except Refused as exc:
        return _refused(exc)
    return Response(status_code=204)


@router.get("/shares", summary="Shares the caller's party granted or holds.", response_model=list[ShareOut])
def list_shares(app: AppDep, access: AccessDep) -> list[ShareOut]:
    """Grants to and from the caller's party (every grant for the operator)."""
    return [_share_out(s) for s in app.admin.shares(party_id=access.party_scope)]


@router.post("/shares", status_code=201, summary="Share units, a lot or a product with another party.",
             response_model=ShareOut)
def grant(body: Annotated[ShareIn, Body()], app: AppDep, access: AccessDep) -> Any:
    """A share is explicit: to one party, for named units/lots/products, for a purpose, until a date."""
    try:
        until = parse_time(body.validUntil, "validUntil")
    except ValueError as exc:
        return problem(422, str(exc), field="validUntil")
    try:
        share = app.admin.share_as(access.caller, grantee_key=body.grantee, kind=body.kind, target=body.target,
                                   purpose=body.purpose, valid_until=until)
    except Refused as exc:
        return _refused(exc)
    except AdminError as exc:
        return _bad(exc)
    return _share_out(share)


@router.delete("/shares/{share_id}", status_code=204, summary="End a share (at once).", responses={404: {}})
def end_share(share_id: int, app: AppDep, access: AccessDep) -> Response:
    """Only the granting party ends a share."""
    try:
        app.admin.revoke_share_as(access.caller, share_id)
    except Refused as exc:
        return _refused(exc)
    return Response(status_code=204)
