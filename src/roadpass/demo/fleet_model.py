"""The demo fleet's data model: its specification, parties, sites, parts catalogue and identifier rules.

The reference data (companies, sites, parts, markets) lives in ``fleet_data.yaml`` beside this module and is
read on first use, never at import. Identifiers follow the GS1 EPC Tag Data Standard 2.0 pure-identity URIs
(SGTIN, LGTIN class, SGLN, PGLN, GIAI) and ISO 3779 for the VIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

__all__ = [
    "DemoLocation",
    "DemoParty",
    "FleetSpec",
    "gln_check_digit",
    "model_year_code",
    "vin_check_digit",
]

ROLES = ("manufacturer", "supplier", "importer", "dealer", "repairer", "recycler", "lab", "authority")


@dataclass(frozen=True)
class FleetSpec:
    """What fleet to generate. Equal specs give byte-identical output (no wall clock, one seeded RNG).

    ``start`` is when the story begins: the first suppliers' production; vehicle assembly starts once the
    longest supply lead time has passed. ``vehicles_per_day`` is the two plants' joint output per working
    day (Monday to Saturday). ``pack_recycling_share`` is the share of packs removed in service that go on
    to a recycler's disassembly.
    """

    vehicles: int = 1000
    seed: int = 7
    start: datetime = datetime(2025, 1, 6, tzinfo=UTC)
    events_per_document: int = 500
    service_share: float = 0.06
    vehicles_per_day: int = 480
    pack_recycling_share: float = 0.6

    def __post_init__(self) -> None:
        if not 1 <= self.vehicles <= 1_000_000:
            raise ValueError(f"FleetSpec.vehicles: must be between 1 and 1,000,000, got {self.vehicles}")
        if self.events_per_document < 1:
            raise ValueError(f"FleetSpec.events_per_document: must be at least 1, got {self.events_per_document}")
        if not 0.0 <= self.service_share <= 1.0:
            raise ValueError(f"FleetSpec.service_share: must be within [0, 1], got {self.service_share}")
        if not 0.0 <= self.pack_recycling_share <= 1.0:
            raise ValueError(
                f"FleetSpec.pack_recycling_share: must be within [0, 1], got {self.pack_recycling_share}"
            )
        if not 1 <= self.vehicles_per_day <= 5000:
            raise ValueError(f"FleetSpec.vehicles_per_day: must be between 1 and 5000, got {self.vehicles_per_day}")
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ValueError("FleetSpec.start: must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")


@dataclass(frozen=True, slots=True)
class DemoParty:
    """A company of the demo supply chain: ``role`` is one of :data:`ROLES`, ``country`` ISO 3166-1 alpha-2."""

    key: str
    name: str
    role: str
    country: str
    company_prefix: str

    @property
    def gcp(self) -> str:
        """Short name of :attr:`company_prefix`."""
        return self.company_prefix

    @property
    def pgln(self) -> str:
        """The party's PGLN EPC URI (company prefix plus an all-zero party reference)."""
        return f"urn:epc:id:pgln:{self.gcp}.{'0' * (12 - len(self.gcp))}"

    @property
    def gln(self) -> str:
        """The party's 13-digit GLN."""
        body = self.gcp + "0" * (12 - len(self.gcp))
        return body + str(gln_check_digit(body))


@dataclass(frozen=True, slots=True)
class DemoLocation:
    """A site (business location) of a demo party."""

    key: str
    sgln: str
    name: str
    city: str
    country: str
    role: str
    party: str
    utc_offset_minutes: int
    eu_dst: bool = False

    @property
    def gln(self) -> str:
        """The site's 13-digit GLN."""
        gcp, ref = self.sgln.rsplit(":", 1)[1].split(".")[:2]
        return gcp + ref + str(gln_check_digit(gcp + ref))


# ---------------------------------------------------------------------------------------------- identifiers

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# ISO 3779 / FMVSS 565 model-year codes, a 30-year cycle from 2010 (letters I, O, Q, U, Z and digit 0 unused).
_MODEL_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


_VIN_HEAD_SUMS: dict[str, int] = {}


def vin_check_digit(vin: str) -> str:
    """The check character (position 9) of a 17-character VIN, per ISO 3779 Annex / 49 CFR 565.15.

    China's GB 16735 makes the check digit mandatory, so every demo VIN carries a valid one. The weighted sum
    of the first 11 characters is cached: a fleet shares a handful of them.
    """
    if len(vin) != 17:
        raise ValueError(f"vin: must have 17 characters, got {len(vin)}")
    head = vin[:11]
    total = _VIN_HEAD_SUMS.get(head)
    if total is None:
        total = _VIN_HEAD_SUMS[head] = sum(_VIN_VALUES[ch] * w for ch, w in zip(head, _VIN_WEIGHTS, strict=False))
    values = _VIN_VALUES
    total += (
        values[vin[11]] * 7 + values[vin[12]] * 6 + values[vin[13]] * 5
        + values[vin[14]] * 4 + values[vin[15]] * 3 + values[vin[16]] * 2
    )
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def model_year_code(year: int) -> str:
    """The VIN position-10 code of a model year (2025 -> "S", 2026 -> "T")."""
    return _MODEL_YEAR_CODES[(year - 2010) % 30]


def gln_check_digit(digits: str) -> int:
    """GS1 modulo-10 check digit of a 12-digit GLN body (GS1 General Specifications 7.9.1)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


# ---------------------------------------------------------------------------------------------- time

_EU_DST: dict[int, tuple[int, int]] = {}


def _last_sunday_0100_utc(year: int, month: int) -> int:
    last = date(year, month + 1, 1) - timedelta(days=1)
    last -= timedelta(days=(last.weekday() + 1) % 7)
    return int(datetime(last.year, last.month, last.day, 1, tzinfo=UTC).timestamp())


def eu_summer_time(ts: int) -> bool:
    """Whether UTC instant ``ts`` falls in EU summer time (Directive 2000/84/EC, Art. 1-3)."""
    year = datetime.fromtimestamp(ts, UTC).year
    bounds = _EU_DST.get(year)
    if bounds is None:
        bounds = _EU_DST[year] = (_last_sunday_0100_utc(year, 3), _last_sunday_0100_utc(year, 10))
    return bounds[0] <= ts < bounds[1]


DAY_TEXT: dict[int, str] = {}


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{mins:02d}"


@cache
def offset_text(minutes: int) -> str:
    """``+08:00`` style text of a UTC offset in minutes."""
    return _offset_text(minutes)


HOUR_MINUTE = [f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
SECOND = [f"{s:02d}.000" for s in range(60)]


def local_stamp(local: int) -> str:
    """``2025-01-06T07:00:00.000`` for ``local`` seconds since 1970-01-01T00:00 on a local clock.

    The hot path of event building: dates are cached per day and clock texts come from tables.
    """
    day, secs = divmod(local, 86400)
    text = DAY_TEXT.get(day)
    if text is None:
        text = DAY_TEXT[day] = date.fromordinal(day + 719163).isoformat() + "T"
    minute, second = divmod(secs, 60)
    return text + HOUR_MINUTE[minute] + SECOND[second]


def local_time(ts: int, offset_minutes: int) -> str:
    """RFC 3339 local time of UTC instant ``ts`` at ``offset_minutes`` (``2025-01-06T07:00:00.000+08:00``)."""
    return local_stamp(ts + offset_minutes * 60) + offset_text(offset_minutes)


def utc_time(ts: int) -> str:
    """RFC 3339 UTC text of ``ts`` (``2025-01-06T07:00:00.000Z``)."""
    return local_time(ts, 0)[:-6] + "Z"


def as_datetime(ts: int) -> datetime:
    """UTC datetime of epoch seconds ``ts``."""
    return datetime.fromtimestamp(ts, UTC)


# ---------------------------------------------------------------------------------------------- catalogue


@cache
def fleet_data() -> dict[str, Any]:
    """The parsed ``fleet_data.yaml`` (read once, on first use)."""
    text = resources.files("roadpass.demo").joinpath("fleet_data.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: the C loader
    data: dict[str, Any] = yaml.load(text, Loader=loader)
    return data


def _tz_minutes(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    hours, mins = text[1:].split(":")
    return sign * (int(hours) * 60 + int(mins))


def _sgln(gcp: str, ref: int) -> str:
    return f"urn:epc:id:sgln:{gcp}.{ref:0{12 - len(gcp)}d}.0"


@cache
def catalogue() -> tuple[dict[str, DemoParty], dict[str, DemoLocation]]:
    """All parties and locations by key: the YAML's own plus one party and site per dealer and workshop."""
    data = fleet_data()
    parties = {p["key"]: DemoParty(p["key"], p["name"], p["role"], p["country"], p["gcp"]) for p in data["parties"]}
    locations: dict[str, DemoLocation] = {}
    for loc in data["locations"]:
        owner = parties[loc["party"]]
        locations[loc["key"]] = DemoLocation(
            key=loc["key"],
            sgln=_sgln(owner.gcp, int(loc["ref"])),
            name=loc["name"],
            city=loc["city"],
            country=loc.get("country", owner.country),
            role=loc["role"],
            party=owner.key,
            utc_offset_minutes=_tz_minutes(loc["tz"]),
            eu_dst=loc.get("dst") == "eu",
        )
    for country, market in data["markets"].items():
        for kind, role, site_role in (("dealers", "dealer", "dealer"), ("workshops", "repairer", "workshop")):
            for i, (name, city, gcp) in enumerate(market[kind]):
                key = f"{site_role}_{country.lower()}_{i + 1}"
                parties[key] = DemoParty(key, name, role, country, gcp)
                locations[key] = DemoLocation(
                    key=key,
                    sgln=_sgln(gcp, 1),
                    name=f"{name} {city}",
                    city=city,
                    country=country,
                    role=site_role,
                    party=key,
                    utc_offset_minutes=_tz_minutes(market["tz"]),
                    eu_dst=market.get("dst") == "eu",
                )
    return parties, locations
