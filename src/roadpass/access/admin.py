"""Managing parties, users, API keys, shares and mandates (used by the API, the CLI, the web UI, the demo).

These functions do what they are asked; whether the caller may ask is the policy's answer
(:mod:`roadpass.access.policy`), checked by the front end before calling. Every write is ledgered by the
store and clears the principal cache, so a revoked key or share stops working at once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from roadpass.access.credentials import NewApiKey, hash_password, new_api_key
from roadpass.access.model import ApiKeyInfo, Party, PartyRole, Share, ShareKind, User
from roadpass.store import access as store
from roadpass.store import access_shares as shares_store
from roadpass.store.parties import upsert_party
from roadpass.trace.identifiers import IdentifierError, canonical_id

if TYPE_CHECKING:
    from roadpass.bootstrap import Roadpass

__all__ = [
    "AdminError",
    "create_api_key",
    "create_party",
    "create_user",
    "disable_user",
    "grant_share",
    "revoke_api_key",
    "revoke_share",
    "set_mandate",
    "set_password",
    "share_target",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GTIN = re.compile(r"^\d{14}$")
_YEAR_9999 = 253_402_300_799_000_000  # 9999-12-31T23:59:59Z in microseconds


class AdminError(ValueError):
    """Bad input; ``field`` names it (the API answers 400/422 naming the field)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def _party(rp: Roadpass, key: str) -> Party:
    with rp.uow.read() as conn:
        party = store.party_by_key(conn, key)
    if party is None:
        raise AdminError("party", f"no party {key!r}")
    return party


def create_party(
    rp: Roadpass, *, actor: str, key: str, name: str, role: str, country: str, region: str | None = None,
    gcp: str | None = None,
) -> Party:
    """Create or update a party (ledgered)."""
    if role not in {r.value for r in PartyRole}:
        raise AdminError("role", f"must be one of {', '.join(r.value for r in PartyRole)}")
    if not re.fullmatch(r"[A-Za-z]{2}", country):
        raise AdminError("country", "must be an ISO 3166-1 alpha-2 code")
    if gcp is not None and not re.fullmatch(r"\d{4,12}", gcp):
        raise AdminError("gcp", "a GS1 company prefix is 4 to 12 digits")
    if not re.fullmatch(r"[a-z0-9][a-z0-9_.:-]{0,199}", key):
        raise AdminError("key", "lower-case letters, digits and _ . : - only")
    with rp.uow.write() as conn:
        row = upsert_party(conn, actor=actor, key=key, name=name, role=role, country=country, region=region, gcp=gcp)
    rp.access.forget()
    return Party(row.id, row.key, row.name, row.role, row.country, row.region, row.gcp)


def create_user(
    rp: Roadpass, *, actor: str, party_key: str, email: str, name: str, password: str, party_admin: bool = False,
) -> User:
    """Create a user of a party with an argon2id password hash (ledgered, the hash is not)."""
    if not _EMAIL.match(email.strip()):
        raise AdminError("email", "not an email address")
    if len(password) < 10:
        raise AdminError("password", "at least 10 characters")
    party = _party(rp, party_key)
    try:
        with rp.uow.write() as conn:
            return store.create_user(
                conn, actor=actor, party_id=party.id, email=email, name=name or email,
                password_hash=hash_password(password), party_admin=party_admin,
            )
    except ValueError as exc:
        raise AdminError("email", str(exc).split(": ", 1)[-1]) from exc


def set_password(rp: Roadpass, *, actor: str, email: str, password: str) -> None:
    """Give a user a new password (ledgered as a change, never the hash)."""
    if len(password) < 10:
        raise AdminError("password", "at least 10 characters")
    with rp.uow.write() as conn:
        found = store.user_by_email(conn, email)
        if found is None:
            raise AdminError("email", f"no user {email!r}")
        store.set_password(conn, actor=actor, user_id=found[0].id, password_hash=hash_password(password))
    rp.access.forget()


def disable_user(rp: Roadpass, *, actor: str, email: str, disabled: bool = True) -> None:
    """Disable (or enable) a user; its sessions and keys stop at once."""
    with rp.uow.write() as conn:
        found = store.user_by_email(conn, email)
        if found is None:
            raise AdminError("email", f"no user {email!r}")
        store.set_user_disabled(conn, actor=actor, user_id=found[0].id, disabled=disabled)
    rp.access.forget()


def create_api_key(
    rp: Roadpass, *, actor: str, party_id: int, name: str, days: int | None = None, user_id: int | None = None,
) -> tuple[NewApiKey, ApiKeyInfo]:
    """A new key for a machine client of a party; the token is returned once and never stored."""
    lifetime = rp.settings.api_key_days if days is None else days
    if not 1 <= lifetime <= 3650:
        raise AdminError("days", "between 1 and 3650")
    if not name.strip():
        raise AdminError("name", "say what the key is for")
    made = new_api_key()
    with rp.uow.write() as conn:
        info = store.create_api_key(
            conn, actor=actor, key_id=made.key_id, secret_hash=made.secret_hash, party_id=party_id,
            name=name.strip()[:200], expires_at=store.now_us() + lifetime * 86_400_000_000, user_id=user_id,
        )
    return made, info


def revoke_api_key(rp: Roadpass, *, actor: str, key_id: str) -> ApiKeyInfo | None:
    """Revoke a key (None if unknown); it stops working at once in this process."""
    with rp.uow.write() as conn:
        info = store.revoke_api_key(conn, actor=actor, key_id=key_id)
    rp.access.forget()
    return info


def share_target(rp: Roadpass, kind: ShareKind, target: str) -> str:
    """The canonical key (unit, lot) or key prefix (product) a share names; a VIN names its vehicle."""
    value = target.strip()
    if kind is ShareKind.PRODUCT:
        gtin = value.rsplit("/01/", 1)[-1].split("/", 1)[0] if value.startswith("http") else value
        if not _GTIN.match(gtin):
            raise AdminError("target", "a product is named by its GTIN-14 or its GS1 Digital Link URI")
        return f"https://id.gs1.org/01/{gtin}/"
    if kind is ShareKind.UNIT and len(value) == 17 and value.isalnum():
        from roadpass.trace.service import UnitNotFound

        try:
            return rp.trace.resolve(value).key
        except UnitNotFound as exc:
            raise AdminError("target", str(exc)) from exc
    try:
        key = canonical_id(value)
    except IdentifierError as exc:
        raise AdminError("target", str(exc)) from exc
    if kind is ShareKind.LOT and "/10/" not in key:
        raise AdminError("target", "a lot is named by a GS1 lot (LGTIN) identifier")
    return key


def grant_share(
    rp: Roadpass, *, actor: str, grantor: Party, grantee_key: str, kind: ShareKind, target_key: str, purpose: str,
    valid_until: int,
) -> Share:
    """Record a share of ``target_key`` (from :func:`share_target`) with another party."""
    grantee = _party(rp, grantee_key)
    if grantee.id == grantor.id:
        raise AdminError("grantee", "a party sees its own data already")
    if not purpose.strip():
        raise AdminError("purpose", "say what the data may be used for")
    if not store.now_us() < valid_until < _YEAR_9999:
        raise AdminError("validUntil", "must be in the future (and before the year 9999)")
    with rp.uow.write() as conn:
        share = shares_store.grant_share(
            conn, actor=actor, grantor_id=grantor.id, grantee_id=grantee.id, kind=kind, target=target_key,
            purpose=purpose.strip()[:300], valid_until=valid_until,
        )
    rp.access.forget()
    return share


def revoke_share(rp: Roadpass, *, actor: str, share_id: int) -> None:
    """End a share at once."""
    with rp.uow.write() as conn:
        shares_store.revoke_share(conn, actor=actor, share_id=share_id)
    rp.access.forget()


def set_mandate(rp: Roadpass, *, actor: str, party_key: str, markets: list[str]) -> list[str]:
    """Add markets to an authority's mandate (what it surveys)."""
    party = _party(rp, party_key)
    if party.role != PartyRole.AUTHORITY:
        raise AdminError("party", "only authorities hold a mandate")
    bad = [m for m in markets if not re.fullmatch(r"[A-Za-z]{2}", m.strip())]
    if bad:
        raise AdminError("markets", f"not ISO 3166-1 alpha-2: {', '.join(bad)}")
    with rp.uow.write() as conn:
        result = shares_store.set_mandate(conn, actor=actor, party_id=party.id, markets=markets)
    rp.access.forget()
    return result
