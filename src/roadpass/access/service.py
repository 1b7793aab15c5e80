"""The access service: who is calling (API keys, sessions), sign-in and sign-out, denied requests.

Resolving a principal costs a few statements (key or session, party, shares, mandate), so resolved
principals are kept for ``auth_cache_seconds``: the hot path is then one SHA-256 and a dict look-up.
Every change this process makes to keys, users, sessions or shares clears the cache at once; other
processes see it within twice the cache time (an expired entry is refreshed in the background while it
goes on answering, so that a crowd of requests never queues behind look-ups).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from roadpass.access.credentials import (
    csrf_token,
    digest,
    hash_password,
    new_session_token,
    parse_api_key,
    password_needs_rehash,
    verify_password,
)
from roadpass.access.model import Party, Principal, User
from roadpass.access.policy import passport_role, visibility_for
from roadpass.store import access as store
from roadpass.store import access_shares as shares_store

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from roadpass.settings import Settings
    from roadpass.store.uow import UnitOfWork

__all__ = ["OPEN", "AccessService", "SignInFailed", "SignedIn"]

#: The principal of every request when authorisation is switched off (benchmarks only).
OPEN = Principal(via="open")

# A well-formed password hash to verify against when the email is unknown, so that a wrong email and a
# wrong password take the same time (no user enumeration by timing).
_DUMMY_HASH: list[str] = []


class SignInFailed(Exception):
    """Wrong email or password, or a disabled user (deliberately not saying which)."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie (and nowhere else)."""

    token: str
    principal: Principal
    expires_at: int


class AccessService:
    """Authenticates callers and keeps the access tables; one per container (built in :mod:`roadpass.bootstrap`)."""

    def __init__(self, uow: UnitOfWork, settings: Settings) -> None:
        self.uow = uow
        self.settings = settings
        self._lock = threading.Lock()
        # key id -> (fresh until, usable until (monotonic), SHA-256 of the whole key, principal or None)
        self._keys: dict[str, tuple[float, float, str, Principal | None]] = {}
        # session token hash -> (fresh until, usable until, principal or None)
        self._sessions: dict[str, tuple[float, float, Principal | None]] = {}
        self._refreshing: set[str] = set()
        self._refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="roadpass-auth-refresh")
        self._passport_roles: dict[str, str] = {}  # party role -> passport audience (settings are fixed)

    # --- principals -------------------------------------------------------------------------------

    def principal_of(self, conn: Connection, party: Party, *, user: User | None = None, key_id: str | None = None,
                     via: str = "api_key", session_id: int | None = None, csrf: str | None = None) -> Principal:
        """The principal of a party's user or key, with its visibility computed now."""
        now = store.now_us()
        markets = shares_store.mandate_markets(conn, party.id)
        held = shares_store.active_shares_for(conn, party.id, now)
        return Principal(
            party=party, user=user.email if user and via == "session" else None, key_id=key_id, via=via,
            party_admin=bool(user and user.party_admin), user_id=user.id if user else None, session_id=session_id,
            csrf=csrf, visibility=visibility_for(party, held, markets, now),
        )

    def _stale(self, kind: str, cache_key: str, load: Callable[[], object]) -> None:
        """Refresh one expired cache entry in the background, at most one refresh per entry at a time.

        Until it lands, callers keep the entry they had (stale-while-revalidate): when many requests
        arrive as an entry expires, one database look-up runs instead of one per request.
        """
        flag = f"{kind}:{cache_key}"
        with self._lock:
            if flag in self._refreshing:
                return
            self._refreshing.add(flag)

        def run() -> None:
            try:
                load()
            finally:
                with self._lock:
                    self._refreshing.discard(flag)

        self._refresher.submit(run)

    def cached_key(self, token: str) -> Principal | Literal[False] | None:
        """The principal of an API key from the cache: a Principal, None (refused) or False (not cached).

        An entry past its ``auth_cache_seconds`` is still answered for as long again (never past the key's
        own expiry) while one background refresh looks it up anew.
        """
        key_id = parse_api_key(token)
        if key_id is None:
            return None
        hit = self._keys.get(key_id)
        now = time.monotonic()
        if hit is None or hit[1] < now:
            return False
        fresh_until, _hard_until, secret_hash, principal = hit
        if principal is None or not hmac.compare_digest(secret_hash, digest(token)):
            return None
        if fresh_until < now:
            self._stale("key", key_id, lambda: self._load_key(token))
        return principal

    def principal_for_key(self, token: str) -> Principal | None:
        """The principal an API key stands for; None for an unknown, wrong, revoked or expired key."""
        cached = self.cached_key(token)
        if cached is not False:
            return cached
        return self._load_key(token)

    def _load_key(self, token: str) -> Principal | None:
        key_id = parse_api_key(token)
        if key_id is None:
            return None
        ttl = self.settings.auth_cache_seconds
        hard = 2 * ttl
        with self.uow.read() as conn:
            found = store.api_key_by_key_id(conn, key_id)
            now = store.now_us()
            principal: Principal | None = None
            secret_hash = ""
            if found is not None:
                info, secret_hash, party, user = found
                if info.active(now) and not (user is not None and user.disabled):
                    principal = self.principal_of(conn, party, user=user, key_id=key_id)
                    hard = min(hard, (info.expires_at - now) / 1e6)
        at = time.monotonic()
        with self._lock:
            self._keys[key_id] = (at + min(ttl, hard), at + hard, secret_hash, principal)
        found_now = self.cached_key(token)
        return found_now or None

    def cached_session(self, token: str) -> Principal | Literal[False] | None:
        """The principal of a session cookie from the cache (see :meth:`cached_key`)."""
        token_hash = digest(token)
        hit = self._sessions.get(token_hash)
        now = time.monotonic()
        if hit is None or hit[1] < now:
            return False
        if hit[0] < now:
            self._stale("session", token_hash, lambda: self._load_session(token))
        return hit[2]

    def principal_for_session(self, token: str) -> Principal | None:
        """The principal of a live session; None if unknown, ended or expired."""
        cached = self.cached_session(token)
        if cached is not False:
            return cached
        return self._load_session(token)

    def _load_session(self, token: str) -> Principal | None:
        token_hash = digest(token)
        principal: Principal | None = None
        with self.uow.read() as conn:
            found = store.session_by_token_hash(conn, token_hash, store.now_us())
            if found is not None:
                session_id, user, party = found
                principal = self.principal_of(
                    conn, party, user=user, via="session", session_id=session_id,
                    csrf=csrf_token(self.settings.secret_key, token_hash),
                )
        ttl = self.settings.auth_cache_seconds
        at = time.monotonic()
        with self._lock:
            self._sessions[token_hash] = (at + ttl, at + 2 * ttl, principal)
        return principal

    def parties(self, *, role: str | None = None) -> list[Party]:
        """The parties on this node (optionally of one role), by key."""
        with self.uow.read() as conn:
            return store.parties(conn, role=role)

    def close(self) -> None:
        """Stop the background refresher (the container is closing)."""
        self._refresher.shutdown(wait=False, cancel_futures=True)

    def forget(self) -> None:
        """Drop every cached principal (after any change to keys, users, sessions, shares or mandates)."""
        with self._lock:
            self._keys.clear()
            self._sessions.clear()

    def passport_role(self, principal: Principal) -> str:
        """The caller's battery-passport audience (``request.state.passport_role``)."""
        role = self._passport_roles.get(principal.role)
        if role is None:
            role = passport_role(principal, self.settings.passport_legitimate_interest_roles)
            self._passport_roles[principal.role] = role
        return role

    # --- sign-in ------------------------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> SignedIn:
        """Check the password and open a session (ledgered); :class:`SignInFailed` otherwise."""
        with self.uow.read() as conn:
            found = store.user_by_email(conn, email)
        if found is None:
            if not _DUMMY_HASH:
                _DUMMY_HASH.append(hash_password("roadpass-timing-equaliser"))
            verify_password(_DUMMY_HASH[0], password)
            raise SignInFailed
        user, stored_hash, party = found
        if user.disabled or not verify_password(stored_hash, password):
            raise SignInFailed
        token = new_session_token()
        token_hash = digest(token)
        expires_at = store.now_us() + int(self.settings.session_hours * 3600e6)
        actor = f"party:{party.key}/user:{user.email}"
        with self.uow.write() as conn:
            session_id = store.start_session(conn, actor=actor, user_id=user.id, token_hash=token_hash,
                                             expires_at=expires_at)
            if password_needs_rehash(stored_hash):
                store.set_password(conn, actor=actor, user_id=user.id, password_hash=hash_password(password))
            principal = self.principal_of(
                conn, party, user=user, via="session", session_id=session_id,
                csrf=csrf_token(self.settings.secret_key, token_hash),
            )
        return SignedIn(token, principal, expires_at)

    def sign_out(self, principal: Principal) -> None:
        """End the principal's session (ledgered)."""
        if principal.session_id is None:
            return
        with self.uow.write() as conn:
            store.end_session(conn, actor=principal.actor, session_id=principal.session_id)
        self.forget()

    def record_denial(self, principal: Principal, *, operation: str, method: str, path: str, status: int,
                      reason: str) -> int:
        """Write a denied request to the ledger; returns the entry's sequence number."""
        with self.uow.write() as conn:
            entry = shares_store.record_denial(
                conn, actor=principal.actor, operation=operation, method=method, path=path, status=status,
                reason=reason,
            )
        return entry.seq
