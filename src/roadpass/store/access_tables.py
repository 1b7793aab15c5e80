"""Access tables (users, API keys, sessions, shares, mandates, denials), on the shared metadata.

What a ledger entry fixes never changes: a revocation, a disabled user, a new password or a sign-out is
an ``access_change`` row (ledgered) next to a mutable column that the hot path reads (``revoked_at``,
``disabled_at``, ``ended_at``, ``password_hash``), so verification never trips over a legitimate change.
Secrets are stored only as hashes. Times are integer microseconds since the epoch, UTC.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, SmallInteger, String, Table, Text, UniqueConstraint

from roadpass.store.tables import LEDGERED_COLUMNS, PK, metadata

__all__ = [
    "access_change",
    "access_denial",
    "api_key",
    "app_user",
    "authority_mandate",
    "share",
    "user_session",
]

app_user = Table(
    "app_user",
    metadata,
    Column("id", PK, primary_key=True),
    Column("party_id", ForeignKey("party.id"), nullable=False, index=True),
    Column("email", String(254), nullable=False, unique=True, comment="sign-in name, lower case"),
    Column("name", String(200), nullable=False),
    Column("party_admin", SmallInteger, nullable=False, comment="1: manages its party's users, keys, shares"),
    Column("password_hash", String(200), nullable=False, comment="argon2id; each change is an access_change"),
    Column("disabled_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
)

api_key = Table(
    "api_key",
    metadata,
    Column("id", PK, primary_key=True),
    Column("key_id", String(24), nullable=False, unique=True, comment="public part of the key"),
    Column("party_id", ForeignKey("party.id"), nullable=False, index=True),
    Column("user_id", ForeignKey("app_user.id"), nullable=True),
    Column("name", String(200), nullable=False),
    Column("secret_hash", String(64), nullable=False, comment="SHA-256 of the whole key (shown once)"),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column("actor", String(200), nullable=False),
    Column("webhook_secret", Text, nullable=True,
           comment="a webhook key: the key itself, to check GS1-Signature of deliveries it signs"),
)

user_session = Table(
    "user_session",
    metadata,
    Column("id", PK, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True, comment="SHA-256 of the cookie value"),
    Column("user_id", ForeignKey("app_user.id"), nullable=False, index=True),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
)

share = Table(
    "share",
    metadata,
    Column("id", PK, primary_key=True),
    Column("grantor_id", ForeignKey("party.id"), nullable=False, index=True),
    Column("grantee_id", ForeignKey("party.id"), nullable=False),
    Column("kind", String(10), nullable=False, comment="unit, lot or product"),
    Column("target", String(300), nullable=False, comment="canonical key, or a product's key prefix"),
    Column("purpose", String(300), nullable=False),
    Column("valid_until", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column("actor", String(200), nullable=False),
    Index("ix_share_grantee_id_valid_until", "grantee_id", "valid_until"),
)

authority_mandate = Table(
    "authority_mandate",
    metadata,
    Column("id", PK, primary_key=True),
    Column("party_id", ForeignKey("party.id"), nullable=False),
    Column("market", String(2), nullable=False, comment="ISO 3166-1 alpha-2 market it surveys"),
    Column("created_at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    UniqueConstraint("party_id", "market"),
)

access_change = Table(
    "access_change",
    metadata,
    Column("id", PK, primary_key=True),
    Column("subject_table", String(40), nullable=False),
    Column("subject_id", BigInteger, nullable=False),
    Column("change", String(40), nullable=False, comment="revoke, disable, enable, password, sign_out"),
    Column("at", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
)

access_denial = Table(
    "access_denial",
    metadata,
    Column("id", PK, primary_key=True),
    Column("actor", String(200), nullable=False),
    Column("operation", String(40), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("status", SmallInteger, nullable=False, comment="403, or 404 where existence is confidential"),
    Column("reason", String(300), nullable=False),
    Column("at", BigInteger, nullable=False),
)

LEDGERED_COLUMNS["app_user"] = ("id", "party_id", "email", "name", "party_admin", "created_at", "actor")
LEDGERED_COLUMNS["api_key"] = (
    "id", "key_id", "party_id", "user_id", "name", "secret_hash", "created_at", "expires_at", "actor",
)
LEDGERED_COLUMNS["user_session"] = ("id", "token_hash", "user_id", "created_at", "expires_at")
LEDGERED_COLUMNS["share"] = (
    "id", "grantor_id", "grantee_id", "kind", "target", "purpose", "valid_until", "created_at", "actor",
)
LEDGERED_COLUMNS["authority_mandate"] = ("id", "party_id", "market", "created_at", "actor")
LEDGERED_COLUMNS["access_change"] = ("id", "subject_table", "subject_id", "change", "at", "actor")
LEDGERED_COLUMNS["access_denial"] = ("id", "actor", "operation", "method", "path", "status", "reason", "at")
