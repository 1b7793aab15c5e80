"""Views under Art. 77(2): fields above the caller's level are absent, not blanked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from roadpass.passport.access import DEFAULT_POLICY, AccessPolicy, Role, access_of, view, view_for_party
from roadpass.passport.domain import BatteryPassport
from roadpass.passport.jsondata import JsonValue, format_path
from roadpass.passport.longlist import AnnexXIIIPoint as P


def _leaves(value: JsonValue, parts: list[str | int]) -> Iterator[tuple[str, JsonValue]]:
    if isinstance(value, dict) and value:
        for key, child in value.items():
            yield from _leaves(child, [*parts, key])
    elif isinstance(value, list) and value:
        for index, child in enumerate(value):
            yield from _leaves(child, [*parts, index])
    else:
        yield format_path(parts), value


@pytest.mark.parametrize("role", list(Role))
def test_a_view_holds_exactly_the_leaves_the_role_may_see(passport: BatteryPassport, role: Role) -> None:
    seen = DEFAULT_POLICY.points(role)
    shown = view(passport, role)
    for name, payload in passport.sections.items():
        visible = dict(_leaves(shown.sections.get(name, {}), []))
        for path, value in _leaves(payload, []):
            points = access_of(name, path)
            if points is not None and points <= seen:
                assert visible.get(path) == value, f"{role}: {name} {path} should be shown"
            else:
                assert path not in visible, f"{role}: {name} {path} must be absent"


def test_public_view(passport: BatteryPassport) -> None:
    shown = view(passport, Role.PUBLIC)
    pd = shown.sections["PerformanceAndDurability"]
    assert "batteryCondition" in pd  # e.g. round trip efficiency at 50 % cycle life is public (1)(n)
    assert "stateOfCertifiedEnergy" not in pd["batteryCondition"]  # type: ignore[operator]
    assert "expectedLifetime" not in pd["batteryTechicalProperties"]  # type: ignore[operator]
    assert "resultOfTestReport" not in shown.sections["Labeling"]  # Annex XIII (3)
    assert "puttingIntoService" not in shown.sections["GeneralProductInformation"]
    assert "batteryStatus" not in shown.sections["GeneralProductInformation"]  # Annex XIII (4)(c)
    assert "batteryStatus" not in shown.fields
    assert shown.fields["passportId"] == passport.passport_id
    material = shown.sections["MaterialComposition"]["batteryMaterials"][0]  # type: ignore[index]
    assert set(material) == {"batteryMaterialName", "batteryMaterialIdentifier", "isCriticalRawMaterial"}  # type: ignore[arg-type]
    # the property a list is keyed by travels with the value it describes
    label = shown.sections["Labeling"]["labels"][0]  # type: ignore[index]
    assert label["labelingSubject"] == "SeparateCollection"  # type: ignore[index]
    assert "Circularity" in shown.sections
    assert "sparePartSources" not in shown.sections["Circularity"]  # Annex XIII (2)(b)


def test_legitimate_interest_view(passport: BatteryPassport) -> None:
    shown = view(passport, Role.LEGITIMATE_INTEREST)
    assert "stateOfCertifiedEnergy" in shown.sections["PerformanceAndDurability"]["batteryCondition"]  # type: ignore[operator]
    assert "resultOfTestReport" not in shown.sections["Labeling"]
    assert "sparePartSources" in shown.sections["Circularity"]
    assert shown.fields["batteryStatus"] == "Original"
    assert "batteryMaterialMass" in shown.sections["MaterialComposition"]["batteryMaterials"][0]  # type: ignore[index,operator]


def test_authority_view(passport: BatteryPassport) -> None:
    shown = view(passport, Role.AUTHORITY)
    assert shown.sections["Labeling"]["resultOfTestReport"] == "ftp://ftp.is.co.za/rfc/rfc1808.txt"
    assert "sparePartSources" in shown.sections["Circularity"]  # point 2 (Commission)
    assert "stateOfCertifiedEnergy" not in shown.sections["PerformanceAndDurability"]["batteryCondition"]  # type: ignore[operator]


def test_extra_fields_beside_the_schema_are_withheld_and_inside_a_visible_object_follow_it(
    passport: BatteryPassport,
) -> None:
    gpi = passport.sections["GeneralProductInformation"]
    manufacturer = {**gpi["manufacturerInformation"], "vatNumber": "DE123"}  # type: ignore[dict-item]
    extended = passport.with_section(
        "GeneralProductInformation", {**gpi, "internalNote": "x", "manufacturerInformation": manufacturer}
    )
    for role in Role:
        shown = view(extended, role).sections["GeneralProductInformation"]
        assert "internalNote" not in shown
        assert shown["manufacturerInformation"]["vatNumber"] == "DE123"  # type: ignore[index]


def test_history_is_filtered_by_the_same_rules(passport: BatteryPassport) -> None:
    updated = passport.with_dynamic(
        "PerformanceAndDurability",
        "$.batteryCondition.stateOfCharge",
        {"stateOfChargeValue": 55.0, "lastUpdate": "2025-02-01T10:00:00Z"},
        "2025-02-01T10:00:00Z",
    )
    assert view(updated, Role.LEGITIMATE_INTEREST).history == updated.history
    assert view(updated, Role.PUBLIC).history == ()
    assert view(updated, Role.AUTHORITY).to_json()["history"] == []


def test_party_kinds_and_policy_are_configurable(passport: BatteryPassport) -> None:
    assert view_for_party(passport, "recycler").role is Role.LEGITIMATE_INTEREST
    assert view_for_party(passport, "market_surveillance_authority").role is Role.AUTHORITY
    assert view_for_party(passport, None).role is Role.PUBLIC
    assert view_for_party(passport, "insurer").role is Role.PUBLIC
    policy = AccessPolicy(legitimate_interest_parties=frozenset({"insurer"}))
    assert view_for_party(passport, "insurer", policy).role is Role.LEGITIMATE_INTEREST
    assert view_for_party(passport, "recycler", policy).role is Role.PUBLIC
    commission = AccessPolicy(role_points={**DEFAULT_POLICY.role_points, Role.AUTHORITY: frozenset(P)})
    shown = view(passport, Role.AUTHORITY, commission)
    assert "stateOfCertifiedEnergy" in shown.sections["PerformanceAndDurability"]["batteryCondition"]  # type: ignore[operator]


def test_access_of_reads_concrete_paths() -> None:
    assert access_of("Labeling", "$.resultOfTestReport") == {P.AUTHORITIES}
    assert access_of("MaterialComposition", "$.batteryMaterials[3].batteryMaterialMass") == {
        P.LEGITIMATE_INTEREST_AND_COMMISSION
    }
    assert access_of("MaterialComposition", "$.batteryMaterials[3].isCriticalRawMaterial") == {P.PUBLIC}
    assert access_of("GeneralProductInformation", "$.unknown") is None


def test_view_json_and_consortium_json(passport: BatteryPassport) -> None:
    shown = view(passport, Role.PUBLIC)
    data = shown.to_json()
    assert data["role"] == "public"
    assert "batteryStatus" not in data
    assert "resultOfTestReport" not in shown.consortium_json()
    assert shown.consortium_json()["batteryCategory"] == "lmt"
