"""Secrets: passwords (argon2id), API keys and session tokens (kept only as SHA-256 digests), CSRF tokens.

API keys and session tokens carry 256 bits from :func:`secrets.token_urlsafe`, so a plain SHA-256 digest
is enough to store them (nothing to brute-force) and keeps the per-request check to one fast hash;
passwords are chosen by people, so they get a slow, salted, memory-hard hash (argon2id, RFC 9106).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "API_KEY_PREFIX",
    "NewApiKey",
    "csrf_token",
    "csrf_valid",
    "digest",
    "hash_password",
    "new_api_key",
    "new_session_token",
    "parse_api_key",
    "password_needs_rehash",
    "verify_password",
]

API_KEY_PREFIX = "rpk"
_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly made key: ``token`` is shown once; only ``key_id`` and ``secret_hash`` are stored."""

    key_id: str
    token: str
    secret_hash: str


def digest(token: str) -> str:
    """SHA-256 hex digest of a high-entropy token (API key or session token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_api_key() -> NewApiKey:
    """``rpk_<key id>_<secret>``: the key id (public, for look-up and listing) and 256 secret bits."""
    key_id = secrets.token_hex(6)
    token = f"{API_KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewApiKey(key_id, token, digest(token))


def parse_api_key(token: str) -> str | None:
    """The key id of a well-formed API key, else None (so garbage never reaches the database)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 12 or len(parts[2]) < 32:
        return None
    return parts[1]


def new_session_token() -> str:
    """A session cookie value (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted, encoded with its parameters)."""
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``; never raises on a wrong or malformed hash."""
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)


def csrf_token(secret_key: str, binding: str) -> str:
    """A CSRF token bound to a session (or a pre-sign-in cookie): HMAC-SHA256 under the server's key."""
    return hmac.new(secret_key.encode(), b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()[:40]


def csrf_valid(secret_key: str, binding: str, presented: str | None) -> bool:
    """Constant-time check of a presented CSRF token."""
    return bool(presented) and hmac.compare_digest(csrf_token(secret_key, binding), str(presented))
