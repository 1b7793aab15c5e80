"""What the repair network needs from persistence (implemented by :mod:`roadpass.store.aftermarket_network`)
and from the access feature (its parties, passed in by :mod:`roadpass.bootstrap`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from roadpass.aftermarket.network.model import (
    Approval,
    Authorisation,
    CredentialUse,
    Repairer,
    SecurityRequest,
    Site,
)

__all__ = ["NetworkRecords", "PartyDirectory", "PartyLike"]


class PartyLike(Protocol):
    """An access party as the network reads it (``roadpass.access.model.Party`` fits)."""

    @property
    def key(self) -> str:
        """The party's stable key."""
        ...

    @property
    def name(self) -> str:
        """Its name."""
        ...

    @property
    def role(self) -> str:
        """Its role (``repairer``, ``manufacturer``, ``authority`` …)."""
        ...

    @property
    def country(self) -> str:
        """ISO 3166-1 alpha-2."""
        ...

    @property
    def gcp(self) -> str | None:
        """Its GS1 company prefix, if it has one."""
        ...


class PartyDirectory(Protocol):
    """The access feature's parties (``roadpass.access.service.AccessService`` fits)."""

    def party(self, key: str) -> PartyLike | None:
        """The party with this key, if any."""
        ...

    def parties(self, *, role: str | None = None) -> Sequence[PartyLike]:
        """The parties (of one role)."""
        ...


class NetworkRecords(Protocol):
    """The repair network's tables inside one transaction; every write is stamped with an ``op_id``."""

    def ledgered(self, *, actor: str, action: str, rule: str, op_id: str, tables: Sequence[str]) -> int:
        """Append the ledger entry covering the rows ``op_id`` wrote in ``tables``; its sequence number."""
        ...

    def repairers(self) -> list[Repairer]:
        """The latest version of every repairer."""
        ...

    def repairer(self, party_key: str) -> Repairer | None:
        """The latest version of one repairer."""
        ...

    def add_repairer(self, repairer: Repairer, *, actor: str, op_id: str) -> None:
        """Store a repairer version."""
        ...

    def sites(self, party_key: str | None = None) -> list[Site]:
        """Workshops (of one repairer)."""
        ...

    def add_site(self, site: Site, *, actor: str, op_id: str, at: int) -> None:
        """Store a workshop."""
        ...

    def approvals(self, party_key: str | None = None) -> list[Approval]:
        """The latest version of each approval (of one repairer)."""
        ...

    def add_approval(self, approval: Approval, *, actor: str, op_id: str) -> None:
        """Store an approval version."""
        ...

    def authorisation(self, key: str) -> Authorisation | None:
        """One personal authorisation with its revocation, if any."""
        ...

    def authorisations(self, party_key: str | None = None) -> list[Authorisation]:
        """Personal authorisations (of one repairer) with their revocations."""
        ...

    def add_authorisation(self, authorisation: Authorisation, *, actor: str, op_id: str, at: int) -> None:
        """Store a personal authorisation."""
        ...

    def add_revocation(self, key: str, *, at: int, reason: str, actor: str, op_id: str) -> None:
        """Store the revocation of a personal authorisation."""
        ...

    def add_request(self, request: SecurityRequest, *, credential_hash: str | None, op_id: str) -> None:
        """Store a security-related request and its answer."""
        ...

    def request_by_credential(self, credential_hash: str) -> SecurityRequest | None:
        """The granted request a credential was issued for."""
        ...

    def requests(self, *, limit: int, everything: bool = False, party_key: str | None = None,
                 maker_key: str | None = None, markets: Sequence[str] = ()) -> list[SecurityRequest]:
        """The most recent requests, newest first: all of them, or those made by ``party_key``, to vehicles
        of ``maker_key`` or to vehicles of ``markets`` (any of these)."""
        ...

    def add_use(self, use: CredentialUse, *, op_id: str) -> None:
        """Store one use of a credential."""
        ...

    def uses(self, request_keys: Sequence[str]) -> dict[str, list[CredentialUse]]:
        """The uses of these requests' credentials, oldest first, by request key."""
        ...
