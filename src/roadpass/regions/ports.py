"""What the regions feature needs from outside: its transfer records (implemented by
:mod:`roadpass.store.regions`), the node's own stored events and master data read whole for the residency
audit, and, from the subscriptions feature, the few read-only shapes it looks at (bootstrap passes that
service in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from roadpass.ledger.chain import Subject

__all__ = [
    "DeliveryStateLike",
    "DeliveryStates",
    "PeerClient",
    "PeerUnavailable",
    "RecallPeerClient",
    "StoredItem",
    "SubscriptionLike",
    "TransferRecords",
    "TransferRow",
]


@dataclass(frozen=True, slots=True)
class TransferRow:
    """One transfer to a peer as recorded: who asked (the subscription and its party), which peer and
    region, the policy version, how many events were offered and sent, and the projection summary."""

    peer: str
    origin: str
    destination: str
    subscription_id: str
    subscriber: str
    policy_version: str
    events: int
    sent: int
    summary: dict[str, Any]
    at: int
    id: int = 0


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A stored event (``kind`` "epcis_event") or master data element ("master_data") for the audit: its row,
    the actor whose capture stored it, and its JSON (an event; a vocabulary element's type, id, attributes)."""

    kind: str
    row: int
    actor: str
    doc: dict[str, Any]


class TransferRecords(Protocol):
    """The transfer table inside one transaction, and the node's stored data read for the audit."""

    def insert_transfer(self, row: TransferRow) -> int:
        """Store a transfer; its row id."""
        ...

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...

    def transfers(self, *, peer: str | None = None, limit: int = 100) -> list[TransferRow]:
        """The newest transfers, newest first (to ``peer`` only, unless None)."""
        ...

    def stored_items(self, kind: str, *, after: int, limit: int) -> list[StoredItem]:
        """Up to ``limit`` stored items of ``kind`` with row ids past ``after``, by row id."""
        ...


class _RequestLike(Protocol):
    @property
    def dest(self) -> str: ...


class SubscriptionLike(Protocol):
    """What the projector reads of a subscription: its id, its party and its webhook destination."""

    @property
    def id(self) -> str: ...

    @property
    def party(self) -> str | None: ...

    @property
    def actor(self) -> str: ...

    @property
    def query_name(self) -> str: ...

    @property
    def request(self) -> _RequestLike: ...


class DeliveryStateLike(Protocol):
    """Where one subscription's deliveries stand (the subscriptions feature's ``DeliveryState``)."""

    @property
    def subscription(self) -> SubscriptionLike: ...

    @property
    def pending_first(self) -> int | None: ...

    @property
    def pending_last(self) -> int | None: ...

    @property
    def attempts(self) -> int: ...

    @property
    def last_error(self) -> str | None: ...


class DeliveryStates(Protocol):
    """The subscriptions feature's overview of every subscription's deliveries."""

    def overview(self, *, party_scope: int | None) -> Sequence[DeliveryStateLike]:
        """Every subscription the caller may see with where its deliveries stand."""
        ...


class PeerUnavailable(Exception):
    """A peer node did not answer: down, timed out, or refused (``reason`` says which, for the answer)."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class PeerClient(Protocol):
    """How this node asks a peer node through the peer's documented API (an authenticated machine client)."""

    def where_used(self, url: str, api_key: str, identifier: str, *, timeout: float) -> dict[str, Any]:
        """The peer's where-used answer for ``identifier``, projected by the peer for this node's region;
        :class:`PeerUnavailable` when the peer does not answer in ``timeout`` seconds or refuses."""
        ...


class RecallPeerClient(Protocol):
    """How this node hands a recall campaign to a peer node and asks it for its completion counts."""

    def open_recall(self, url: str, api_key: str, definition: dict[str, Any], *, timeout: float) -> None:
        """The peer opens the campaign (or has it already); :class:`PeerUnavailable` otherwise."""
        ...

    def recall_report(self, url: str, api_key: str, campaign_key: str, *, timeout: float) -> dict[str, Any]:
        """The peer's completion counts by market; :class:`PeerUnavailable` when there are none."""
        ...
