"""Access persistence: :class:`SqlAccessRecords`, the access feature's records on an open connection.

Parties, users, API keys and sessions are here; shares, mandates, denials and the home page's figures
come from :class:`roadpass.store.access_shares.SqlShareRecords`. Every write is ledgered; nothing commits
(see :mod:`roadpass.store.uow`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from roadpass.access.model import ApiKeyInfo, Party, User
from roadpass.store import access_tables as a
from roadpass.store import tables as t
from roadpass.store.access_shares import SqlShareRecords, change, insert, ledgered, now_us, party_of
from roadpass.store.parties import upsert_party

__all__ = ["SqlAccessRecords"]


def _user(row: Any) -> User:
    return User(int(row.id), int(row.party_id), row.email, row.name, bool(row.party_admin), row.disabled_at is not None)


def _key(row: Any) -> ApiKeyInfo:
    return ApiKeyInfo(
        int(row.id), row.key_id, int(row.party_id), None if row.user_id is None else int(row.user_id), row.name,
        int(row.created_at), int(row.expires_at), None if row.revoked_at is None else int(row.revoked_at),
    )


class SqlAccessRecords(SqlShareRecords):
    """:class:`roadpass.access.ports.AccessRecords` on an open connection."""

    # --- parties ------------------------------------------------------------------------------------

    def party_by_key(self, key: str) -> Party | None:
        """The party with this key."""
        row = self.conn.execute(select(t.party).where(t.party.c.key == key)).first()
        return None if row is None else party_of(row)

    def _party_by_id(self, party_id: int) -> Party | None:
        row = self.conn.execute(select(t.party).where(t.party.c.id == party_id)).first()
        return None if row is None else party_of(row)

    def parties(self, *, role: str | None = None) -> list[Party]:
        """Every party (optionally of one role), by name."""
        query = select(t.party).order_by(t.party.c.name)
        if role:
            query = query.where(t.party.c.role == role)
        return [party_of(r) for r in self.conn.execute(query)]

    def save_party(
        self, *, actor: str, key: str, name: str, role: str, country: str, region: str | None, gcp: str | None
    ) -> Party:
        """Create the party or update it where it differs (ledgered when it changes)."""
        return upsert_party(self.conn, actor=actor, key=key, name=name, role=role, country=country, region=region,
                            gcp=gcp)

    # --- users --------------------------------------------------------------------------------------

    def user_by_email(self, email: str) -> tuple[User, str, Party] | None:
        """The user with this email, its password hash and its party."""
        row = self.conn.execute(select(a.app_user).where(a.app_user.c.email == email)).first()
        if row is None:
            return None
        party = self._party_by_id(int(row.party_id))
        return None if party is None else (_user(row), str(row.password_hash), party)

    def add_user(
        self, *, actor: str, party_id: int, email: str, name: str, password_hash: str, party_admin: bool
    ) -> User:
        """Store a new user and ledger it (the hash is in no ledgered column)."""
        user_id = insert(
            self.conn, a.app_user, party_id=party_id, email=email, name=name, party_admin=int(party_admin),
            password_hash=password_hash, created_at=now_us(), actor=actor,
        )
        ledgered(self.conn, actor, "user.create", "app_user", user_id)
        return User(user_id, party_id, email, name, party_admin)

    def users(self, *, party_id: int | None = None) -> list[tuple[User, Party]]:
        """Users with their parties (optionally of one party), by email."""
        query = select(a.app_user).order_by(a.app_user.c.email)
        if party_id is not None:
            query = query.where(a.app_user.c.party_id == party_id)
        by_id = {p.id: p for p in self.parties()}
        rows = self.conn.execute(query)
        return [(_user(row), by_id[int(row.party_id)]) for row in rows if int(row.party_id) in by_id]

    def set_password(self, *, actor: str, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (ledgered as an ``access_change``, the hash itself is not)."""
        self.conn.execute(a.app_user.update().where(a.app_user.c.id == user_id).values(password_hash=password_hash))
        change(self.conn, actor, "app_user", user_id, "password")

    def set_user_disabled(self, *, actor: str, user_id: int, disabled: bool) -> None:
        """Disable (or enable again) a user (ledgered as an ``access_change``)."""
        self.conn.execute(
            a.app_user.update().where(a.app_user.c.id == user_id).values(disabled_at=now_us() if disabled else None)
        )
        change(self.conn, actor, "app_user", user_id, "disable" if disabled else "enable")

    def _user_by_id(self, user_id: int) -> User | None:
        row = self.conn.execute(select(a.app_user).where(a.app_user.c.id == user_id)).first()
        return None if row is None else _user(row)

    # --- API keys -----------------------------------------------------------------------------------

    def add_api_key(
        self, *, actor: str, key_id: str, secret_hash: str, party_id: int, name: str, expires_at: int,
        user_id: int | None, webhook_secret: str | None = None,
    ) -> ApiKeyInfo:
        """Store a new key (its hash only, and for a webhook key the key itself) and ledger it."""
        created = now_us()
        row_id = insert(
            self.conn, a.api_key, key_id=key_id, party_id=party_id, user_id=user_id, name=name,
            secret_hash=secret_hash, created_at=created, expires_at=expires_at, actor=actor,
            webhook_secret=webhook_secret,
        )
        ledgered(self.conn, actor, "api_key.create", "api_key", row_id)
        return ApiKeyInfo(row_id, key_id, party_id, user_id, name, created, expires_at)

    def api_key(self, key_id: str) -> tuple[ApiKeyInfo, str, Party, User | None] | None:
        """The key, its stored hash, its party and (for a user's key) its user."""
        row = self.conn.execute(select(a.api_key).where(a.api_key.c.key_id == key_id)).first()
        if row is None:
            return None
        party = self._party_by_id(int(row.party_id))
        if party is None:
            return None
        user = None if row.user_id is None else self._user_by_id(int(row.user_id))
        return _key(row), str(row.secret_hash), party, user

    def webhook_secrets(self, at: int) -> list[str]:
        """The live (unrevoked, unexpired) webhook keys."""
        k = a.api_key
        rows = self.conn.execute(select(k.c.webhook_secret).where(
            k.c.webhook_secret.is_not(None), k.c.revoked_at.is_(None), k.c.expires_at > at))
        return [str(r.webhook_secret) for r in rows]

    def api_keys(self, *, party_id: int | None = None) -> list[ApiKeyInfo]:
        """Keys (never their secrets), newest first."""
        query = select(a.api_key).order_by(a.api_key.c.id.desc())
        if party_id is not None:
            query = query.where(a.api_key.c.party_id == party_id)
        return [_key(r) for r in self.conn.execute(query)]

    def revoke_api_key(self, *, actor: str, key_id: str) -> ApiKeyInfo | None:
        """Mark a key revoked now (None if unknown); a key revoked already stays as it was."""
        row = self.conn.execute(select(a.api_key).where(a.api_key.c.key_id == key_id)).first()
        if row is None:
            return None
        if row.revoked_at is None:
            self.conn.execute(a.api_key.update().where(a.api_key.c.id == row.id).values(revoked_at=now_us()))
            change(self.conn, actor, "api_key", int(row.id), "revoke")
        return _key(self.conn.execute(select(a.api_key).where(a.api_key.c.id == row.id)).one())

    # --- sessions -----------------------------------------------------------------------------------

    def start_session(self, *, actor: str, user_id: int, token_hash: str, expires_at: int) -> int:
        """Store a session (the cookie value only as its hash); ledgered as a sign-in."""
        session_id = insert(
            self.conn, a.user_session, token_hash=token_hash, user_id=user_id, created_at=now_us(),
            expires_at=expires_at,
        )
        ledgered(self.conn, actor, "session.start", "user_session", session_id)
        return session_id

    def live_session(self, token_hash: str, at: int) -> tuple[int, User, Party] | None:
        """The session with this token hash, neither ended nor expired at ``at``: its id, user and party."""
        s = a.user_session
        row = self.conn.execute(
            select(s.c.id, s.c.user_id).where(s.c.token_hash == token_hash, s.c.ended_at.is_(None), s.c.expires_at > at)
        ).first()
        if row is None:
            return None
        user = self._user_by_id(int(row.user_id))
        party = None if user is None else self._party_by_id(user.party_id)
        return None if user is None or party is None else (int(row.id), user, party)

    def end_session(self, *, actor: str, session_id: int) -> None:
        """Mark a session ended now (ledgered as an ``access_change``)."""
        self.conn.execute(a.user_session.update().where(a.user_session.c.id == session_id).values(ended_at=now_us()))
        change(self.conn, actor, "user_session", session_id, "sign_out")
