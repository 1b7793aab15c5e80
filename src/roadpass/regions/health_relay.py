"""Battery health across regions, what the relay needs from outside: its outbox and received rows (implemented
by :mod:`roadpass.store.health_relay`), the battery passport (bootstrap passes the passport service in: the
regions feature never imports the passport feature), and the HTTP client that pushes a summary to a peer.

See :mod:`roadpass.regions.health_relay_service` for the flow and :mod:`roadpass.regions.health_summary` for
what a summary is and what may cross.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, Self, TypeVar

from roadpass.ledger.chain import Subject
from roadpass.regions.ports import TransferRow

__all__ = [
    "DELIVERED",
    "PENDING",
    "REFUSED",
    "HealthPassport",
    "HealthPassports",
    "HealthPeerClient",
    "HealthRelayRecords",
    "OutboxRow",
    "PushRefused",
    "ReceivedRow",
]

PENDING = "pending"
DELIVERED = "delivered"
REFUSED = "refused"

#: The passport section the summary's values live in (Battery Pass v1.2).
Section = Literal["PerformanceAndDurability"]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One summary for one peer: pending until the peer has it (or refused it for good), with failed attempts."""

    peer: str
    region: str
    battery_id: str
    sequence: int
    summary_id: str
    summary: dict[str, Any]
    state: str
    attempts: int
    transfer_id: int
    created_at: int
    last_error: str | None = None
    delivered_at: int | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class ReceivedRow:
    """A summary the home node took from a peer and wrote into the battery's passport."""

    origin_node: str
    origin_region: str
    battery_id: str
    sequence: int
    summary_id: str
    summary: dict[str, Any]
    passport_id: str
    received_at: int
    id: int = 0


class HealthRelayRecords(Protocol):
    """The outbox, the received summaries, transfers and the ledger inside one transaction."""

    def next_sequence(self, peer: str, battery_id: str) -> int:
        """The number the next summary of ``battery_id`` for ``peer`` gets (1 for the first)."""
        ...

    def insert_outbox(self, row: OutboxRow) -> int:
        """Store an outbox row; its id."""
        ...

    def outbox(self, *, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        """Outbox rows (in one state, unless None), oldest first."""
        ...

    def mark_delivered(self, row_id: int, at: int) -> None:
        """The peer has the summary."""
        ...

    def mark_failed(self, row_id: int, error: str, *, refused: bool) -> None:
        """A delivery attempt failed: count it and keep the error; ``refused``: the peer refused it for good."""
        ...

    def received(self, summary_id: str) -> ReceivedRow | None:
        """The summary received under this id, if any."""
        ...

    def last_sequence(self, origin_node: str, battery_id: str) -> int:
        """The highest sequence received from ``origin_node`` for ``battery_id`` (0 when none)."""
        ...

    def insert_received(self, row: ReceivedRow) -> int | None:
        """Store a received summary; its id, or None when that summary (or sequence) is stored already."""
        ...

    def insert_transfer(self, row: TransferRow) -> int:
        """Store a transfer; its row id."""
        ...

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...


class HealthPassport(Protocol):
    """A battery passport as the relay uses it (implemented by the passport feature's model)."""

    @property
    def battery_id(self) -> str:
        """The battery's identifier (its canonical key)."""
        ...

    def value_at(self, section: Section, path: str) -> Any:
        """The value at a JSON path of a section (``$`` for the whole section), ``None`` where none."""
        ...

    def with_dynamic(self, section: Section, path: str, value: Any, last_update: str,
                     source: str | None = None) -> Self:
        """A copy with one dynamic value written (and appended to the passport's history)."""
        ...


P = TypeVar("P", bound=HealthPassport)


class HealthPassports(Protocol[P]):
    """The passport service's calls the relay makes (and passes through, on a regional node)."""

    def resolve(self, identifier: str) -> str:
        """The live passport id of a battery (any identifier); LookupError when it has none."""
        ...

    def get(self, passport_id: str) -> P:
        """The whole passport."""
        ...

    def record(self, passport_id: str, change: Callable[[P], P], *, actor: str, rule: str = ...) -> P:
        """Apply a dynamic change and store it, in one transaction with one ledger entry."""
        ...

    def list_passports(self, *, limit: int = 50, offset: int = 0, query: str | None = None) -> list[dict[str, Any]]:
        """Passports, newest first (``passportId``, ``batteryId`` …)."""
        ...


class PushRefused(Exception):
    """A peer answered a summary with a refusal that a retry will not change (400, 409): ``reason`` says why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.reason = reason


class HealthPeerClient(Protocol):
    """How this node pushes a summary to a peer node through the peer's documented API."""

    def push_health(self, url: str, api_key: str, body: dict[str, Any], *, timeout: float) -> bool:
        """Deliver ``body``; True when the peer stored it now, False when it had it already.
        :class:`PushRefused` when the peer refuses it for good,
        :class:`~roadpass.regions.ports.PeerUnavailable` when it is down, slow, or refuses for now."""
        ...
