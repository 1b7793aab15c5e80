"""Delivering an outbox to peer nodes, the same way for every kind of row (recall definitions, aggregates,
battery health summaries): oldest first, each outcome recorded by the caller, and a peer that did not answer
is not tried again in the same round, so that its later rows never overtake the first one."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TypeVar

__all__ = ["deliver_in_order"]

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
