"""The policy decision for pack health summaries, as data and without a database: the kind
``battery_passport_health`` projects to exactly the fields the classification names, dated to the day; a VIN, a
location, an odometer or a time of day never appears in what crosses; any unclassified field is removed; the
summary goes only where the policy's ``records`` name the border; the home node takes only what it classifies."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.regions.health_summary import (
    HEALTH_KIND,
    RecordPolicy,
    check_received,
    load_record_policy,
    passport_writes,
    policy_document,
    project_summary,
    raw_summary,
    summary_id,
)
from roadpass.regions.model import Decision
from roadpass.regions.policy import Classification, PolicyError, load_classification, load_regions

BATTERY = "https://id.gs1.org/01/06944120000318/21/P-77"
VIN = "WDB9634031L738299"
ALLOWED = {"batteryId", "sequence", "lastUpdate", "stateOfCertifiedEnergy", "capacityFade", "remainingCapacity",
           "numberOfFullCycles", "energyThroughput"}
REGIONS = load_regions()
CLASSIFICATION = load_classification(regions=REGIONS)
RECORDS = load_record_policy(policy_document(None), regions=REGIONS)


def condition(at: str = "2026-06-01T14:37:21.250Z") -> dict[str, Any]:
    """A passport's ``batteryCondition`` as the battery health service leaves it (with values that never cross)."""
    return {
        "stateOfCertifiedEnergy": {"stateOfCertifiedEnergyValue": 91.0, "lastUpdate": at},
        "capacityFade": {"capacityFadeValue": 7.5, "lastUpdate": at},
        "remainingCapacity": {"remainingCapacityValue": 130.1, "lastUpdate": at},
        "numberOfFullCycles": {"numberOfFullCyclesValue": 212.0, "lastUpdate": at},
        "energyThroughput": 12034.5,
        "capacityThroughput": {"capacityThroughputValue": 59000.0, "lastUpdate": at},
        "stateOfCharge": {"stateOfChargeValue": 30.0, "lastUpdate": at},
        "temperatureInformation": {"timeExtremeHighTemp": 3.0, "lastUpdate": at},
    }


def project(raw: dict[str, Any], origin: str = "eu-central", destination: str = "cn-east",
            classification: Classification = CLASSIFICATION, records: RecordPolicy = RECORDS) -> Any:
    return project_summary(raw, origin=origin, destination=destination, classification=classification,
                           records=records)


def test_the_summary_carries_exactly_the_classified_fields_dated_to_the_day() -> None:
    raw = {**raw_summary(BATTERY, condition()), "sequence": 3, "vin": VIN, "odometer_km": 48211,
           "location": "geo:50.1109,8.6821", "owner": "OWNER-MARKER", "stateOfCharge": 30.0,
           "signal": {"Vehicle.Speed": 87}}
    projection = project(raw)
    assert projection.summary is not None and set(projection.summary) == ALLOWED
    assert projection.summary["lastUpdate"] == "2026-06-01" and projection.coarsened == ["lastUpdate"]
    assert projection.summary["stateOfCertifiedEnergy"] == 91.0 and projection.summary["energyThroughput"] == 12034.5
    assert sorted(projection.removed) == ["location", "odometer_km", "owner", "signal", "stateOfCharge", "vin"]
    assert projection.rule.decision is Decision.ALLOW and projection.rule.basis == "eu-batt-passport"
    text = orjson.dumps(projection.summary).decode()
    for secret in (VIN, "48211", "geo:", "OWNER-MARKER", "14:37", "Speed"):
        assert secret not in text
    assert not re.search(r"T\d{2}:\d{2}", text)  # no time of day anywhere
    assert projection.as_json()["coarsened"] == {"lastUpdate": "day"}


def test_the_raw_summary_reads_only_the_passport_values_it_carries() -> None:
    raw = raw_summary(BATTERY, condition())
    assert set(raw) == ALLOWED - {"sequence"}  # capacity throughput, state of charge, temperatures: not read
    assert raw_summary(BATTERY, {}) == {"batteryId": BATTERY}
    assert project({**raw_summary(BATTERY, {}), "sequence": 1}).summary is None  # no date: nothing crosses


@given(extra=st.dictionaries(
    st.text(min_size=1, max_size=20).filter(lambda name: name not in ALLOWED),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                 max_leaves=6),
    max_size=8))
def test_any_unclassified_field_is_removed(extra: dict[str, Any]) -> None:
    raw = {**raw_summary(BATTERY, condition()), "sequence": 1, **extra}
    projection = project(raw)
    assert projection.summary is not None
    assert set(projection.summary) == ALLOWED
    assert set(extra) <= set(projection.removed)
    # What the home node receives passes its own check, whatever the regional node had beside it.
    body = {"summary": projection.summary, "summaryId": summary_id(projection.summary)}
    assert check_received(body, classification=CLASSIFICATION, origin="eu-central")[1] == []


@pytest.mark.parametrize(("origin", "destination", "crosses"), [
    ("eu-central", "cn-east", True), ("me-central", "cn-east", True), ("ap-southeast", "cn-east", True),
    ("na-central", "cn-east", True), ("eu-central", "me-central", False), ("ap-southeast", "eu-central", False),
    ("cn-east", "eu-central", False)])
def test_summaries_go_to_the_home_node_only(origin: str, destination: str, crosses: bool) -> None:
    projection = project({**raw_summary(BATTERY, condition()), "sequence": 1}, origin, destination)
    assert (projection.summary is not None) is crosses
    if not crosses:
        assert projection.rule.basis == "not-named" and "batteryId" in projection.removed


def test_a_policy_edit_governs_the_next_summary_and_a_broken_one_names_its_path() -> None:
    document = policy_document(None)
    assert RECORDS.version == str(document["version"])
    document["records"][HEALTH_KIND] = [r for r in document["records"][HEALTH_KIND] if r["from"] != "eu-central"]
    edited = load_record_policy(document, regions=REGIONS)
    assert project({**raw_summary(BATTERY, condition()), "sequence": 1}, records=edited).summary is None
    bad = policy_document(None)
    bad["records"][HEALTH_KIND][0]["basis"] = "made-up"
    with pytest.raises(PolicyError) as raised:
        load_record_policy(bad, regions=REGIONS)
    assert raised.value.path == f"records.{HEALTH_KIND}[0].basis"
    bad = policy_document(None)
    bad["records"][HEALTH_KIND][0]["decision"] = "allow_pseudonymised"
    with pytest.raises(PolicyError, match="allowed or denied"):
        load_record_policy(bad, regions=REGIONS)


def good_summary() -> dict[str, Any]:
    projection = project({**raw_summary(BATTERY, condition()), "sequence": 2})
    assert projection.summary is not None
    return dict(projection.summary)


def test_the_home_node_takes_only_a_whole_classified_summary() -> None:
    summary = good_summary()
    body = {"summary": summary, "summaryId": summary_id(summary)}
    assert check_received(body, classification=CLASSIFICATION, origin="eu-central") == (summary, [])
    # A field no rule names (a VIN), a time of day, a negative figure, a missing sequence: each named.
    forged = {**summary, "vin": VIN, "lastUpdate": "2026-06-01T14:37:21Z", "capacityFade": -1}
    del forged["sequence"]
    problems = dict(check_received({"summary": forged, "summaryId": summary_id(forged)},
                                   classification=CLASSIFICATION, origin="eu-central")[1])
    assert set(problems) == {"$.summary.vin", "$.summary.lastUpdate", "$.summary.capacityFade", "$.summary.sequence"}
    assert "may not cross" in problems["$.summary.vin"] and "no time of day" in problems["$.summary.lastUpdate"]
    # An altered value under the original digest: refused.
    altered = {"summary": {**summary, "stateOfCertifiedEnergy": 99.0}, "summaryId": summary_id(summary)}
    assert [p for p, _ in check_received(altered, classification=CLASSIFICATION, origin="eu-central")[1]] == [
        "$.summaryId"]
    assert check_received([], classification=CLASSIFICATION, origin="eu-central")[1] == [
        ("$.summary", "a battery health summary (an object)")]


def test_the_summary_is_written_at_the_passport_paths_dated_to_its_day() -> None:
    writes = {path: (value, stamp) for path, value, stamp in passport_writes(good_summary())}
    assert writes["$.batteryCondition.stateOfCertifiedEnergy"] == (
        {"stateOfCertifiedEnergyValue": 91.0, "lastUpdate": "2026-06-01T00:00:00Z"}, "2026-06-01T00:00:00Z")
    assert writes["$.batteryCondition.energyThroughput"] == (12034.5, "2026-06-01T00:00:00Z")
    assert set(writes) == {f"$.batteryCondition.{name}" for name in ALLOWED - {"batteryId", "sequence", "lastUpdate"}}
