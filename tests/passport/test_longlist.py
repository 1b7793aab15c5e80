"""The attribute long-list v1.2 read in place."""

from __future__ import annotations

from collections import Counter

from roadpass.passport.domain import BatteryCategory
from roadpass.passport.longlist import AnnexXIIIPoint, Requirement, load_longlist


def test_long_list_has_93_attributes_in_order() -> None:
    rows = load_longlist()
    assert [a.number for a in rows] == list(range(1, 94))


def test_access_rights_map_to_annex_xiii_points() -> None:
    rows = {a.number: a for a in load_longlist()}
    assert rows[1].access is AnnexXIIIPoint.PUBLIC
    assert rows[33].access is AnnexXIIIPoint.LEGITIMATE_INTEREST_AND_COMMISSION  # Annex XIII (2)(a)
    assert rows[18].access is AnnexXIIIPoint.AUTHORITIES  # Annex XIII (3)
    assert rows[57].access is AnnexXIIIPoint.LEGITIMATE_INTEREST  # SOCE, Annex XIII (4)
    counts = Counter(a.access for a in rows.values())
    assert counts == {
        AnnexXIIIPoint.PUBLIC: 60,
        AnnexXIIIPoint.LEGITIMATE_INTEREST: 27,
        AnnexXIIIPoint.LEGITIMATE_INTEREST_AND_COMMISSION: 5,
        AnnexXIIIPoint.AUTHORITIES: 1,
    }


def test_category_requirements_static_dynamic_and_granularity() -> None:
    rows = {a.number: a for a in load_longlist()}
    soce = rows[57]
    assert soce.mandatory_for(BatteryCategory.EV)
    assert soce.requirement(BatteryCategory.LMT) is Requirement.NOT_APPLICABLE
    assert soce.dynamic
    assert soce.granularity == "Individual battery"
    into_service = rows[7]
    assert [into_service.requirement(c) for c in BatteryCategory] == [
        Requirement.NOT_APPLICABLE,  # EV
        Requirement.MANDATORY,  # LMT
        Requirement.NOT_APPLICABLE,  # industrial
        Requirement.MANDATORY,  # stationary
    ]
    assert rows[3].requirement(BatteryCategory.EV) is Requirement.VOLUNTARY
    assert rows[64].regulation_reference.startswith("Annex IV P(4)")  # multi-line cell, whitespace collapsed
    assert not rows[1].dynamic
