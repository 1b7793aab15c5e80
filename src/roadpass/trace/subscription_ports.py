"""What the subscription service needs from outside (implemented by :mod:`roadpass.store.subscriptions` and by
:class:`roadpass.trace.webhook_client.HttpWebhook`).

The records read and write subscription and outbox rows and append ledger entries; who may see a
subscription, what is delivered, when to retry and how large a batch is are decided in
:mod:`roadpass.trace.subscriptions` and the service.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from roadpass.ledger.chain import Subject
from roadpass.ports import Transactions
from roadpass.trace.subscriptions import Subscription, SubscriptionRequest

__all__ = ["DeliveryState", "OutboxItem", "SubscriptionRecords", "SubscriptionStore", "Webhook"]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A delivery not yet acknowledged: the events of ``subscription`` with ``epcis_event.id`` from
    ``first_event`` to ``last_event``, at most ``batch_size`` per attempt, ``attempts`` failed so far."""

    id: int
    subscription: Subscription
    first_event: int
    last_event: int
    batch_size: int
    attempts: int
    next_try_at: int


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """Where a subscription's deliveries stand: its pending range of event ids (None: nothing pending), the
    failed attempts on it, when the next attempt or scheduled run is due (UTC µs) and the last error."""

    subscription: Subscription
    pending_first: int | None
    pending_last: int | None
    attempts: int
    next_try_at: int | None
    next_run_at: int | None
    last_error: str | None


class SubscriptionRecords(Protocol):
    """The subscription and outbox tables inside one transaction."""

    def live(self, subscription_id: str) -> Subscription | None:
        """The subscription with this REST ``subscriptionID`` that is not deleted."""
        ...

    def listing(self, query_name: str, *, party_id: int | None) -> list[Subscription]:
        """Live subscriptions to ``query_name`` by creation (of party ``party_id`` only, unless None)."""
        ...

    def overview(self, *, party_id: int | None) -> list[DeliveryState]:
        """Every live subscription (of party ``party_id`` only, unless None) with its delivery state, by query
        name and creation."""
        ...

    def insert(self, *, subscription_id: str, query_name: str, request: SubscriptionRequest, party_id: int | None,
               actor: str, at: int, cursor: int, next_run_at: int | None) -> int:
        """Store a new subscription; its row id."""
        ...

    def mark_deleted(self, pk: int, *, actor: str, at: int) -> None:
        """Mark a subscription deleted and drop its pending deliveries (its row stays for the ledger)."""
        ...

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...

    def latest_event(self) -> int:
        """The largest ``epcis_event.id`` stored (0 when none is)."""
        ...

    def stream_cursors(self) -> Mapping[int, int]:
        """Live stream subscriptions (row id) and the last event id each has put in the outbox."""
        ...

    def enqueue_streams(self, *, batch_size: int, at: int) -> int:
        """Add every stored event past each live stream subscription's cursor to its pending delivery (a
        pending row grows, else a new one starts) and advance the cursors, set-based; how many subscriptions
        got events."""
        ...

    def scheduled_due(self, now: int) -> list[tuple[Subscription, int]]:
        """Live scheduled subscriptions whose next run is due, with their cursors."""
        ...

    def enqueue(self, pk: int, *, first_event: int, last_event: int, batch_size: int, at: int,
                next_run_at: int | None = None) -> None:
        """Add events ``first_event``..``last_event`` to the subscription's pending delivery (one row per
        subscription: a pending row grows to ``last_event``) and advance its cursor to ``last_event`` (a
        scheduled one's next run to ``next_run_at``)."""
        ...

    def enqueue_nothing(self, pk: int, *, next_run_at: int) -> None:
        """A scheduled run found nothing to report: only its next run moves."""
        ...

    def claim(self, now: int, limit: int, lease_until: int) -> list[OutboxItem]:
        """Pending deliveries whose next attempt is due, oldest first, leased to the caller until
        ``lease_until``."""
        ...

    def has_due(self, now: int) -> bool:
        """Whether any pending delivery is due."""
        ...

    def delivered(self, done: Sequence[tuple[OutboxItem, int]], *, at: int, notified: bool) -> None:
        """Each item is done up to its event id (deleted when that is its end), all in a few set-based
        statements; when ``notified`` the receivers acknowledged, so their subscriptions' ``last_notified_at``
        is ``at`` and their failures are reset."""
        ...

    def failed(self, item_id: int, *, next_try_at: int, batch_size: int, error: str) -> None:
        """An attempt failed: count it on the item and its subscription, and set the next try."""
        ...


class SubscriptionStore(Transactions[SubscriptionRecords], Protocol):
    """Transactions on the subscription and outbox tables."""


class Webhook(Protocol):
    """Posts one delivery to a receiver."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` to ``url``; the HTTP status. Raises :class:`OSError` when no answer came."""
        ...
