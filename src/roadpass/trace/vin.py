"""Vehicle Identification Numbers (ISO 3779) as a first-class identifier, and VINs inside GS1 GIAIs.

A VIN has 17 characters from ``0-9 A-Z`` without ``I``, ``O`` and ``Q`` (ISO 3779). Position 9 is a
check digit only where a market's rules make it one: which markets those are is the data table
:data:`CHECK_DIGIT_REGIONS` (by the first character of the WMI, ISO 3780), not code. The checksum and the
WMI/manufacturer/country look-up come from the ``vininfo`` package.

roadpass names a vehicle in EPCIS as a GIAI whose individual asset reference is the VIN (GS1 GenSpecs,
AI 8004): ``urn:epc:id:giai:<company prefix>.<VIN>`` or
``https://id.gs1.org/8004/<company prefix><VIN>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from vininfo import Vin as _VininfoVin

from roadpass.trace.identifiers import IdentifierError, canonical_id, parse_gs1

__all__ = [
    "CHECK_DIGIT_REGIONS",
    "CheckDigitRegion",
    "Vin",
    "VinError",
    "check_digit_required",
    "parse_vin",
    "vin_check_digit",
    "vin_from_identifier",
    "vin_to_giai_dl",
    "vin_to_giai_urn",
]


@dataclass(frozen=True, slots=True)
class CheckDigitRegion:
    """WMI first characters whose market makes VIN position 9 a mandatory check digit."""

    wmi_first: str
    region: str
    rule: str


#: Markets whose VIN rules require the check digit at position 9 (data, with the rule that requires it).
CHECK_DIGIT_REGIONS: Final[tuple[CheckDigitRegion, ...]] = (
    CheckDigitRegion("12345", "North America (US, Canada, Mexico)", "49 CFR 565.15(c); CMVSR 115; NOM-131-SCFI"),
    CheckDigitRegion("L", "China", "GB 16735-2019 (check digit in position 9)"),
)

_VIN_RE: Final = re.compile(r"[0-9A-HJ-NPR-Z]{17}")
# ISO 3779 Annex / 49 CFR 565.15: transliteration and position weights of the check digit.
_VALUES: Final[dict[str, int]] = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}  # fmt: skip
_WEIGHTS: Final = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


class VinError(ValueError):
    """A VIN is malformed; ``reason`` says why (length, character, check digit)."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"VIN {text!r}: {reason}")


def check_digit_required(vin: str) -> bool:
    """Whether the market of ``vin`` (by its WMI's first character) requires the position-9 check digit."""
    first = vin[:1]
    return any(first in region.wmi_first for region in CHECK_DIGIT_REGIONS)


def vin_check_digit(vin: str) -> str:
    """The check digit (``0``-``9`` or ``X``) position 9 should carry (49 CFR 565.15(c))."""
    total = sum(_VALUES[c] * w for c, w in zip(vin, _WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


@lru_cache(maxsize=4096)
def _parse(text: str, check_digit: bool) -> str:
    vin = text.strip().upper()
    if len(vin) != 17:
        raise VinError(text, f"must have 17 characters, got {len(vin)}")
    if _VIN_RE.fullmatch(vin) is None:
        bad = next(c for c in vin if not ("0" <= c <= "9" or "A" <= c <= "Z") or c in "IOQ")
        why = "I, O and Q are not used" if bad in "IOQ" else "only 0-9 and A-Z are allowed"
        raise VinError(text, f"character {bad!r} at position {vin.index(bad) + 1} ({why}, ISO 3779)")
    # vininfo's checksum (SAE J853 / 49 CFR 565.15), without its model-year plausibility check.
    if check_digit and check_digit_required(vin) and not _VininfoVin(vin).verify_checksum(check_year=False):
        raise VinError(
            text,
            f"check digit at position 9 is {vin[8]!r}, expected {vin_check_digit(vin)!r} "
            f"(required for WMI {vin[:3]!r})",
        )
    return vin


def parse_vin(text: str, *, check_digit: bool = True) -> str:
    """Validate a VIN and return it in canonical form (trimmed, upper case).

    Checks the length (17), the characters (ISO 3779: no I, O, Q) and, when ``check_digit`` is true and
    the WMI's market requires one (:data:`CHECK_DIGIT_REGIONS`), the check digit at position 9. Raises
    :class:`VinError` naming the reason.
    """
    return _parse(text, check_digit)


@dataclass(frozen=True, slots=True)
class Vin:
    """A validated VIN with its sections (ISO 3779: WMI, VDS, VIS) and vininfo's WMI look-ups."""

    value: str

    @classmethod
    def parse(cls, text: str, *, check_digit: bool = True) -> Vin:
        """Validate ``text`` (see :func:`parse_vin`)."""
        return cls(parse_vin(text, check_digit=check_digit))

    def __post_init__(self) -> None:
        parse_vin(self.value, check_digit=False)
        if self.value != self.value.strip().upper():
            raise VinError(self.value, "not in canonical form (use Vin.parse)")

    def __str__(self) -> str:
        return self.value

    @property
    def wmi(self) -> str:
        """World manufacturer identifier (positions 1-3, ISO 3780)."""
        return self.value[:3]

    @property
    def vds(self) -> str:
        """Vehicle descriptor section (positions 4-9)."""
        return self.value[3:9]

    @property
    def vis(self) -> str:
        """Vehicle indicator section (positions 10-17)."""
        return self.value[9:]

    @property
    def check_digit_required(self) -> bool:
        """Whether this VIN's market requires the position-9 check digit."""
        return check_digit_required(self.value)

    @property
    def check_digit_valid(self) -> bool:
        """Whether position 9 holds the computed check digit (meaningful where one is required)."""
        return bool(_VininfoVin(self.value).verify_checksum(check_year=False))

    @property
    def manufacturer(self) -> str | None:
        """Manufacturer by WMI (vininfo), ``None`` when unknown."""
        name = _VininfoVin(self.value).manufacturer
        return None if not name or name == "UnsupportedBrand" else str(name)

    @property
    def country(self) -> str | None:
        """Country by WMI (vininfo), ``None`` when unknown."""
        country = _VininfoVin(self.value).country
        return None if country is None else str(country)

    @property
    def region(self) -> str | None:
        """Continent by the first WMI character (vininfo)."""
        region = _VininfoVin(self.value).region
        return None if region is None else str(region)


def vin_to_giai_urn(vin: str, company_prefix: str) -> str:
    """The GIAI EPC URN naming a vehicle: ``urn:epc:id:giai:<company prefix>.<VIN>`` (GS1 TDS 2.0 §6.3, GIAI)."""
    value = parse_vin(vin)
    urn = f"urn:epc:id:giai:{company_prefix}.{value}"
    parse_gs1(urn)  # validates the company prefix and the GIAI length (at most 30 characters)
    return urn


def vin_to_giai_dl(vin: str, company_prefix: str) -> str:
    """The canonical Digital Link URI of the vehicle GIAI: ``https://id.gs1.org/8004/<CP><VIN>``."""
    return canonical_id(vin_to_giai_urn(vin, company_prefix))


def vin_from_identifier(uri: str) -> str | None:
    """The VIN a vehicle identifier carries, or ``None``.

    From a GIAI EPC URN the asset reference (after the company prefix) if it is a VIN; from a GIAI Digital
    Link URI, where the company prefix length is unknown, the trailing 17 characters if they form a valid
    VIN. A bare VIN is returned as is. Check digits are verified where the market requires them.
    """
    if len(uri) == 17 and ":" not in uri and "/" not in uri:
        candidate = uri
    else:
        try:
            key = parse_gs1(uri)
        except IdentifierError:
            return None
        if key.scheme != "giai":
            return None
        candidate = key.key[len(key.company_prefix) :] if key.company_prefix is not None else key.key[-17:]
    if len(candidate) != 17:
        return None
    try:
        return parse_vin(candidate)
    except VinError:
        return None
