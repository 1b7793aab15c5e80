"""EPCIS timestamps as integer microseconds since the Unix epoch (UTC), and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["FOREVER", "NOW", "from_us", "iso_utc", "parse_time", "to_us"]

#: End of an interval that has not been closed.
FOREVER = 2**62
#: "Now" for genealogy: later than every recorded instant, earlier than FOREVER.
NOW = FOREVER - 1

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def parse_time(value: str, field: str = "time") -> int:
    """Parse an xsd:dateTime with an offset (``2020-03-04T11:00:30.000+01:00`` or ``...Z``) to UTC µs."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field}: {value!r} is not an ISO 8601 date-time") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"{field}: {value!r} has no time-zone offset (EPCIS requires one)")
    return (parsed - _EPOCH) // _US


def to_us(moment: datetime) -> int:
    """A timezone-aware datetime as UTC microseconds."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _US


def from_us(value: int) -> datetime:
    """UTC microseconds as a timezone-aware datetime."""
    return _EPOCH + timedelta(microseconds=value)


def iso_utc(value: int) -> str:
    """UTC microseconds as ``2020-03-04T10:00:30.123Z`` (millisecond precision, as EPCIS examples use)."""
    moment = from_us(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
