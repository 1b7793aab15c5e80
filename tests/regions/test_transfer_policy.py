"""The residency files load, every rule has its basis, and the policy answers as written (default deny)."""

from __future__ import annotations

from typing import Any

import pytest

from roadpass.regions.model import DataClass, Decision
from roadpass.regions.policy import (
    UNCLASSIFIED,
    PolicyError,
    load_classification,
    load_policy,
    load_regions,
)

REGIONS = load_regions()
POLICY = load_policy(regions=REGIONS)
CLASSES = load_classification(regions=REGIONS)


def test_the_shipped_files_name_the_five_regions_and_cite_every_rule() -> None:
    assert set(REGIONS) == {"eu-central", "me-central", "ap-southeast", "na-central", "cn-east"}
    for rule in (*POLICY.rules, *POLICY.defaults.values()):
        assert rule.citation and rule.basis
    for fields in CLASSES.kinds.values():
        for rule in fields.values():
            assert rule.citation


def test_within_one_region_nothing_is_a_transfer() -> None:
    for data_class in DataClass:
        assert POLICY.decide("eu-central", "eu-central", data_class).decision is Decision.ALLOW


@pytest.mark.parametrize(("origin", "destination", "data_class", "decision"), [
    ("eu-central", "cn-east", DataClass.PERSONAL, Decision.DENY),
    ("eu-central", "cn-east", DataClass.PSEUDONYMOUS, Decision.ALLOW_PSEUDONYMISED),
    ("eu-central", "me-central", DataClass.PSEUDONYMOUS, Decision.ALLOW_AGGREGATED),
    ("eu-central", "cn-east", DataClass.NON_PERSONAL, Decision.ALLOW),
    ("na-central", "cn-east", DataClass.PSEUDONYMOUS, Decision.ALLOW_AGGREGATED),
    ("cn-east", "eu-central", DataClass.IMPORTANT_DATA, Decision.DENY),
    ("cn-east", "eu-central", DataClass.NON_PERSONAL, Decision.ALLOW),
    ("cn-east", "eu-central", DataClass.PERSONAL, Decision.DENY),
])
def test_borders_decide_as_written(origin: str, destination: str, data_class: DataClass, decision: Decision) -> None:
    assert POLICY.decide(origin, destination, data_class).decision is decision


def test_the_most_specific_rule_wins_and_what_is_not_named_is_denied() -> None:
    data: dict[str, Any] = {
        "bases": {"b": "a basis"},
        "borders": [
            {"from": "eu-central", "to": "*", "class": "pseudonymous", "decision": "allow_aggregated", "basis": "b"},
            {"from": "eu-central", "to": "cn-east", "class": "pseudonymous", "decision": "allow_pseudonymised",
             "basis": "b"},
        ],
    }
    policy = load_policy(data, regions=REGIONS)
    assert policy.decide("eu-central", "cn-east", DataClass.PSEUDONYMOUS).decision is Decision.ALLOW_PSEUDONYMISED
    assert policy.decide("eu-central", "na-central", DataClass.PSEUDONYMOUS).decision is Decision.ALLOW_AGGREGATED
    denied = policy.decide("eu-central", "cn-east", DataClass.NON_PERSONAL)
    assert denied.decision is Decision.DENY and denied.basis == "not-named"


@pytest.mark.parametrize(("data", "path"), [
    ({"bases": {}, "borders": [{"from": "mars", "to": "*", "class": "personal", "decision": "deny", "basis": "x"}]},
     "borders[0].from"),
    ({"bases": {"x": "y"}, "borders": [{"from": "eu-central", "to": "*", "class": "secret", "decision": "deny",
                                         "basis": "x"}]}, "borders[0].class"),
    ({"bases": {"x": "y"}, "borders": [{"from": "eu-central", "to": "*", "class": "personal", "decision": "maybe",
                                         "basis": "x"}]}, "borders[0].decision"),
    ({"bases": {}, "borders": [{"from": "eu-central", "to": "*", "class": "personal", "decision": "deny",
                                "basis": "x"}]}, "borders[0].basis"),
    ({"bases": {"x": "y"}, "defaults": {"secret": {"decision": "deny", "basis": "x"}}}, "defaults.secret"),
])
def test_a_wrong_policy_is_refused_naming_the_path(data: dict[str, Any], path: str) -> None:
    with pytest.raises(PolicyError) as refused:
        load_policy(data, regions=REGIONS)
    assert refused.value.path == path


def test_a_wrong_classification_is_refused_naming_the_path() -> None:
    with pytest.raises(PolicyError) as refused:
        load_classification({"citations": {"c": "x"},
                             "telemetry": {"fields": {"speed": {"class": "fast", "cite": "c"}}}}, regions=REGIONS)
    assert refused.value.path == "telemetry.fields.speed.class"
    with pytest.raises(PolicyError) as refused:
        load_classification({"citations": {},
                             "telemetry": {"fields": {"speed": {"class": "personal", "cite": "c"}}}}, regions=REGIONS)
    assert refused.value.path == "telemetry.fields.speed.cite"


def test_an_unclassified_field_is_personal() -> None:
    assert CLASSES.rule("epcis_event", "example:ownerName") is UNCLASSIFIED
    assert UNCLASSIFIED.classify(origin="eu-central") is DataClass.PERSONAL
    assert CLASSES.rule("no_such_kind", "x") is UNCLASSIFIED


def test_a_vin_in_use_is_pseudonymous_and_a_trajectory_in_china_is_important_data() -> None:
    epcs = CLASSES.rule("epcis_event", "epcList")
    assert epcs.classify(origin="eu-central") is DataClass.NON_PERSONAL
    assert epcs.classify(origin="eu-central", in_use=True) is DataClass.PSEUDONYMOUS
    assert CLASSES.in_use("https://ref.gs1.org/cbv/BizStep-repairing") and CLASSES.in_use("retail_selling")
    assert not CLASSES.in_use("assembling") and not CLASSES.in_use(None)
    sensors = CLASSES.rule("epcis_event", "sensorElementList")
    assert sensors.classify(origin="eu-central", geo=True) is DataClass.PERSONAL
    assert sensors.classify(origin="cn-east", geo=True) is DataClass.IMPORTANT_DATA
    assert CLASSES.rule("telemetry", "location").classify(origin="cn-east") is DataClass.IMPORTANT_DATA
