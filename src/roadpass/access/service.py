"""The access service: who is calling (API keys, sessions), sign-in and sign-out, denied requests, the
home page's figures.

Resolving a principal costs a few statements (key or session, party, shares, mandate), so resolved
principals are kept for ``auth_cache_seconds``: the hot path is then one SHA-256 and a dict look-up.
Every change this process makes to keys, users, sessions or shares clears the cache at once; other
processes see it within twice the cache time (an expired entry is refreshed in the background while it
goes on answering, so that a crowd of requests never queues behind look-ups).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from roadpass.access.credentials import (
    csrf_token,
    digest,
    hash_password,
    new_session_token,
    parse_api_key,
    password_needs_rehash,
    verify_password,
)
from roadpass.access.model import Caller, Party, PartyRole, Principal, User, now_us
from roadpass.access.overview import Overview, overview
from roadpass.access.policy import Decision, Op, passport_role, visibility_for
from roadpass.access.ports import AccessRecords
from roadpass.ports import Transactions
from roadpass.settings import Settings
from roadpass.trace.query import Visibility

__all__ = ["OPEN", "AccessService", "Refused", "SignInFailed", "SignedIn"]

#: The principal of every request when authorisation is switched off (benchmarks only).
OPEN = Principal(via="open")

# A well-formed password hash to verify against when the email is unknown, so that a wrong email and a
# wrong password take the same time (no user enumeration by timing).
_DUMMY_HASH: list[str] = []


class SignInFailed(Exception):
    """Wrong email or password, or a disabled user (deliberately not saying which)."""


class Refused(Exception):
    """The policy refused the caller (the denial is ledgered) or the object is unknown (nothing to ledger);
    ``decision.status`` is 403, or 404 where the object's existence is not the caller's to know."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(decision.reason)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session: ``token`` goes into the cookie (and nowhere else)."""

    token: str
    principal: Principal
    expires_at: int


def _markets(records: AccessRecords, party: Party) -> list[str]:
    """The markets an authority surveys: its mandate, or without one recorded, its own country."""
    if party.role != PartyRole.AUTHORITY:
        return []
    return records.mandate(party.id) or [party.country]


class AccessService:
    """Authenticates callers and answers who they are; one per container (built in :mod:`roadpass.bootstrap`)."""

    def __init__(self, records: Transactions[AccessRecords], settings: Settings) -> None:
        self.records = records
        self.settings = settings
        self._lock = threading.Lock()
        # key id -> (fresh until, usable until (monotonic), SHA-256 of the whole key, principal or None)
        self._keys: dict[str, tuple[float, float, str, Principal | None]] = {}
        # session token hash -> (fresh until, usable until, principal or None)
        self._sessions: dict[str, tuple[float, float, Principal | None]] = {}
        # (fresh until, the live webhook keys): checked against each signed delivery's GS1-Signature
        self._webhooks: tuple[float, list[str]] | None = None
        self._refreshing: set[str] = set()
        self._refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="roadpass-auth-refresh")
        self._passport_roles: dict[str, str] = {}  # party role -> passport audience (settings are fixed)

    # --- principals -------------------------------------------------------------------------------

    def _principal(self, records: AccessRecords, party: Party, *, user: User | None = None,
                   key_id: str | None = None, via: str = "api_key", session_id: int | None = None,
                   csrf: str | None = None) -> Principal:
        """The principal of a party's user or key, with its visibility computed now."""
        now = now_us()
        held = records.shares_held(party.id, now)
        return Principal(
            party=party, user=user.email if user and via == "session" else None, key_id=key_id, via=via,
            party_admin=bool(user and user.party_admin), user_id=user.id if user else None, session_id=session_id,
            csrf=csrf, visibility=visibility_for(party, held, _markets(records, party), now),
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
        with self.records.read() as records:
            found = records.api_key(key_id)
            now = now_us()
            principal: Principal | None = None
            secret_hash = ""
            if found is not None:
                info, secret_hash, party, user = found
                if info.active(now) and not (user is not None and user.disabled):
                    principal = self._principal(records, party, user=user, key_id=key_id)
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
        """The principal of a live session of an enabled user; None if unknown, ended or expired."""
        cached = self.cached_session(token)
        if cached is not False:
            return cached
        return self._load_session(token)

    def _load_session(self, token: str) -> Principal | None:
        token_hash = digest(token)
        principal: Principal | None = None
        with self.records.read() as records:
            found = records.live_session(token_hash, now_us())
            if found is not None and not found[1].disabled:
                session_id, user, party = found
                principal = self._principal(
                    records, party, user=user, via="session", session_id=session_id,
                    csrf=csrf_token(self.settings.secret_key, token_hash),
                )
        ttl = self.settings.auth_cache_seconds
        at = time.monotonic()
        with self._lock:
            self._sessions[token_hash] = (at + ttl, at + 2 * ttl, principal)
        return principal

    def close(self) -> None:
        """Stop the background refresher (the container is closing)."""
        self._refresher.shutdown(wait=False, cancel_futures=True)

    def forget(self) -> None:
        """Drop every cached principal (after any change to keys, users, sessions, shares or mandates)."""
        with self._lock:
            self._keys.clear()
            self._sessions.clear()
            self._webhooks = None

    def principal_for_signature(self, body: bytes, signature: str) -> Principal | None:
        """The principal of the webhook key whose HMAC-SHA256 of ``body`` is ``signature`` (hex; EPCIS 2.0
        REST bindings ``GS1-Signature``, as roadpass and other repositories sign subscription deliveries);
        None when no live webhook key signed it."""
        now = time.monotonic()
        cached = self._webhooks
        if cached is None or cached[0] < now:
            with self.records.read() as records:
                cached = self._webhooks = (now + self.settings.auth_cache_seconds, records.webhook_secrets(now_us()))
        presented = signature.strip().lower()
        for secret in cached[1]:
            expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, presented):
                return self.principal_for_key(secret)
        return None

    def passport_role(self, principal: Principal) -> str:
        """The caller's battery-passport audience (``request.state.passport_role``)."""
        role = self._passport_roles.get(principal.role)
        if role is None:
            role = passport_role(principal, self.settings.passport_legitimate_interest_roles)
            self._passport_roles[principal.role] = role
        return role

    # --- who is who ---------------------------------------------------------------------------------

    def parties(self, *, role: str | None = None) -> list[Party]:
        """The parties on this node (optionally of one role), by name."""
        with self.records.read() as records:
            return records.parties(role=role)

    def party(self, key: str) -> Party | None:
        """The party with this key, if any."""
        with self.records.read() as records:
            return records.party_by_key(key)

    def party_visibility(self, key: str) -> Visibility:
        """What party ``key`` may see now (its shares and mandate as they stand): subscriptions deliver under
        it at delivery time. A party that no longer exists sees nothing."""
        with self.records.read() as records:
            party = records.party_by_key(key)
            if party is None:
                return Visibility()
            now = now_us()
            return visibility_for(party, records.shares_held(party.id, now), _markets(records, party), now)

    def overview(self, principal: Principal) -> Overview:
        """What ``principal``'s party must act on (the home page), every figure inside its own scope."""
        with self.records.read() as records:
            return overview(records, principal, now_us())

    # --- sign-in ------------------------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> SignedIn:
        """Check the password and open a session (ledgered); :class:`SignInFailed` otherwise."""
        with self.records.read() as records:
            found = records.user_by_email(email.strip().lower())
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
        expires_at = now_us() + int(self.settings.session_hours * 3600e6)
        actor = f"party:{party.key}/user:{user.email}"
        with self.records.write() as records:
            session_id = records.start_session(actor=actor, user_id=user.id, token_hash=token_hash,
                                               expires_at=expires_at)
            if password_needs_rehash(stored_hash):
                records.set_password(actor=actor, user_id=user.id, password_hash=hash_password(password))
            principal = self._principal(
                records, party, user=user, via="session", session_id=session_id,
                csrf=csrf_token(self.settings.secret_key, token_hash),
            )
        return SignedIn(token, principal, expires_at)

    def sign_out(self, principal: Principal) -> None:
        """End the principal's session (ledgered)."""
        if principal.session_id is None:
            return
        with self.records.write() as records:
            records.end_session(actor=principal.actor, session_id=principal.session_id)
        self.forget()

    # --- denials ------------------------------------------------------------------------------------

    def record_denial(self, principal: Principal, *, operation: str, method: str, path: str, status: int,
                      reason: str) -> int:
        """Write a denied request to the ledger; returns the entry's sequence number."""
        with self.records.write() as records:
            return records.record_denial(
                actor=principal.actor, operation=operation, method=method, path=path, status=status, reason=reason,
            )

    def refuse(self, caller: Caller, op: Op, decision: Decision) -> Refused:
        """Ledger a per-object denial and return the :class:`Refused` to raise."""
        self.record_denial(caller.principal, operation=op.value, method=caller.method, path=caller.path,
                           status=decision.status, reason=decision.reason or decision.rule)
        return Refused(decision)
