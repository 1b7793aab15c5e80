"""Delivering an outbox to peer nodes, the same way for every kind of row (recall definitions, aggregates,
battery health summaries): oldest first, each outcome recorded by the caller, and a peer that did not answer
is not tried again in the same round, so that its later rows never overtake the first one."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable
from typing import Protocol, TypeVar

from roadpass.ports import Transactions
from roadpass.regions.ports import PeerUnavailable

__all__ = ["OutboxMarks", "deliver_in_order", "send_recorded"]

R = TypeVar("R")


def deliver_in_order(
    rows: Iterable[R], peer_of: Callable[[R], str], send: Callable[[R], bool], *, skip: Collection[str] = ()
) -> dict[str, bool]:
    """Call ``send`` on each row, in order, whose peer is neither in ``skip`` (backing off) nor down this
    round; ``send`` records the row's outcome and says whether the peer answered. Per peer tried, whether it
    answered."""
    answered: dict[str, bool] = {}
    for row in rows:
        peer = peer_of(row)
        if peer in skip or answered.get(peer) is False:
            continue
        answered[peer] = send(row)
    return answered


class OutboxMarks(Protocol):
    """What an outbox records of each attempt, inside one transaction."""

    def mark_delivered(self, row_id: int, at: int) -> None:
        """The peer has the row."""
        ...

    def mark_failed(self, row_id: int, error: str) -> None:
        """An attempt failed: count it, keep the error."""
        ...


def send_recorded(records: Transactions[OutboxMarks], row_id: int, send: Callable[[], object]) -> bool:
    """Call ``send`` and record its outcome on row ``row_id``: delivered, or failed with the peer's status and
    reason (:class:`PeerUnavailable`); whether the peer answered."""
    try:
        send()
    except PeerUnavailable as exc:
        with records.write() as marks:
            marks.mark_failed(row_id, f"{exc.status}: {exc.reason}")
        return False
    with records.write() as marks:
        marks.mark_delivered(row_id, time.time_ns() // 1000)
    return True
