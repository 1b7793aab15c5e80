"""In-memory :class:`roadpass.access.ports.AccessRecords` and :class:`roadpass.ports.Transactions`, so that the
access services can be tested without a database (the SQL implementation is held to the same tests
through the HTTP API)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from roadpass.access.model import ApiKeyInfo, Party, Share, ShareKind, User
from roadpass.access.ports import Tally


def _now() -> int:
    return time.time_ns() // 1000


@dataclass
class Unit:
    """A stored unit as the home page's figures see it."""

    key: str
    vin: str | None = None
    kind: int = 1
    market: str | None = None


@dataclass
class Denial:
    """A kept denied request."""

    actor: str
    operation: str
    method: str
    path: str
    status: int
    reason: str
    at: int


@dataclass
class FakeAccessRecords:
    """Every access table as lists and dicts; ``ledger`` names each write as the store would ledger it."""

    parties_: dict[int, Party] = field(default_factory=dict)
    users_: dict[int, tuple[User, str]] = field(default_factory=dict)
    keys_: dict[str, tuple[ApiKeyInfo, str]] = field(default_factory=dict)
    webhooks_: dict[str, str] = field(default_factory=dict)  # key id -> the webhook key itself
    sessions_: dict[int, tuple[str, int, int, int | None]] = field(default_factory=dict)
    shares_: dict[int, tuple[Share, int, int]] = field(default_factory=dict)
    mandates: dict[int, list[str]] = field(default_factory=dict)
    denials: list[Denial] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # business locations of recorded events
    ledger: list[tuple[str, str]] = field(default_factory=list)

    # parties
    def party_by_key(self, key: str) -> Party | None:
        return next((p for p in self.parties_.values() if p.key == key), None)

    def parties(self, *, role: str | None = None) -> list[Party]:
        return sorted((p for p in self.parties_.values() if role is None or p.role == role), key=lambda p: p.name)

    def save_party(
        self, *, actor: str, key: str, name: str, role: str, country: str, region: str | None, gcp: str | None
    ) -> Party:
        found = self.party_by_key(key)
        party = Party(found.id if found else len(self.parties_) + 1, key, name, role, country, region, gcp)
        if party != found:
            self.parties_[party.id] = party
            self.ledger.append((actor, "party.update" if found else "party.create"))
        return party

    # users
    def user_by_email(self, email: str) -> tuple[User, str, Party] | None:
        for user, password_hash in self.users_.values():
            if user.email == email:
                return user, password_hash, self.parties_[user.party_id]
        return None

    def add_user(
        self, *, actor: str, party_id: int, email: str, name: str, password_hash: str, party_admin: bool
    ) -> User:
        user = User(len(self.users_) + 1, party_id, email, name, party_admin)
        self.users_[user.id] = (user, password_hash)
        self.ledger.append((actor, "user.create"))
        return user

    def users(self, *, party_id: int | None = None) -> list[tuple[User, Party]]:
        found = [u for u, _ in self.users_.values() if party_id is None or u.party_id == party_id]
        return [(u, self.parties_[u.party_id]) for u in sorted(found, key=lambda u: u.email)]

    def set_password(self, *, actor: str, user_id: int, password_hash: str) -> None:
        self.users_[user_id] = (self.users_[user_id][0], password_hash)
        self.ledger.append((actor, "app_user.password"))

    def set_user_disabled(self, *, actor: str, user_id: int, disabled: bool) -> None:
        user, password_hash = self.users_[user_id]
        self.users_[user_id] = (replace(user, disabled=disabled), password_hash)
        self.ledger.append((actor, "app_user.disable" if disabled else "app_user.enable"))

    # API keys
    def add_api_key(
        self, *, actor: str, key_id: str, secret_hash: str, party_id: int, name: str, expires_at: int,
        user_id: int | None, webhook_secret: str | None = None,
    ) -> ApiKeyInfo:
        info = ApiKeyInfo(len(self.keys_) + 1, key_id, party_id, user_id, name, _now(), expires_at)
        self.keys_[key_id] = (info, secret_hash)
        if webhook_secret is not None:
            self.webhooks_[key_id] = webhook_secret
        self.ledger.append((actor, "api_key.create"))
        return info

    def webhook_secrets(self, at: int) -> list[str]:
        return [secret for key_id, secret in self.webhooks_.items()
                if self.keys_[key_id][0].active(at)]

    def api_key(self, key_id: str) -> tuple[ApiKeyInfo, str, Party, User | None] | None:
        if key_id not in self.keys_:
            return None
        info, secret_hash = self.keys_[key_id]
        user = self.users_[info.user_id][0] if info.user_id is not None else None
        return info, secret_hash, self.parties_[info.party_id], user

    def api_keys(self, *, party_id: int | None = None) -> list[ApiKeyInfo]:
        found = [k for k, _ in self.keys_.values() if party_id is None or k.party_id == party_id]
        return sorted(found, key=lambda k: -k.id)

    def revoke_api_key(self, *, actor: str, key_id: str) -> ApiKeyInfo | None:
        if key_id not in self.keys_:
            return None
        info, secret_hash = self.keys_[key_id]
        if info.revoked_at is None:
            info = replace(info, revoked_at=_now())
            self.keys_[key_id] = (info, secret_hash)
            self.ledger.append((actor, "api_key.revoke"))
        return info

    # sessions
    def start_session(self, *, actor: str, user_id: int, token_hash: str, expires_at: int) -> int:
        session_id = len(self.sessions_) + 1
        self.sessions_[session_id] = (token_hash, user_id, expires_at, None)
        self.ledger.append((actor, "session.start"))
        return session_id

    def live_session(self, token_hash: str, at: int) -> tuple[int, User, Party] | None:
        for session_id, (stored, user_id, expires_at, ended_at) in self.sessions_.items():
            if stored == token_hash and ended_at is None and expires_at > at:
                user = self.users_[user_id][0]
                return session_id, user, self.parties_[user.party_id]
        return None

    def end_session(self, *, actor: str, session_id: int) -> None:
        token_hash, user_id, expires_at, _ = self.sessions_[session_id]
        self.sessions_[session_id] = (token_hash, user_id, expires_at, _now())
        self.ledger.append((actor, "user_session.sign_out"))

    # shares and mandates
    def grant_share(
        self, *, actor: str, grantor_id: int, grantee_id: int, kind: ShareKind, target: str, purpose: str,
        valid_until: int,
    ) -> Share:
        share = Share(len(self.shares_) + 1, self.parties_[grantor_id].key, self.parties_[grantee_id].key, kind,
                      target, purpose, valid_until, _now())
        self.shares_[share.id] = (share, grantor_id, grantee_id)
        self.ledger.append((actor, "share.grant"))
        return share

    def share(self, share_id: int) -> tuple[Share, int] | None:
        found = self.shares_.get(share_id)
        return None if found is None else (found[0], found[1])

    def revoke_share(self, *, actor: str, share_id: int) -> None:
        share, grantor_id, grantee_id = self.shares_[share_id]
        self.shares_[share_id] = (replace(share, revoked_at=share.revoked_at or _now()), grantor_id, grantee_id)
        self.ledger.append((actor, "share.revoke"))

    def shares(self, *, party_id: int | None = None) -> list[Share]:
        found = [s for s, g, h in self.shares_.values() if party_id is None or party_id in (g, h)]
        return sorted(found, key=lambda s: -s.id)

    def shares_held(self, grantee_id: int, at: int) -> list[Share]:
        return [s for s, _, h in self.shares_.values() if h == grantee_id and s.active(at)]

    def mandate(self, party_id: int) -> list[str]:
        return sorted(self.mandates.get(party_id, []))

    def add_mandate_market(self, *, actor: str, party_id: int, market: str) -> None:
        self.mandates.setdefault(party_id, []).append(market)
        self.ledger.append((actor, "mandate.add"))

    # denials
    def record_denial(
        self, *, actor: str, operation: str, method: str, path: str, status: int, reason: str
    ) -> int:
        self.denials.append(Denial(actor, operation, method, path, status, reason, _now()))
        self.ledger.append((actor, "access.denied"))
        return len(self.ledger)

    def denials_since(self, actor_prefix: str, since: int) -> int:
        return sum(1 for d in self.denials if d.actor.startswith(actor_prefix) and d.at > since)

    def keys_expiring(self, after: int, before: int) -> int:
        return sum(1 for k, _ in self.keys_.values() if k.revoked_at is None and after < k.expires_at < before)

    # units and events
    def _under(self, prefixes: Sequence[str], vehicles: bool) -> list[Unit]:
        out: list[Unit] = []
        for prefix in prefixes:
            out += sorted((u for u in self.units if u.key.startswith(prefix)
                           and (u.vin is not None if vehicles else u.kind == 2)), key=lambda u: u.key)
        return out

    def vehicles_under(self, prefixes: Sequence[str], sample: int) -> Tally:
        found = self._under(prefixes, vehicles=True)
        return Tally(len(found), [str(u.vin) for u in found[:sample]])

    def lots_under(self, prefixes: Sequence[str], sample: int) -> Tally:
        found = self._under(prefixes, vehicles=False)
        return Tally(len(found), [u.key for u in found[:sample]])

    def vins_of(self, keys: Sequence[str]) -> list[str]:
        wanted = set(keys)
        return [str(u.vin) for u in sorted(self.units, key=lambda u: u.key) if u.key in wanted and u.vin]

    def vehicles_on_markets(self, markets: Sequence[str], sample: int) -> Tally:
        found = [u for u in sorted(self.units, key=lambda u: u.key) if u.vin and u.market in markets]
        return Tally(len(found), [str(u.vin) for u in found[:sample]])

    def vehicle_keys(self, market: str) -> list[str]:
        return sorted(u.key for u in self.units if u.vin and u.market == market)

    def events_at(self, location_prefixes: Sequence[str]) -> int:
        return sum(1 for e in self.events if e.startswith(tuple(location_prefixes)))


@dataclass(frozen=True)
class FoundUnit:
    """A unit as the fake trace feature resolves it."""

    key: str


@dataclass
class FakeUnits:
    """The trace feature's VIN look-up: ``known`` maps VINs to unit keys."""

    known: dict[str, str] = field(default_factory=dict)

    def resolve(self, identifier: str) -> FoundUnit:
        if identifier not in self.known:
            raise LookupError(f"no unit is known as {identifier!r}")
        return FoundUnit(self.known[identifier])
