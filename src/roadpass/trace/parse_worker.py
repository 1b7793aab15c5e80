"""The capture pipeline's parsing process never outlives the process that started it.

A forked worker inherits the write end of its own task pipe, so when its parent dies (``kill -9`` of a
``roadpass demo``) it never reads end-of-file and would wait, idle, for ever. Its initializer asks the kernel
to kill it with its parent (Linux ``prctl(PR_SET_PDEATHSIG)``) and, everywhere, watches the parent id.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCH_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """Initializer of a worker process started by process ``parent``: end when ``parent`` is gone."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch, args=(parent,), name="roadpass-parent-watch", daemon=True).start()


def _watch(parent: int) -> None:
    # Where there is no death signal (or the parent was a thread that ended), the re-parenting shows it.
    while True:
        time.sleep(_WATCH_SECONDS)
        if os.getppid() != parent:
            os._exit(1)
