"""Roll-ups: per subject, signal and UTC hour or day, the count, sum, minimum and maximum of the numeric
samples stored (a late sample adds to the bucket of its own time). Raw samples are kept for the retention
the settings give; roll-ups are kept for good."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Final

from roadpass.telematics.ports import RollupDelta, SampleRow

__all__ = ["GRAINS", "bucket", "grain_seconds", "rollup_deltas"]

#: Roll-up grains by name, in seconds.
GRAINS: Final = {"hour": 3600, "day": 86400}


def grain_seconds(name: str) -> int:
    """Seconds of a roll-up grain (``hour`` or ``day``); ValueError naming the choices otherwise."""
    try:
        return GRAINS[name]
    except KeyError:
        raise ValueError(f"grain {name!r}: expected one of {sorted(GRAINS)}") from None


def bucket(ts: int, grain: int) -> int:
    """Start (UTC µs) of the ``grain``-second bucket holding ``ts``."""
    width = grain * 1_000_000
    return ts - ts % width


def _merge(cells: dict[tuple[int, int, int], list[float]], key: tuple[int, int, int], n: float, total: float,
           low: float, high: float) -> None:
    cell = cells.get(key)
    if cell is None:
        cells[key] = [n, total, low, high]
        return
    cell[0] += n
    cell[1] += total
    if low < cell[2]:
        cell[2] = low
    if high > cell[3]:
        cell[3] = high


def rollup_deltas(rows: Iterable[SampleRow], grains: Collection[int]) -> list[RollupDelta]:
    """What ``rows`` (just stored) add to each bucket of each grain; text and array samples are left out.
    The finest grain is summed from the rows, each coarser one from the finer cells (a day is 24 hours)."""
    if not grains:
        return []
    ordered = sorted(grains)
    width = ordered[0] * 1_000_000
    cells: dict[tuple[int, int, int], list[float]] = {}
    for row in rows:
        value = row.value_num
        if value is None or row.value_text is not None:
            continue
        _merge(cells, (row.subject_id, row.path_id, row.ts - row.ts % width), 1, value, value, value)
    out = [RollupDelta(s, p, ordered[0], b, int(c[0]), c[1], c[2], c[3]) for (s, p, b), c in cells.items()]
    for grain in ordered[1:]:
        coarse: dict[tuple[int, int, int], list[float]] = {}
        for (s, p, b), c in cells.items():
            _merge(coarse, (s, p, bucket(b, grain)), *c)
        out += [RollupDelta(s, p, grain, b, int(c[0]), c[1], c[2], c[3]) for (s, p, b), c in coarse.items()]
    return out
