"""The BatteryPassport domain model: identity, consistency with its sections, dynamic history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from roadpass.passport.domain import (
    BatteryCategory,
    BatteryPassport,
    BatteryStatus,
    PassportCeased,
    PassportInconsistent,
)
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.schemas import SectionName, section_schema


def test_vocabularies_are_the_schema_enums() -> None:
    components = section_schema("GeneralProductInformation")["components"]["schemas"]  # type: ignore[index]
    assert {c.value for c in BatteryCategory} == set(components["BatteryCategoryEnum"]["enum"])  # type: ignore[index]
    assert [s.value for s in BatteryStatus] == components["BatteryStatusEnumeration"]["enum"]  # type: ignore[index]


def test_identity_comes_from_general_product_information(passport: BatteryPassport) -> None:
    assert passport.passport_id == "urn:bmwk:123456687678"
    assert passport.battery_id == "eOMtThyhVNLWUZNRcBaQKxI"
    assert passport.passport_id != passport.battery_id  # DIN DKE SPEC 99100 6.1.2.1
    assert passport.category is BatteryCategory.LMT
    assert passport.status is BatteryStatus.ORIGINAL
    assert passport.consortium_json()["warrentyPeriod"] == "--06"


def test_fields_and_section_must_agree(sections: dict[SectionName, JsonObject]) -> None:
    with pytest.raises(PassportInconsistent, match=r"\$\.batteryCategory"):
        BatteryPassport.from_sections(sections, category=BatteryCategory.EV)
    with pytest.raises(PassportInconsistent, match="needed to identify"):
        BatteryPassport.from_sections({})
    with pytest.raises(ValueError, match="ceased_at"):  # pydantic wraps it in its ValidationError
        BatteryPassport(passport_id="urn:a:b", battery_id="b", category=BatteryCategory.EV, ceased=True)


def test_dynamic_values_keep_history_and_the_passport_stays_immutable(passport: BatteryPassport) -> None:
    path = "$.batteryCondition.stateOfCharge"
    first = passport.with_dynamic(
        "PerformanceAndDurability",
        path,
        {"stateOfChargeValue": 80, "lastUpdate": "2025-02-01T00:00:00Z"},
        "2025-02-01T00:00:00Z",
    )
    second = first.with_dynamic(
        "PerformanceAndDurability",
        path,
        {"stateOfChargeValue": 40, "lastUpdate": "2025-02-02T00:00:00Z"},
        "2025-02-02T00:00:00Z",
    )
    assert second.value_at("PerformanceAndDurability", path) == {
        "stateOfChargeValue": 40,
        "lastUpdate": "2025-02-02T00:00:00Z",
    }
    assert [u.last_update for u in second.history_of("PerformanceAndDurability", path)] == [
        "2025-02-01T00:00:00Z",
        "2025-02-02T00:00:00Z",
    ]
    assert passport.history == ()
    assert passport.value_at("PerformanceAndDurability", path) != second.value_at(
        "PerformanceAndDurability", path
    )
    with pytest.raises(PassportInconsistent):
        passport.with_dynamic("GeneralProductInformation", "$.batteryStatus", "Waste", "2025-02-01T00:00:00Z")


def test_a_ceased_passport_is_read_only() -> None:
    ceased = BatteryPassport(
        passport_id="urn:a:b",
        battery_id="b",
        category=BatteryCategory.EV,
        ceased=True,
        ceased_at=datetime(2040, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(PassportCeased, match=r"Art. 77\(8\)"):
        ceased.with_section("Labeling", {})
