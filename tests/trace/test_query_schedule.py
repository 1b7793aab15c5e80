"""When a scheduled subscription fires (query-schedule.json), without a database."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roadpass.trace.query_schedule import FIELDS, check_schedule, next_run

_UTC = dt.UTC


def _us(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=_UTC).timestamp()) * 1_000_000


def _at(us: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(us / 1_000_000, _UTC)


@pytest.mark.parametrize(("schedule", "ok"), [
    ({"second": "0"}, True), ({"dayOfWeek": "[1-5]"}, True), ({"month": "1,6,[10-12]"}, True),
    ({"second": "60"}, False), ({"dayOfMonth": "0"}, False), ({"hour": "[5-3]"}, False), ({"hour": 1}, False),
    ({"minute": "*/5"}, False), ({}, False), ("daily", False),
])
def test_schedule_values(schedule: object, ok: bool) -> None:
    assert (check_schedule(schedule) == []) is ok


def test_a_schedule_that_never_fires_is_refused() -> None:
    problems = check_schedule({"month": "2", "dayOfMonth": "30"})
    assert [(p.path, p.reason) for p in problems] == [("$.schedule", "this schedule never fires (no such day)")]


def test_hourly_daily_and_weekly() -> None:
    after = _us(2026, 12, 6, 10, 15, 30)  # a Sunday
    assert _at(next_run({"minute": "0", "second": "0"}, after) or 0) == dt.datetime(2026, 12, 6, 11, tzinfo=_UTC)
    daily = {"hour": "2", "minute": "30", "second": "0"}
    assert _at(next_run(daily, after) or 0) == dt.datetime(2026, 12, 7, 2, 30, tzinfo=_UTC)
    monday_noon = {"dayOfWeek": "1", "hour": "12", "minute": "0", "second": "0"}
    assert _at(next_run(monday_noon, after) or 0) == dt.datetime(2026, 12, 7, 12, tzinfo=_UTC)
    # Strictly after: a schedule firing at this very second fires next time, not now.
    assert next_run({"second": "30"}, after) == after + 60_000_000
    # Both day fields must match: the next Friday the 13th.
    assert _at(next_run({"dayOfMonth": "13", "dayOfWeek": "5", "hour": "0", "minute": "0", "second": "0"},
                        after) or 0) == dt.datetime(2027, 8, 13, tzinfo=_UTC)


def _matches(schedule: dict[str, str], at: dt.datetime) -> bool:
    values = {"second": at.second, "minute": at.minute, "hour": at.hour, "dayOfMonth": at.day,
              "month": at.month, "dayOfWeek": at.isoweekday()}
    for name, text in schedule.items():
        allowed: set[int] = set()
        for part in text.split(","):
            low, _, high = part.strip("[]").partition("-")
            allowed.update(range(int(low), int(high or low) + 1))
        if values[name] not in allowed:
            return False
    return True


_element = st.sampled_from(sorted(FIELDS))


@st.composite
def _schedules(draw: st.DrawFn) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in draw(st.sets(st.sampled_from(["second", "minute", "hour"]), min_size=1)):
        low, high = FIELDS[name]
        a = draw(st.integers(low, high))
        b = draw(st.integers(a, min(high, a + 3)))
        out[name] = str(a) if a == b else f"[{a}-{b}]"
    return out


@settings(max_examples=60, deadline=None)
@given(_schedules(), st.integers(_us(2026, 1, 1), _us(2027, 1, 1)))
def test_next_run_is_the_first_matching_second_after(schedule: dict[str, str], after: int) -> None:
    """Property: the answer matches the schedule, and no earlier second after ``after`` does (time-of-day
    schedules fire within a day, so a brute-force walk over the seconds between is cheap enough)."""
    found = next_run(schedule, after)
    assert found is not None and found > after
    assert _matches(schedule, _at(found))
    second = after // 1_000_000 + 1
    while second * 1_000_000 < found:
        assert not _matches(schedule, _at(second * 1_000_000))
        second += 1
