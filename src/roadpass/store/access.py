"""Access persistence: parties by key, users, API keys and sessions; every write ledgered.

Helpers take the caller's open connection and never commit (see :mod:`roadpass.store.uow`).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, select

from roadpass.access.model import ApiKeyInfo, Party, User
from roadpass.ledger import LedgerDraft, LedgerEntry, Subject
from roadpass.store import access_tables as a
from roadpass.store import ledger as ledger_store
from roadpass.store import tables as t

__all__ = [
    "RULE",
    "api_key_by_key_id",
    "change",
    "create_api_key",
    "create_user",
    "end_session",
    "ledgered",
    "list_api_keys",
    "list_users",
    "now_us",
    "parties",
    "party_by_id",
    "party_by_key",
    "revoke_api_key",
    "session_by_token_hash",
    "set_password",
    "set_user_disabled",
    "start_session",
    "user_by_email",
]

RULE = "roadpass access policy (roadpass.access.policy)"


def now_us() -> int:
    """Now, in integer microseconds since the epoch (UTC)."""
    return time.time_ns() // 1000


def ledgered(conn: Connection, actor: str, action: str, table: str, row_id: int, rule: str = RULE) -> LedgerEntry:
    """Append a ledger entry fixing the ledgered columns of one row."""
    subjects = (Subject(table, "id", row_id),)
    return ledger_store.append(conn, LedgerDraft(actor, action, rule, subjects, ledger_store.rows_hash(conn, subjects)))


def _insert(conn: Connection, table: Any, **values: Any) -> int:
    result = conn.execute(table.insert().values(**values))
    return int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0


def change(conn: Connection, actor: str, table: str, row_id: int, what: str) -> LedgerEntry:
    """Record a change to a row (revoke, disable, password, sign_out) as a ledgered ``access_change``."""
    change_id = _insert(
        conn, a.access_change, subject_table=table, subject_id=row_id, change=what, at=now_us(), actor=actor
    )
    return ledgered(conn, actor, f"{table}.{what}", "access_change", change_id)


def _party(row: Any) -> Party:
    return Party(int(row.id), row.key, row.name, row.role, row.country, row.region, row.gcp)


def party_by_key(conn: Connection, key: str) -> Party | None:
    """The party with this key."""
    row = conn.execute(select(t.party).where(t.party.c.key == key)).first()
    return None if row is None else _party(row)


def party_by_id(conn: Connection, party_id: int) -> Party | None:
    """The party with this row id."""
    row = conn.execute(select(t.party).where(t.party.c.id == party_id)).first()
    return None if row is None else _party(row)


def parties(conn: Connection, *, role: str | None = None) -> list[Party]:
    """Every party (optionally of one role), by name."""
    query = select(t.party).order_by(t.party.c.name)
    if role:
        query = query.where(t.party.c.role == role)
    return [_party(r) for r in conn.execute(query)]


# --- users --------------------------------------------------------------------------------------------


def _user(row: Any) -> User:
    return User(int(row.id), int(row.party_id), row.email, row.name, bool(row.party_admin), row.disabled_at is not None)


def create_user(
    conn: Connection, *, actor: str, party_id: int, email: str, name: str, password_hash: str,
    party_admin: bool = False,
) -> User:
    """Create a user (email lower-cased); ``ValueError`` naming ``email`` if it is taken."""
    email = email.strip().lower()
    if conn.execute(select(a.app_user.c.id).where(a.app_user.c.email == email)).first() is not None:
        raise ValueError(f"email: {email!r} is already registered")
    user_id = _insert(
        conn, a.app_user, party_id=party_id, email=email, name=name, party_admin=int(party_admin),
        password_hash=password_hash, created_at=now_us(), actor=actor,
    )
    ledgered(conn, actor, "user.create", "app_user", user_id)
    return User(user_id, party_id, email, name, party_admin)


def user_by_email(conn: Connection, email: str) -> tuple[User, str, Party] | None:
    """The user, its password hash and its party."""
    row = conn.execute(select(a.app_user).where(a.app_user.c.email == email.strip().lower())).first()
    if row is None:
        return None
    party = party_by_id(conn, int(row.party_id))
    return None if party is None else (_user(row), str(row.password_hash), party)


def list_users(conn: Connection, *, party_id: int | None = None) -> list[tuple[User, Party]]:
    """Users with their parties (optionally of one party), by email."""
    query = select(a.app_user).order_by(a.app_user.c.email)
    if party_id is not None:
        query = query.where(a.app_user.c.party_id == party_id)
    by_id = {p.id: p for p in parties(conn)}
    return [(_user(row), by_id[int(row.party_id)]) for row in conn.execute(query) if int(row.party_id) in by_id]


def set_password(conn: Connection, *, actor: str, user_id: int, password_hash: str) -> None:
    """Replace a user's password hash (ledgered as an ``access_change``, the hash itself is not)."""
    conn.execute(a.app_user.update().where(a.app_user.c.id == user_id).values(password_hash=password_hash))
    change(conn, actor, "app_user", user_id, "password")


def set_user_disabled(conn: Connection, *, actor: str, user_id: int, disabled: bool) -> None:
    """Disable (or enable again) a user; its sessions and keys stop working at once."""
    conn.execute(
        a.app_user.update().where(a.app_user.c.id == user_id).values(disabled_at=now_us() if disabled else None)
    )
    change(conn, actor, "app_user", user_id, "disable" if disabled else "enable")


# --- API keys -----------------------------------------------------------------------------------------


def _key(row: Any) -> ApiKeyInfo:
    return ApiKeyInfo(
        int(row.id), row.key_id, int(row.party_id), None if row.user_id is None else int(row.user_id), row.name,
        int(row.created_at), int(row.expires_at), None if row.revoked_at is None else int(row.revoked_at),
    )


def create_api_key(
    conn: Connection, *, actor: str, key_id: str, secret_hash: str, party_id: int, name: str, expires_at: int,
    user_id: int | None = None,
) -> ApiKeyInfo:
    """Store a new key (its hash only) and ledger it."""
    created = now_us()
    row_id = _insert(
        conn, a.api_key, key_id=key_id, party_id=party_id, user_id=user_id, name=name, secret_hash=secret_hash,
        created_at=created, expires_at=expires_at, actor=actor,
    )
    ledgered(conn, actor, "api_key.create", "api_key", row_id)
    return ApiKeyInfo(row_id, key_id, party_id, user_id, name, created, expires_at)


def api_key_by_key_id(conn: Connection, key_id: str) -> tuple[ApiKeyInfo, str, Party, User | None] | None:
    """The key, its stored hash, its party and (for a user's key) its user."""
    row = conn.execute(select(a.api_key).where(a.api_key.c.key_id == key_id)).first()
    if row is None:
        return None
    party = party_by_id(conn, int(row.party_id))
    if party is None:
        return None
    user = None
    if row.user_id is not None:
        urow = conn.execute(select(a.app_user).where(a.app_user.c.id == row.user_id)).first()
        user = None if urow is None else _user(urow)
    return _key(row), str(row.secret_hash), party, user


def list_api_keys(conn: Connection, *, party_id: int | None = None) -> list[ApiKeyInfo]:
    """Keys (never their secrets), newest first."""
    query = select(a.api_key).order_by(a.api_key.c.id.desc())
    if party_id is not None:
        query = query.where(a.api_key.c.party_id == party_id)
    return [_key(r) for r in conn.execute(query)]


def revoke_api_key(conn: Connection, *, actor: str, key_id: str) -> ApiKeyInfo | None:
    """Revoke a key at once (None if unknown); revoking twice changes nothing."""
    row = conn.execute(select(a.api_key).where(a.api_key.c.key_id == key_id)).first()
    if row is None:
        return None
    if row.revoked_at is None:
        conn.execute(a.api_key.update().where(a.api_key.c.id == row.id).values(revoked_at=now_us()))
        change(conn, actor, "api_key", int(row.id), "revoke")
    return _key(conn.execute(select(a.api_key).where(a.api_key.c.id == row.id)).one())


# --- sessions -----------------------------------------------------------------------------------------


def start_session(conn: Connection, *, actor: str, user_id: int, token_hash: str, expires_at: int) -> int:
    """A new signed-in session (the cookie value is stored only as its hash); ledgered as a sign-in."""
    session_id = _insert(
        conn, a.user_session, token_hash=token_hash, user_id=user_id, created_at=now_us(), expires_at=expires_at
    )
    ledgered(conn, actor, "session.start", "user_session", session_id)
    return session_id


def session_by_token_hash(conn: Connection, token_hash: str, at: int) -> tuple[int, User, Party] | None:
    """The live session with this token hash at ``at``: its id, user and party (None if ended or expired)."""
    s = a.user_session
    row = conn.execute(
        select(s.c.id, s.c.user_id).where(s.c.token_hash == token_hash, s.c.ended_at.is_(None), s.c.expires_at > at)
    ).first()
    if row is None:
        return None
    urow = conn.execute(select(a.app_user).where(a.app_user.c.id == row.user_id)).first()
    if urow is None or urow.disabled_at is not None:
        return None
    party = party_by_id(conn, int(urow.party_id))
    return None if party is None else (int(row.id), _user(urow), party)


def end_session(conn: Connection, *, actor: str, session_id: int) -> None:
    """Sign out: the session stops working at once."""
    conn.execute(a.user_session.update().where(a.user_session.c.id == session_id).values(ended_at=now_us()))
    change(conn, actor, "user_session", session_id, "sign_out")
