"""What the access services need from persistence (implemented by :mod:`roadpass.store.access`) and from the
trace feature (a VIN's vehicle).

The store persists and reads; every rule (who may, which default applies, what is normalised) stays in
:mod:`roadpass.access.service` and :mod:`roadpass.access.admin`. Writes are ledgered by the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from roadpass.access.model import ApiKeyInfo, Party, Share, ShareKind, User

__all__ = ["AccessRecords", "Tally", "UnitRef", "Units"]


@dataclass(frozen=True, slots=True)
class Tally:
    """How many rows match, and the first few of them (VINs or keys, in key order)."""

    count: int
    sample: list[str] = field(default_factory=list)


class AccessRecords(Protocol):
    """The access tables (and the few unit and event figures the home page shows) inside one transaction."""

    # --- parties ------------------------------------------------------------------------------------

    def party_by_key(self, key: str) -> Party | None:
        """The party with this key."""
        ...

    def parties(self, *, role: str | None = None) -> list[Party]:
        """Every party (optionally of one role), by name."""
        ...

    def save_party(
        self, *, actor: str, key: str, name: str, role: str, country: str, region: str | None, gcp: str | None
    ) -> Party:
        """Create the party or update it where it differs (ledgered when it changes)."""
        ...

    # --- users --------------------------------------------------------------------------------------

    def user_by_email(self, email: str) -> tuple[User, str, Party] | None:
        """The user with this (lower-case) email, its password hash and its party."""
        ...

    def add_user(
        self, *, actor: str, party_id: int, email: str, name: str, password_hash: str, party_admin: bool
    ) -> User:
        """Store a new user (ledgered; the hash is stored, never ledgered)."""
        ...

    def users(self, *, party_id: int | None = None) -> list[tuple[User, Party]]:
        """Users with their parties (optionally of one party), by email."""
        ...

    def set_password(self, *, actor: str, user_id: int, password_hash: str) -> None:
        """Replace a user's password hash (the change is ledgered, the hash is not)."""
        ...

    def set_user_disabled(self, *, actor: str, user_id: int, disabled: bool) -> None:
        """Disable (or enable again) a user (ledgered)."""
        ...

    # --- API keys -----------------------------------------------------------------------------------

    def add_api_key(
        self, *, actor: str, key_id: str, secret_hash: str, party_id: int, name: str, expires_at: int,
        user_id: int | None, webhook_secret: str | None = None,
    ) -> ApiKeyInfo:
        """Store a new key (its hash only, and for a webhook key the key itself; ledgered)."""
        ...

    def webhook_secrets(self, at: int) -> list[str]:
        """The live (unrevoked, unexpired) webhook keys."""
        ...

    def api_key(self, key_id: str) -> tuple[ApiKeyInfo, str, Party, User | None] | None:
        """The key, its stored hash, its party and (for a user's key) its user."""
        ...

    def api_keys(self, *, party_id: int | None = None) -> list[ApiKeyInfo]:
        """Keys (never their secrets), newest first."""
        ...

    def revoke_api_key(self, *, actor: str, key_id: str) -> ApiKeyInfo | None:
        """Mark a key revoked now (None if unknown; a revoked key stays as it was)."""
        ...

    # --- sessions -----------------------------------------------------------------------------------

    def start_session(self, *, actor: str, user_id: int, token_hash: str, expires_at: int) -> int:
        """Store a session under the hash of its cookie value (ledgered); returns its id."""
        ...

    def live_session(self, token_hash: str, at: int) -> tuple[int, User, Party] | None:
        """The session with this token hash, neither ended nor expired at ``at``: its id, user and party."""
        ...

    def end_session(self, *, actor: str, session_id: int) -> None:
        """Mark a session ended now (ledgered)."""
        ...

    # --- shares and mandates ------------------------------------------------------------------------

    def grant_share(
        self, *, actor: str, grantor_id: int, grantee_id: int, kind: ShareKind, target: str, purpose: str,
        valid_until: int,
    ) -> Share:
        """Store a share (ledgered)."""
        ...

    def share(self, share_id: int) -> tuple[Share, int] | None:
        """A share and its grantor's party id."""
        ...

    def revoke_share(self, *, actor: str, share_id: int) -> None:
        """Mark a share revoked now (ledgered)."""
        ...

    def shares(self, *, party_id: int | None = None) -> list[Share]:
        """Shares a party granted or received (every share for None), newest first."""
        ...

    def shares_held(self, grantee_id: int, at: int) -> list[Share]:
        """Shares a party holds at ``at`` (neither revoked nor past their date)."""
        ...

    def mandate(self, party_id: int) -> list[str]:
        """The markets recorded in an authority's mandate, sorted."""
        ...

    def add_mandate_market(self, *, actor: str, party_id: int, market: str) -> None:
        """Record one more market of an authority's mandate (ledgered)."""
        ...

    # --- denied requests ----------------------------------------------------------------------------

    def record_denial(
        self, *, actor: str, operation: str, method: str, path: str, status: int, reason: str
    ) -> int:
        """Keep a denied request (ledgered as ``access.denied``); returns the ledger entry's sequence number."""
        ...

    def denials_since(self, actor_prefix: str, since: int) -> int:
        """How many requests of actors starting with ``actor_prefix`` were denied after ``since``."""
        ...

    def keys_expiring(self, after: int, before: int) -> int:
        """How many unrevoked keys expire between ``after`` and ``before``."""
        ...

    # --- units and events (figures for the home page, the demo's shares) ----------------------------

    def vehicles_under(self, prefixes: Sequence[str], sample: int) -> Tally:
        """Vehicles whose key starts with one of ``prefixes``: their number and first VINs."""
        ...

    def lots_under(self, prefixes: Sequence[str], sample: int) -> Tally:
        """Lots whose key starts with one of ``prefixes``: their number and first keys."""
        ...

    def vins_of(self, keys: Sequence[str]) -> list[str]:
        """The VINs of the vehicles among the units ``keys``, in key order."""
        ...

    def vehicles_on_markets(self, markets: Sequence[str], sample: int) -> Tally:
        """Vehicles sold or registered on ``markets``: their number and first VINs."""
        ...

    def vehicle_keys(self, market: str) -> list[str]:
        """The keys of every vehicle on ``market``, in key order."""
        ...

    def events_at(self, location_prefixes: Sequence[str]) -> int:
        """How many events were recorded at a business location starting with one of the prefixes."""
        ...


class UnitRef(Protocol):
    """A resolved unit, as the trace feature answers it."""

    @property
    def key(self) -> str:
        """The unit's canonical key."""
        ...


class Units(Protocol):
    """What the access feature asks the trace feature: the stored unit an identifier (a VIN) names."""

    def resolve(self, identifier: str) -> UnitRef:
        """The unit; a :class:`LookupError` saying why when none is known under ``identifier``."""
        ...
