"""Managing parties, users, API keys, shares and mandates (used by the API, the CLI, the web UI, the demo).

Two kinds of method: the plain ones (``create_party``, ``grant_share``, …) do what a trusted caller asks
(the node's shell user, the demo, tests) under the actor it names; the ``…_as`` ones take the calling
:class:`~roadpass.access.model.Caller`, ask the policy about the object first and raise
:class:`~roadpass.access.service.Refused` (the denial ledgered) when it says no. Every write is ledgered
by the store and clears the principal cache, so a revoked key or share stops working at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from roadpass.access.credentials import NewApiKey, hash_password, new_api_key
from roadpass.access.model import ApiKeyInfo, Caller, Party, PartyRole, Principal, Share, ShareKind, User, now_us
from roadpass.access.policy import Decision, Effect, Op, decide_own, decide_share, effect, owns_key
from roadpass.access.ports import AccessRecords, Units
from roadpass.access.service import AccessService, Refused
from roadpass.ports import Transactions
from roadpass.settings import Settings
from roadpass.trace.identifiers import IdentifierError, canonical_id

__all__ = ["AccountView", "AdminError", "AdminService"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GTIN = re.compile(r"^\d{14}$")
_COUNTRY = re.compile(r"[A-Za-z]{2}")  # ISO 3166-1 alpha-2
_YEAR_9999 = 253_402_300_799_000_000  # 9999-12-31T23:59:59Z in microseconds
_DAY_US = 86_400_000_000


class AdminError(ValueError):
    """Bad input; ``field`` names it (the API answers 400/422 naming the field)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


@dataclass(frozen=True, slots=True)
class AccountView:
    """What the account page lists: the other parties, and the keys (with their party's key), shares and
    users the caller may see."""

    parties: list[Party]
    keys: list[tuple[ApiKeyInfo, str]]
    shares: list[Share]
    users: list[tuple[User, Party]]


def _party(records: AccessRecords, key: str) -> Party:
    party = records.party_by_key(key)
    if party is None:
        raise AdminError("party", f"no party {key!r}")
    return party


def _password(password: str) -> str:
    if len(password) < 10:
        raise AdminError("password", "at least 10 characters")
    return hash_password(password)


class AdminService:
    """Administration of the access tables; one per container (built in :mod:`roadpass.bootstrap`)."""

    def __init__(self, records: Transactions[AccessRecords], access: AccessService, units: Units,
                 settings: Settings) -> None:
        self.records = records
        self.access = access
        self.units = units
        self.settings = settings

    # --- parties ------------------------------------------------------------------------------------

    def create_party(self, *, actor: str, key: str, name: str, role: str, country: str, region: str | None = None,
                     gcp: str | None = None) -> Party:
        """Create or update a party (ledgered)."""
        if role not in {r.value for r in PartyRole}:
            raise AdminError("role", f"must be one of {', '.join(r.value for r in PartyRole)}")
        if not _COUNTRY.fullmatch(country):
            raise AdminError("country", "must be an ISO 3166-1 alpha-2 code")
        if gcp is not None and not re.fullmatch(r"\d{4,12}", gcp):
            raise AdminError("gcp", "a GS1 company prefix is 4 to 12 digits")
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.:-]{0,199}", key):
            raise AdminError("key", "lower-case letters, digits and _ . : - only")
        with self.records.write() as records:
            party = records.save_party(actor=actor, key=key, name=name, role=role, country=country.upper(),
                                       region=region, gcp=gcp)
        self.access.forget()
        return party

    def set_mandate(self, *, actor: str, party_key: str, markets: list[str]) -> list[str]:
        """Add markets to an authority's mandate (what it surveys); the ones it has are kept."""
        bad = [m for m in markets if not _COUNTRY.fullmatch(m.strip())]
        with self.records.write() as records:
            party = _party(records, party_key)
            if party.role != PartyRole.AUTHORITY:
                raise AdminError("party", "only authorities hold a mandate")
            if bad:
                raise AdminError("markets", f"not ISO 3166-1 alpha-2: {', '.join(bad)}")
            have = set(records.mandate(party.id))
            for market in sorted({m.strip().upper() for m in markets} - have):
                records.add_mandate_market(actor=actor, party_id=party.id, market=market)
            result = records.mandate(party.id)
        self.access.forget()
        return result

    # --- users --------------------------------------------------------------------------------------

    def create_user(self, *, actor: str, party_key: str, email: str, name: str, password: str,
                    party_admin: bool = False) -> User:
        """Create a user of a party with an argon2id password hash (ledgered, the hash is not)."""
        email = email.strip().lower()
        if not _EMAIL.match(email):
            raise AdminError("email", "not an email address")
        password_hash = _password(password)
        with self.records.write() as records:
            party = _party(records, party_key)
            if records.user_by_email(email) is not None:
                raise AdminError("email", f"{email!r} is already registered")
            return records.add_user(actor=actor, party_id=party.id, email=email, name=name or email,
                                    password_hash=password_hash, party_admin=party_admin)

    def add_user_as(self, caller: Caller, *, party_key: str | None, email: str, name: str, password: str,
                    party_admin: bool = False) -> tuple[User, Party]:
        """Create a user in the caller's party (or, for the operator, the party named) if the caller is one
        of its administrators; :class:`Refused` otherwise."""
        own = caller.principal.party
        key = party_key or (own.key if own else "")
        party = self.access.party(key)
        if party is None:
            raise AdminError("party", f"no party {key!r}")
        decision = decide_own(caller.principal, Op.USERS_WRITE, party.id, needs_admin=True)
        if not decision.allowed:
            raise self.access.refuse(caller, Op.USERS_WRITE, decision)
        user = self.create_user(actor=caller.principal.actor, party_key=party.key, email=email, name=name,
                                password=password, party_admin=party_admin)
        return user, party

    def set_password(self, *, actor: str, email: str, password: str) -> None:
        """Give a user a new password (ledgered as a change, never the hash)."""
        password_hash = _password(password)
        with self.records.write() as records:
            found = records.user_by_email(email.strip().lower())
            if found is None:
                raise AdminError("email", f"no user {email!r}")
            records.set_password(actor=actor, user_id=found[0].id, password_hash=password_hash)
        self.access.forget()

    def disable_user(self, *, actor: str, email: str, disabled: bool = True) -> None:
        """Disable (or enable) a user; its sessions and keys stop at once."""
        with self.records.write() as records:
            found = records.user_by_email(email.strip().lower())
            if found is None:
                raise AdminError("email", f"no user {email!r}")
            records.set_user_disabled(actor=actor, user_id=found[0].id, disabled=disabled)
        self.access.forget()

    def users(self, *, party_id: int | None = None) -> list[tuple[User, Party]]:
        """Users with their parties (optionally of one party), by email."""
        with self.records.read() as records:
            return records.users(party_id=party_id)

    # --- API keys -----------------------------------------------------------------------------------

    def create_api_key(self, *, actor: str, party_id: int, name: str, days: int | None = None,
                       user_id: int | None = None, webhook: bool = False) -> tuple[NewApiKey, ApiKeyInfo]:
        """A new key for a machine client of a party; the token is returned once and never stored.

        A ``webhook`` key is for another EPCIS repository that delivers a query subscription into this
        node's ``/capture``: the sender signs each delivery with it (its ``signatureToken``, REST bindings
        ``GS1-Signature``) instead of presenting it, so this node keeps the key itself to check signatures."""
        lifetime = self.settings.api_key_days if days is None else days
        if not 1 <= lifetime <= 3650:
            raise AdminError("days", "between 1 and 3650")
        if not name.strip():
            raise AdminError("name", "say what the key is for")
        made = new_api_key()
        with self.records.write() as records:
            info = records.add_api_key(
                actor=actor, key_id=made.key_id, secret_hash=made.secret_hash, party_id=party_id,
                name=name.strip()[:200], expires_at=now_us() + lifetime * _DAY_US, user_id=user_id,
                webhook_secret=made.token if webhook else None,
            )
        self.access.forget()
        return made, info

    def create_api_key_as(self, principal: Principal, *, name: str, days: int | None = None
                          ) -> tuple[NewApiKey, ApiKeyInfo, Party]:
        """A new key of the principal's party, made by (and tied to) the principal's user."""
        party = principal.party
        if party is None:
            raise AdminError("party", "only a party's users and clients make keys")
        made, info = self.create_api_key(actor=principal.actor, party_id=party.id, name=name, days=days,
                                         user_id=principal.user_id)
        return made, info, party

    def revoke_api_key(self, *, actor: str, key_id: str) -> ApiKeyInfo | None:
        """Revoke a key (None if unknown); it stops working at once in this process."""
        with self.records.write() as records:
            info = records.revoke_api_key(actor=actor, key_id=key_id)
        self.access.forget()
        return info

    def revoke_api_key_as(self, caller: Caller, key_id: str) -> None:
        """Revoke one of the caller's party's keys (any key for the operator); :class:`Refused` otherwise."""
        with self.records.read() as records:
            found = records.api_key(key_id)
        if found is None:
            raise Refused(Decision(False, 404, Effect.OWN, Op.KEYS_WRITE.value, "no such key"))
        decision = decide_own(caller.principal, Op.KEYS_WRITE, found[0].party_id)
        if not decision.allowed:
            raise self.access.refuse(caller, Op.KEYS_WRITE, decision)
        self.revoke_api_key(actor=caller.principal.actor, key_id=key_id)

    def api_keys(self, *, party_id: int | None = None) -> list[tuple[ApiKeyInfo, str]]:
        """Keys (never their secrets) with their party's key, newest first."""
        with self.records.read() as records:
            names = {p.id: p.key for p in records.parties()}
            return [(k, names.get(k.party_id, "")) for k in records.api_keys(party_id=party_id)]

    # --- shares -------------------------------------------------------------------------------------

    def share_target(self, kind: ShareKind, target: str) -> str:
        """The canonical key (unit, lot) or key prefix (product) a share names; a VIN names its vehicle."""
        value = target.strip()
        if kind is ShareKind.PRODUCT:
            gtin = value.rsplit("/01/", 1)[-1].split("/", 1)[0] if value.startswith("http") else value
            if not _GTIN.match(gtin):
                raise AdminError("target", "a product is named by its GTIN-14 or its GS1 Digital Link URI")
            return f"https://id.gs1.org/01/{gtin}/"
        if kind is ShareKind.UNIT and len(value) == 17 and value.isalnum():
            try:
                return self.units.resolve(value).key
            except LookupError as exc:
                raise AdminError("target", str(exc)) from exc
        try:
            key = canonical_id(value)
        except IdentifierError as exc:
            raise AdminError("target", str(exc)) from exc
        if kind is ShareKind.LOT and "/10/" not in key:
            raise AdminError("target", "a lot is named by a GS1 lot (LGTIN) identifier")
        return key

    def grant_share(self, *, actor: str, grantor: Party, grantee_key: str, kind: ShareKind, target_key: str,
                    purpose: str, valid_until: int) -> Share:
        """Record a share of ``target_key`` (from :meth:`share_target`) with another party."""
        with self.records.write() as records:
            grantee = _party(records, grantee_key)
            if grantee.id == grantor.id:
                raise AdminError("grantee", "a party sees its own data already")
            if not purpose.strip():
                raise AdminError("purpose", "say what the data may be used for")
            if not now_us() < valid_until < _YEAR_9999:
                raise AdminError("validUntil", "must be in the future (and before the year 9999)")
            share = records.grant_share(
                actor=actor, grantor_id=grantor.id, grantee_id=grantee.id, kind=kind, target=target_key,
                purpose=purpose.strip()[:300], valid_until=valid_until,
            )
        self.access.forget()
        return share

    def share_as(self, caller: Caller, *, grantee_key: str, kind: ShareKind, target: str, purpose: str,
                 valid_until: int) -> Share:
        """Share what the caller's party owns (named as in :meth:`share_target`); :class:`Refused` otherwise."""
        party = caller.principal.party
        if party is None:
            raise AdminError("grantor", "only a party shares")
        key = self.share_target(kind, target)
        decision = decide_share(caller.principal, key)
        if not decision.allowed:
            raise self.access.refuse(caller, Op.SHARES_WRITE, decision)
        return self.grant_share(actor=caller.principal.actor, grantor=party, grantee_key=grantee_key, kind=kind,
                                target_key=key, purpose=purpose, valid_until=valid_until)

    def share_owned(self, *, actor: str, grantor_key: str, grantee_key: str, kind: ShareKind, target: str,
                    purpose: str, valid_until: int) -> Share:
        """Share, for a trusted caller acting for ``grantor_key``, what that party owns (nothing else)."""
        grantor = self.access.party(grantor_key)
        if grantor is None:
            raise AdminError("grantor", f"no party {grantor_key!r}")
        key = self.share_target(kind, target)
        if not owns_key(Principal(party=grantor), key):
            raise AdminError("target", f"{grantor_key} does not own {key}")
        return self.grant_share(actor=actor, grantor=grantor, grantee_key=grantee_key, kind=kind, target_key=key,
                                purpose=purpose, valid_until=valid_until)

    def share_market_vehicles(self, *, actor: str, grantor: Party, grantee_key: str, market: str, purpose: str,
                              valid_until: int) -> int:
        """Share every vehicle on ``market`` with another party, one share each; returns how many."""
        with self.records.read() as records:
            keys = records.vehicle_keys(market)
        for key in keys:
            self.grant_share(actor=actor, grantor=grantor, grantee_key=grantee_key, kind=ShareKind.UNIT,
                             target_key=key, purpose=purpose, valid_until=valid_until)
        return len(keys)

    def revoke_share(self, *, actor: str, share_id: int) -> None:
        """End a share at once."""
        with self.records.write() as records:
            records.revoke_share(actor=actor, share_id=share_id)
        self.access.forget()

    def revoke_share_as(self, caller: Caller, share_id: int) -> None:
        """End a share the caller's party granted; :class:`Refused` otherwise."""
        with self.records.read() as records:
            found = records.share(share_id)
        if found is None:
            raise Refused(Decision(False, 404, Effect.OWN, Op.SHARES_WRITE.value, "no such share"))
        decision = decide_own(caller.principal, Op.SHARES_WRITE, found[1])
        if not decision.allowed:
            raise self.access.refuse(caller, Op.SHARES_WRITE, decision)
        self.revoke_share(actor=caller.principal.actor, share_id=share_id)

    def shares(self, *, party_id: int | None = None) -> list[Share]:
        """Shares a party granted or holds (every share for None), newest first."""
        with self.records.read() as records:
            return records.shares(party_id=party_id)

    # --- the account page ---------------------------------------------------------------------------

    def account(self, principal: Principal) -> AccountView:
        """The other parties, and the keys, shares and users of the principal's party (every party's where
        the rule table lets its role read them all: the operator)."""
        party = principal.party
        sees_all = effect(Op.KEYS_READ, principal.role) is Effect.ALLOW
        scope = None if sees_all else (party.id if party else -1)
        with self.records.read() as records:
            everyone = records.parties()
            names = {p.id: p.key for p in everyone}
            return AccountView(
                parties=[p for p in everyone if party is None or p.id != party.id],
                keys=[(k, names.get(k.party_id, "")) for k in records.api_keys(party_id=scope)],
                shares=records.shares(party_id=scope),
                users=records.users(party_id=scope),
            )
