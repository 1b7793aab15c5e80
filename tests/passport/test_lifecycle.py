"""Status transitions (Art. 77(7)-(8)): new linked passport for a second life, waste, recycled = ceased."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from roadpass.passport.access import Role, view
from roadpass.passport.domain import BatteryCategory, BatteryPassport, BatteryStatus, PassportCeased
from roadpass.passport.lifecycle import (
    TransitionRefused,
    change_status,
    mark_waste,
    new_passport_id,
    recycle,
)
from roadpass.passport.schemas import validate_section

T0 = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)


def test_repurposing_issues_a_new_passport_linked_to_the_original(passport: BatteryPassport) -> None:
    outcome = change_status(
        passport,
        BatteryStatus.REPURPOSED,
        T0,
        passport_id="urn:roadpass:second1",
        category=BatteryCategory.STATIONARY,
    )
    old, new = outcome.passport, outcome.new_passport
    assert new is not None
    assert new.passport_id == "urn:roadpass:second1"
    assert new.predecessor_passport_ids == (passport.passport_id,)
    assert new.battery_id == passport.battery_id
    assert new.status is BatteryStatus.REPURPOSED
    assert new.category is BatteryCategory.STATIONARY
    gpi = new.sections["GeneralProductInformation"]
    assert gpi["batteryPassportIdentifier"] == "urn:roadpass:second1"
    assert gpi["batteryStatus"] == "Repurposed"
    assert gpi["batteryCategory"] == "stationary"
    assert validate_section("GeneralProductInformation", gpi) == []
    assert [(h.path, h.value) for h in new.history] == [("$.batteryStatus", "Repurposed")]
    # the original passport is unchanged but for the forward link, and refuses further changes
    assert old.status is BatteryStatus.ORIGINAL
    assert old.successor_passport_id == new.passport_id
    with pytest.raises(TransitionRefused, match="superseded"):
        mark_waste(old, T0)


def test_second_life_again_and_fresh_identifiers(passport: BatteryPassport) -> None:
    reused = change_status(passport, BatteryStatus.REUSED, T0).new_passport
    assert reused is not None
    assert reused.passport_id.startswith("urn:roadpass:")
    assert reused.passport_id != passport.passport_id
    again = change_status(reused, BatteryStatus.REMANUFACTURED, T0 + timedelta(days=400)).new_passport
    assert again is not None
    assert again.predecessor_passport_ids == (reused.passport_id,)
    assert new_passport_id("acme") != new_passport_id("acme")
    with pytest.raises(TransitionRefused, match="identifier of its own"):
        change_status(passport, BatteryStatus.REUSED, T0, passport_id=passport.passport_id)


def test_waste_then_recycled_ceases_the_passport_which_stays_readable(passport: BatteryPassport) -> None:
    waste = mark_waste(passport, T0, source="collection point 7").passport
    assert waste.status is BatteryStatus.WASTE
    assert waste.passport_id == passport.passport_id
    assert waste.sections["GeneralProductInformation"]["batteryStatus"] == "Waste"
    assert waste.history[-1].source == "collection point 7"
    recycled = recycle(waste, T0 + timedelta(days=10)).passport
    assert recycled.ceased
    assert recycled.ceased_at == T0 + timedelta(days=10)
    assert view(recycled, Role.PUBLIC).fields["ceased"] is True
    assert recycled.sections == waste.sections  # still readable as history
    with pytest.raises(PassportCeased):
        recycled.with_dynamic("PerformanceAndDurability", "$.batteryCondition.powerFade", 1.0, T0.isoformat())
    with pytest.raises(TransitionRefused, match=r"ceased \(Art. 77\(8\)\)"):
        change_status(recycled, BatteryStatus.REUSED, T0)


def test_waste_may_be_prepared_for_re_use_or_repurposing_but_not_remanufactured(
    passport: BatteryPassport,
) -> None:
    waste = mark_waste(passport, T0).passport
    assert change_status(waste, BatteryStatus.REPURPOSED, T0).new_passport is not None
    with pytest.raises(TransitionRefused, match="not on waste"):
        change_status(waste, BatteryStatus.REMANUFACTURED, T0)


@pytest.mark.parametrize(
    ("steps", "target", "reason"),
    [
        ([], BatteryStatus.ORIGINAL, "never becomes original again"),
        ([BatteryStatus.WASTE], BatteryStatus.WASTE, "already waste"),
    ],
)
def test_invalid_transitions_are_refused_with_a_reason(
    passport: BatteryPassport, steps: list[BatteryStatus], target: BatteryStatus, reason: str
) -> None:
    for step in steps:
        passport = change_status(passport, step, T0).passport
    with pytest.raises(TransitionRefused, match=reason) as refused:
        change_status(passport, target, T0)
    assert refused.value.target == target.value
    assert refused.value.passport_id == passport.passport_id


def test_recycling_needs_a_waste_battery_and_times_need_an_offset(passport: BatteryPassport) -> None:
    with pytest.raises(TransitionRefused, match="mark it as waste first"):
        recycle(passport, T0)
    with pytest.raises(ValueError, match="UTC offset"):
        mark_waste(passport, datetime(2030, 1, 1))
