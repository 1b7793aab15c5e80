"""The access domain: parties with roles, their users and machine clients, shares, the calling principal."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from roadpass.trace.query import Visibility

__all__ = [
    "ANONYMOUS",
    "ApiKeyInfo",
    "Caller",
    "Party",
    "PartyRole",
    "Principal",
    "Share",
    "ShareKind",
    "User",
    "now_us",
]


def now_us() -> int:
    """Now, in integer microseconds since the epoch (UTC): the unit of every access time."""
    return time.time_ns() // 1000


class PartyRole(StrEnum):
    """What a party is in the supply chain; the policy's rule table has one column per role."""

    MANUFACTURER = "manufacturer"
    SUPPLIER = "supplier"
    IMPORTER = "importer"
    DEALER = "dealer"
    REPAIRER = "repairer"
    RECYCLER = "recycler"
    LAB = "lab"
    AUTHORITY = "authority"
    # The organisation running this roadpass node: manages parties, users and keys; sees no business data
    # that was not shared with it.
    OPERATOR = "operator"


class ShareKind(StrEnum):
    """What a share names: one serialised unit, one lot (class-level key) or every unit of a product."""

    UNIT = "unit"
    LOT = "lot"
    PRODUCT = "product"


@dataclass(frozen=True, slots=True)
class Party:
    """An organisation: ``gcp`` is its GS1 Company Prefix (what it owns), ``region`` its data region."""

    id: int
    key: str
    name: str
    role: str
    country: str
    region: str | None = None
    gcp: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    """A person who signs in; belongs to one party. ``party_admin`` may manage the party's users."""

    id: int
    party_id: int
    email: str
    name: str
    party_admin: bool = False
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """A machine client's key as listed (the secret itself is shown once, at creation, and never stored)."""

    id: int
    key_id: str
    party_id: int
    user_id: int | None
    name: str
    created_at: int
    expires_at: int
    revoked_at: int | None = None

    def active(self, now_us: int) -> bool:
        """True when neither revoked nor expired at ``now_us``."""
        return self.revoked_at is None and now_us < self.expires_at


@dataclass(frozen=True, slots=True)
class Share:
    """An explicit grant: ``grantor`` lets ``grantee`` see ``target`` for ``purpose`` until ``valid_until``.

    ``target`` is a canonical key (unit, lot) or, for a product, the key prefix of its GTIN (every serial
    and lot of the product).
    """

    id: int
    grantor: str
    grantee: str
    kind: ShareKind
    target: str
    purpose: str
    valid_until: int
    created_at: int
    revoked_at: int | None = None

    def active(self, now_us: int) -> bool:
        """True when neither revoked nor past its date at ``now_us``."""
        return self.revoked_at is None and now_us < self.valid_until


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a party's user (session), a party's machine client (API key), or nobody.

    ``visibility`` is precomputed when the principal is resolved (and cached with it), so a request pays
    for no share or mandate look-up; ``None`` means unrestricted (authorisation switched off).
    """

    party: Party | None = None
    user: str | None = None
    key_id: str | None = None
    via: str = "anonymous"  # "session", "api_key", "anonymous", "open" (authorisation switched off)
    party_admin: bool = False
    user_id: int | None = None
    session_id: int | None = None
    csrf: str | None = None
    visibility: Visibility | None = field(default=None, compare=False)

    @property
    def role(self) -> str:
        """The party's role, ``anonymous`` without a party, ``open`` when authorisation is off."""
        if self.via == "open":
            return "open"
        return self.party.role if self.party is not None else "anonymous"

    @property
    def actor(self) -> str:
        """The ledger's attribution: ``party:<key>/user:<email>`` or ``party:<key>/key:<key id>``."""
        if self.party is None:
            return "anonymous"
        who = f"user:{self.user}" if self.user else f"key:{self.key_id}"
        return f"party:{self.party.key}/{who}"

    @property
    def signed_in(self) -> bool:
        """True for a user or machine client of a party."""
        return self.party is not None


ANONYMOUS = Principal()


@dataclass(frozen=True, slots=True)
class Caller:
    """A principal and the request it made (method, route path): what a denial is ledgered under."""

    principal: Principal
    method: str = ""
    path: str = ""
