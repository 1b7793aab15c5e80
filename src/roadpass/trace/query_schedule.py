"""The schedule of a scheduled query subscription (EPCIS 2.0 REST bindings ``query-schedule.json``; EPCIS 1.2
§8.2.5.3 QuerySchedule): which members and values are valid, and when it next fires, pure.

A schedule names any of ``second``, ``minute``, ``hour``, ``dayOfMonth``, ``month`` and ``dayOfWeek``, each a
comma list of numbers and ``[a-b]`` ranges. A time fires the schedule when every named field matches it; a
field left out matches every value (as in cron), so ``{"minute": "0", "second": "0"}`` fires on each full
hour. ``dayOfWeek`` counts 1 = Monday to 7 = Sunday (ISO 8601), and when both ``dayOfMonth`` and
``dayOfWeek`` are given a day must match both. Times are UTC.

The published schema's patterns use Oniguruma subroutine calls (``\\g<element>``) that neither Python nor
JSON Schema's ECMA-262 dialect evaluates, so the grammar they intend is checked here instead.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from roadpass.trace.named_queries import DefinitionProblem

__all__ = ["FIELDS", "check_schedule", "next_run"]

#: Each field's bounds (the patterns' [0-59], [0-23], [1-31], [1-12], [1-7]).
FIELDS: dict[str, tuple[int, int]] = {
    "second": (0, 59), "minute": (0, 59), "hour": (0, 23), "dayOfMonth": (1, 31), "month": (1, 12),
    "dayOfWeek": (1, 7),
}
_ELEMENT = re.compile(r"(\d{1,2})|\[(\d{1,2})-(\d{1,2})\]")
# A schedule that finds no matching day within this many years never fires (e.g. 30 February).
_HORIZON_DAYS = 366 * 8
_UTC = dt.UTC


def _values(value: str, bounds: tuple[int, int]) -> frozenset[int] | None:
    """The numbers a field's value names, or None when it is not a valid value within ``bounds``."""
    low, high = bounds
    out: set[int] = set()
    for element in value.split(","):
        match = _ELEMENT.fullmatch(element.strip())
        if match is None:
            return None
        numbers = [int(g) for g in match.groups() if g is not None]
        if any(not low <= n <= high for n in numbers) or (len(numbers) == 2 and numbers[0] > numbers[1]):
            return None
        out.update(range(numbers[0], numbers[-1] + 1))
    return frozenset(out)


def check_schedule(schedule: Any) -> list[DefinitionProblem]:
    """Every problem of a ``schedule``, by JSON path (``$.schedule.<field>``)."""
    if not isinstance(schedule, dict):
        return [DefinitionProblem("$.schedule", "a schedule is a JSON object (query-schedule.json)")]
    if not schedule:
        return [DefinitionProblem("$.schedule", f"a schedule names at least one of {', '.join(FIELDS)}")]
    problems: list[DefinitionProblem] = []
    for key, value in schedule.items():
        path = f"$.schedule.{key}"
        bounds = FIELDS.get(key)
        if bounds is None:
            problems.append(DefinitionProblem(path, f"not a schedule field ({', '.join(FIELDS)})"))
        elif not isinstance(value, str) or _values(value, bounds) is None:
            problems.append(DefinitionProblem(
                path, f"a comma list of numbers and [a-b] ranges from {bounds[0]} to {bounds[1]}"))
    if not problems and next_run(schedule, 0) is None:
        problems.append(DefinitionProblem("$.schedule", "this schedule never fires (no such day)"))
    return problems


def _field(schedule: Mapping[str, str], name: str) -> frozenset[int]:
    low, high = FIELDS[name]
    value = schedule.get(name)
    found = None if value is None else _values(value, (low, high))
    return frozenset(range(low, high + 1)) if found is None else found


def _first(allowed: frozenset[int], start: int) -> int | None:
    return min((v for v in allowed if v >= start), default=None)


def next_run(schedule: Mapping[str, str], after_us: int) -> int | None:
    """The first whole second strictly after ``after_us`` (UTC µs) at which ``schedule`` fires, in UTC µs;
    None when it never fires."""
    seconds, minutes, hours = (_field(schedule, n) for n in ("second", "minute", "hour"))
    days, months, weekdays = (_field(schedule, n) for n in ("dayOfMonth", "month", "dayOfWeek"))
    start = dt.datetime.fromtimestamp(after_us // 1_000_000, _UTC) + dt.timedelta(seconds=1)
    day = start.date()
    for _ in range(_HORIZON_DAYS):
        if day.month in months and day.day in days and day.isoweekday() in weekdays:
            at = _first_time_on(day, start, hours, minutes, seconds)
            if at is not None:
                return int(at.timestamp()) * 1_000_000
        day += dt.timedelta(days=1)
    return None


def _first_time_on(day: dt.date, start: dt.datetime, hours: frozenset[int], minutes: frozenset[int],
                   seconds: frozenset[int]) -> dt.datetime | None:
    """The first allowed time of ``day`` at or after ``start``."""
    floor = (start.hour, start.minute, start.second) if day == start.date() else (0, 0, 0)
    for hour in sorted(h for h in hours if h >= floor[0]):
        min_floor = floor[1] if hour == floor[0] else 0
        for minute in sorted(m for m in minutes if m >= min_floor):
            sec_floor = floor[2] if (hour, minute) == floor[:2] else 0
            second = _first(seconds, sec_floor)
            if second is not None:
                return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=_UTC)
    return None
