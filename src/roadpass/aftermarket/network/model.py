"""The repair network's facts as plain typed records: repairers, sites, approvals, personal authorisations,
security-related requests and the uses of their credentials.

Every record is written once and never changed (the ledger hashes the rows): a repairer's or an approval's
new state is a new version, a revocation is a row of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Approval",
    "ApprovalStatus",
    "Authorisation",
    "CredentialUse",
    "Repairer",
    "RepairerKind",
    "SecurityRequest",
    "Site",
]


class RepairerKind(StrEnum):
    """An authorised repairer belongs to the manufacturer's network; an independent one does not
    (Reg. (EU) 2018/858 Art. 3(45): 'independent operator')."""

    AUTHORISED = "authorised"
    INDEPENDENT = "independent"


class ApprovalStatus(StrEnum):
    """Where an independent operator's approval stands (the CAB's decision)."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Repairer:
    """A repairer's aftermarket facts; the organisation itself is an access party of role ``repairer``."""

    party_key: str
    name: str
    country: str
    kind: RepairerKind
    brands: tuple[str, ...] = ()
    qualifications: tuple[str, ...] = ()  # e.g. "high_voltage"
    markets: tuple[str, ...] = ()  # ISO 3166-1 alpha-2
    version: int = 1
    recorded_at: int = 0


@dataclass(frozen=True, slots=True)
class Site:
    """A repairer's workshop, named by its GLN (GS1 General Specifications §2.4.4)."""

    party_key: str
    gln: str
    name: str
    country: str


@dataclass(frozen=True, slots=True)
class Approval:
    """An independent operator's approval by a conformity assessment body (CAB), one version of it."""

    approval_key: str
    party_key: str
    assessing_body: str
    country: str
    valid_from: int
    valid_until: int
    status: ApprovalStatus
    version: int = 1
    recorded_at: int = 0

    def stands(self, at: int) -> bool:
        """True when active and inside its dates at ``at`` (UTC µs)."""
        return self.status is ApprovalStatus.ACTIVE and self.valid_from <= at < self.valid_until


@dataclass(frozen=True, slots=True)
class Authorisation:
    """One person's authorisation to handle security-related RMI for one employer."""

    authorisation_key: str
    party_key: str
    person_name: str
    person_email: str | None
    identity_checked_by: str | None
    identity_checked_at: int | None
    residence_country: str
    valid_from: int
    valid_until: int
    revoked_at: int | None = None
    revocation_reason: str | None = None

    def state(self, at: int) -> str:
        """``valid``, ``revoked``, ``not yet valid``, ``expired`` or ``identity not checked`` at ``at``."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return "revoked"
        if self.identity_checked_at is None or not self.identity_checked_by:
            return "identity not checked"
        if at < self.valid_from:
            return "not yet valid"
        if at >= self.valid_until:
            return "expired"
        return "valid"


@dataclass(frozen=True, slots=True)
class SecurityRequest:
    """A request for a security-related function on one VIN by one authorised person, and its answer."""

    request_key: str
    authorisation_key: str
    party_key: str
    vin: str
    vehicle_key: str | None
    maker_key: str | None
    market: str | None
    function: str
    requested_at: int
    granted: bool
    reason: str
    rule: str
    expires_at: int | None
    actor: str


@dataclass(frozen=True, slots=True)
class CredentialUse:
    """One presentation of a credential: accepted or refused, with the reason."""

    request_key: str
    used_at: int
    accepted: bool
    reason: str
    actor: str
