"""Value normalisation for the CBV 2.0 event hash: CBV URNs, numbers, times, GS1 identifiers.

Part of :mod:`roadpass.trace.epcis.event_hash`, which says what is hashed and how; the rule numbers are
those of the reference implementation's README.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Final

from roadpass.trace.epcis.vocabulary import legacy_urn_prefixes
from roadpass.trace.identifiers import hash_canonical_id

_NUMERIC_START: Final = frozenset("0123456789+-.")


def _numeric(text: str) -> str:
    # Rule 6: "1.0" -> "1", "0.34340" -> "0.3434", "+5" -> "5" (any value that parses as a number).
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    integral = int(number)
    return str(integral) if integral == number else str(number)


def _canon(text: str) -> str:
    """Rules 14, 6, 17-18 applied in the reference's order to a trimmed, non-empty value."""
    if "urn:epcglobal:cbv:" in text:
        for legacy, web in legacy_urn_prefixes():
            text = text.replace(legacy, web)
    first = text[0]
    if first == "u":
        if text.startswith("urn:epc:"):
            return hash_canonical_id(text)
        return text
    if first == "h":
        return hash_canonical_id(text) if text.startswith("http") else text
    if first in _NUMERIC_START or not first.isascii():
        # "inf"/"nan" stay as they are, so words starting with i/n need not be tried.
        return _numeric(text)
    return text


_TIME_RE: Final = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?\s*(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?)?"
)
_SECOND: Final = timedelta(seconds=1)
_BARE_DOT_RE: Final = re.compile(r"[.,](?!\d)")


def _parse_time(text: str) -> tuple[datetime, timedelta | None] | None:
    """(naive local date-time, UTC offset or None) for an ISO 8601 date-time, or None."""
    if _BARE_DOT_RE.search(text):
        return None  # "11:00:30.Z": Python would read it, the reference (dateutil) does not
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=None), moment.utcoffset()
    except ValueError:
        pass
    m = _TIME_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro)
    except ValueError:
        return None
    if sign is None:
        return moment, (timedelta(0) if _zulu else None)
    offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
    return moment, (offset if sign == "+" else -offset)


# The usual xsd:dateTimeStamp, split where the memos below split it: the date, then "T" clock and offset.
_FAST_DATE_RE: Final = re.compile(r"\d{4}-\d\d-\d\d")
_FAST_CLOCK_RE: Final = re.compile(r"T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:Z|([+-])([01]\d|2[0-3]):([0-5]\d))")


@lru_cache(maxsize=1 << 14)
def _utc_clock(text: str) -> tuple[int, str] | None:
    """For ``T10:05:35.000+08:00``: (days the date moves, ``T02:05:35.000Z``); None to take the slow path.

    Memoised: clock times and offsets recur across events far more than whole timestamps do."""
    m = _FAST_CLOCK_RE.fullmatch(text)
    if m is None:
        return None
    hour, minute, second, fraction, sign, off_h, off_m = m.groups()
    clock, seconds = int(hour) * 60 + int(minute), int(second)
    # Reference: the microseconds (6 digits) rounded half-to-even to whole milliseconds.
    millis = round(int(fraction[:6].ljust(6, "0")), -3) // 1000 if fraction else 0
    if sign is not None:
        offset = int(off_h) * 60 + int(off_m)
        clock = clock - offset if sign == "+" else clock + offset
    if seconds >= 60 or millis >= 1000 or int(hour) >= 24 or int(minute) >= 60:
        return None
    # An offset is under a day: the date moves by one day at most.
    days = -1 if clock < 0 else (1 if clock >= 1440 else 0)
    clock -= days * 1440
    return days, f"T{clock // 60:02d}:{clock % 60:02d}:{seconds:02d}.{millis:03d}Z"


@lru_cache(maxsize=4096)
def _shifted_date(text: str, days: int) -> str | None:
    """The date ``text`` (YYYY-MM-DD) moved by ``days``, or None when it is invalid or out of range."""
    if _FAST_DATE_RE.fullmatch(text) is None:
        return None
    try:
        day = date.fromisoformat(text)
        return text if days == 0 else (day + timedelta(days=days)).isoformat()
    except (ValueError, OverflowError):
        return None


def _fix_time(text: str) -> str:
    """Rules 8-9: UTC, millisecond precision, ``Z``; unparseable text comes back unchanged."""
    if len(text) == 24 and text[23] == "Z" and text[19] == "." and text[10] == "T":
        return text  # already canonical (and left as is, parseable or not, like the reference)
    clock = _utc_clock(text[10:])
    if clock is not None:
        day = _shifted_date(text[:10], clock[0])
        if day is not None:
            return day + clock[1]
    parsed = _parse_time(text)
    if parsed is None:
        return text
    moment, offset_delta = parsed
    micro = round(moment.microsecond, -3)
    try:
        moment = moment.replace(microsecond=0) + _SECOND if micro == 1_000_000 else moment.replace(microsecond=micro)
        if offset_delta:
            moment -= offset_delta
    except OverflowError:
        return text
    return moment.isoformat(timespec="milliseconds") + "Z"
