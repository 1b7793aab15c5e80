"""The Battery Pass attribute long-list v1.2, read in place: the source of truth for what a passport holds.

Per attribute the sheet gives which battery categories must carry it (``x``), may carry it (``o``) or
need not (blank), the Battery Regulation reference, the access rights under the Regulation, whether it
is static or dynamic, and whether it describes the battery model or the individual battery. roadpass
reads the CSV export (``attribute-longlist-v1.2.csv``); columns are found by header, not position.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import cache
from types import MappingProxyType

from roadpass.conformance import conformance_path
from roadpass.passport.domain import BatteryCategory
from roadpass.passport.jsondata import decode_text

__all__ = ["AnnexXIIIPoint", "LongListAttribute", "LongListError", "Requirement", "load_longlist"]

LONGLIST_FILE = "attribute-longlist-v1.2.csv"


class AnnexXIIIPoint(IntEnum):
    """Which point of Annex XIII an attribute falls under, hence who may see it (Art. 77(2))."""

    PUBLIC = 1  # Annex XIII (1): accessible to the public, Art. 77(2)(a)
    LEGITIMATE_INTEREST_AND_COMMISSION = 2  # Annex XIII (2): Art. 77(2)(b)
    AUTHORITIES = 3  # Annex XIII (3): notified bodies, market surveillance authorities, Commission, 77(2)(c)
    LEGITIMATE_INTEREST = 4  # Annex XIII (4): Art. 77(2)(b)


# The four wordings the sheet's "Access rights according to Battery Regulation" column uses.
_ACCESS_WORDING: Mapping[str, AnnexXIIIPoint] = MappingProxyType(
    {
        "public": AnnexXIIIPoint.PUBLIC,
        "persons with a legitimate interest and the commission": (
            AnnexXIIIPoint.LEGITIMATE_INTEREST_AND_COMMISSION
        ),
        "notified bodies, market surveillance authorities and the commission": AnnexXIIIPoint.AUTHORITIES,
        "persons with a legitimate interest": AnnexXIIIPoint.LEGITIMATE_INTEREST,
    }
)


class Requirement(StrEnum):
    """How the sheet marks an attribute for a battery category."""

    MANDATORY = "x"
    VOLUNTARY = "o"
    NOT_APPLICABLE = ""


_CATEGORY_COLUMNS: Mapping[BatteryCategory, str] = MappingProxyType(
    {
        BatteryCategory.EV: "EV",
        BatteryCategory.LMT: "LMT",
        BatteryCategory.INDUSTRIAL: "Other Industrial >2kWh",
        BatteryCategory.STATIONARY: "Stationary >2kWh",
    }
)


class LongListError(ValueError):
    """The long-list file does not have the shape roadpass reads (names row and column)."""


@dataclass(frozen=True, slots=True)
class LongListAttribute:
    """One row of the long-list."""

    number: int
    din_chapter: str  # DIN DKE SPEC 99100 chapter
    name: str
    attribute_category: str
    attribute_subcategory: str
    requirements: Mapping[BatteryCategory, Requirement]
    regulation_reference: str
    unit: str
    data_format: str
    access_rights: str  # as worded in the sheet
    access: AnnexXIIIPoint
    dynamic: bool
    update_requirement: str
    granularity: str  # "Battery model" or "Individual battery"

    def requirement(self, category: BatteryCategory) -> Requirement:
        """How the long-list marks this attribute for ``category``."""
        return self.requirements[category]

    def mandatory_for(self, category: BatteryCategory) -> bool:
        """Whether a passport of ``category`` must carry this attribute."""
        return self.requirements[category] is Requirement.MANDATORY


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _requirement(cell: str, where: str) -> Requirement:
    try:
        return Requirement(cell.strip().lower())
    except ValueError:
        raise LongListError(f"{where}: expected 'x', 'o' or blank, found {cell!r}") from None


def _row(cells: Mapping[str, str], line: int) -> LongListAttribute:
    def col(header: str) -> str:
        return cells[_norm(header)].strip()

    access_text = col("Access rights according to Battery Regulation")
    access = _ACCESS_WORDING.get(_norm(access_text))
    if access is None:
        raise LongListError(f"{LONGLIST_FILE} line {line}: unknown access rights {access_text!r}")
    behaviour = col("Data behavioural characteristic: static vs. dynamic").lower()
    if behaviour not in ("static", "dynamic"):
        raise LongListError(f"{LONGLIST_FILE} line {line}: static/dynamic column holds {behaviour!r}")
    requirements = {
        category: _requirement(col(header), f"{LONGLIST_FILE} line {line}, column {header!r}")
        for category, header in _CATEGORY_COLUMNS.items()
    }
    return LongListAttribute(
        number=int(col("#")),
        din_chapter=col("DIN DKE Spec 99100 Chapter"),
        name=re.sub(r"\s+", " ", col("Attribute")),
        attribute_category=col("Attribute category"),
        attribute_subcategory=re.sub(r"\s+", " ", col("Attribute sub-category")),
        requirements=MappingProxyType(requirements),
        regulation_reference=re.sub(r"\s+", " ", col("Regulation Reference")),
        unit=col("Unit of attribute or sign (if applicable)"),
        data_format=col("Data format"),
        access_rights=access_text,
        access=access,
        dynamic=behaviour == "dynamic",
        update_requirement=re.sub(r"\s+", " ", col("Update requirement for dynamic data, or, where defined")),
        granularity=col("Granularity level I: Model vs individual battery"),
    )


@cache
def load_longlist() -> tuple[LongListAttribute, ...]:
    """Every attribute of the long-list, in sheet order (93 in v1.2)."""
    text = decode_text(conformance_path("batterypass", LONGLIST_FILE).read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = [_norm(h) for h in next(reader)]
    rows: list[LongListAttribute] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(headers):
            raise LongListError(
                f"{LONGLIST_FILE} line {reader.line_num}: {len(cells)} cells, expected {len(headers)}"
            )
        rows.append(_row(dict(zip(headers, cells, strict=True)), reader.line_num))
    return tuple(rows)
