"""paho-mqtt waits on its sockets with ``select.select``, which cannot watch a descriptor numbered 1024 or
above (FD_SETSIZE): in a server process holding many connections, a client socket opened (or reopened after
a broker restart) at such a number never connects, silently. :func:`install` gives paho's module a ``select``
with the same signature that waits with ``poll(2)``, which has no such limit.
"""

from __future__ import annotations

import select
from collections.abc import Sequence
from typing import Any

import paho.mqtt.client as paho_client

__all__ = ["install", "poll_select"]

_READ = select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR
_WRITE = select.POLLOUT | select.POLLHUP | select.POLLERR


def _fd(obj: Any) -> int:
    return obj if isinstance(obj, int) else int(obj.fileno())


def poll_select(rlist: Sequence[Any], wlist: Sequence[Any], xlist: Sequence[Any],
                timeout: float | None = None) -> tuple[list[Any], list[Any], list[Any]]:
    """``select.select`` on ``poll(2)``: the ready objects of ``rlist`` and ``wlist`` (``xlist`` is not
    watched; paho passes none). A closed socket (descriptor -1) raises ValueError, as select does."""
    masks: dict[int, int] = {}
    readers = {_fd(obj): obj for obj in rlist}
    writers = {_fd(obj): obj for obj in wlist}
    for fd in readers:
        masks[fd] = masks.get(fd, 0) | select.POLLIN | select.POLLPRI
    for fd in writers:
        masks[fd] = masks.get(fd, 0) | select.POLLOUT
    poller = select.poll()
    for fd, mask in masks.items():
        if fd < 0:
            raise ValueError("file descriptor cannot be a negative integer")
        poller.register(fd, mask)
    ready = poller.poll(None if timeout is None else max(0.0, timeout) * 1000)
    readable = [readers[fd] for fd, events in ready if fd in readers and events & _READ]
    writable = [writers[fd] for fd, events in ready if fd in writers and events & _WRITE]
    return readable, writable, []


class _PollSelectModule:
    """What paho's client module calls ``select``: only ``select.select`` is used there."""

    select = staticmethod(poll_select)
    error = OSError


def install() -> None:
    """Make paho's client wait with poll (idempotent)."""
    setattr(paho_client, "select", _PollSelectModule)  # noqa: B010 - the name paho looks up at each wait
