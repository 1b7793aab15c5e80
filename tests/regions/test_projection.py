"""An EPCIS event projected for a border: what crosses, pseudonymised or not at all — and never a personal
datum where the policy does not name it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from roadpass.regions.policy import load_classification, load_policy, load_regions
from roadpass.regions.projection import Border, project_event
from roadpass.regions.pseudonymise import Pseudonymiser

REGIONS = load_regions()
POLICY = load_policy(regions=REGIONS)
CLASSES = load_classification(regions=REGIONS)
KEY = b"k" * 32
VIN = "https://id.gs1.org/8004/0614141VIN00000000001"
PACK = "https://id.gs1.org/01/09521234543213/21/PACK-1"
MARKER = "OWNER-MARKER-7f3a"


def border(origin: str, destination: str) -> Border:
    return Border(origin, destination, POLICY, CLASSES, Pseudonymiser(origin, KEY))


def repair(**extra: Any) -> dict[str, Any]:
    return {
        "type": "AggregationEvent", "eventID": "ni:///sha-256;abc?ver=CBV2.0",
        "eventTime": "2026-11-02T10:00:00Z", "eventTimeZoneOffset": "+01:00", "action": "ADD",
        "bizStep": "repairing", "parentID": VIN, "childEPCs": [PACK],
        "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"}, **extra,
    }


def build() -> dict[str, Any]:
    return {**repair(), "bizStep": "assembling"}


def test_the_build_record_crosses_as_it_is() -> None:
    projected = project_event(build(), border("cn-east", "eu-central"))
    assert projected.event == build() and not projected.removed


def test_a_vehicle_in_use_reaches_the_home_node_only_under_pseudonyms() -> None:
    projected = project_event(repair(), border("eu-central", "cn-east"))
    assert projected.event is not None
    assert projected.event["parentID"] == Pseudonymiser("eu-central", KEY).pseudonym(VIN)
    assert VIN not in json.dumps(projected.event) and PACK not in json.dumps(projected.event)
    assert projected.event["eventID"] == repair()["eventID"]  # stored once on the other side
    assert sorted(projected.pseudonymised) == ["childEPCs", "parentID"]
    assert "pseudonymous:allow_pseudonymised:eu-scc" in projected.summary()["bases"]


def test_where_only_aggregates_may_cross_the_event_stays_home() -> None:
    projected = project_event(repair(), border("eu-central", "me-central"))
    assert projected.event is None and sorted(projected.aggregated) == ["childEPCs", "parentID"]


def test_a_user_extension_is_personal_until_classified_and_never_leaves() -> None:
    projected = project_event(repair(**{"example:owner": {"name": MARKER}}), border("eu-central", "cn-east"))
    assert projected.event is not None and MARKER not in json.dumps(projected.event)
    assert "example:owner" in projected.removed


def test_a_precise_location_stays_home_and_in_china_is_important_data() -> None:
    located = repair(readPoint={"id": "geo:50.1109,8.6821"})
    projected = project_event(located, border("eu-central", "cn-east"))
    assert projected.event is not None and "readPoint" in projected.removed
    assert projected.rules["readPoint"].data_class == "personal"
    from_china = project_event({**build(), "readPoint": {"id": "geo:31.23,121.47"}}, border("cn-east", "eu-central"))
    assert from_china.event is not None and "readPoint" in from_china.removed
    assert from_china.rules["readPoint"].data_class == "important_data"


def test_within_the_region_everything_stays_as_it_is() -> None:
    event = repair(**{"example:owner": {"name": MARKER}})
    assert project_event(event, border("eu-central", "eu-central")).event == event


def test_only_the_region_holding_the_key_can_go_back() -> None:
    mine = Pseudonymiser("eu-central", KEY)
    other = Pseudonymiser("eu-central", b"o" * 32)
    pseudonym = mine.pseudonym(VIN)
    assert mine.reidentify(pseudonym, [PACK, VIN]) == VIN
    assert other.reidentify(pseudonym, [PACK, VIN]) is None
    assert Pseudonymiser.is_pseudonym(pseudonym)


_values = st.recursive(st.text(max_size=8) | st.integers() | st.booleans(),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                   max_size=3), max_leaves=6)


@given(extensions=st.dictionaries(st.from_regex(r"[a-z]{1,6}:[a-zA-Z]{1,8}", fullmatch=True), _values, max_size=4),
       origin=st.sampled_from(sorted(REGIONS)), destination=st.sampled_from(sorted(REGIONS)))
def test_no_marker_in_a_personal_or_unclassified_field_ever_crosses(
        extensions: dict[str, Any], origin: str, destination: str) -> None:
    """Whatever extensions an event carries, a marker put in any of them crosses no border (they are
    personal until classified, and the shipped policy names no border where personal data may go)."""
    marked = {name: {"marker": MARKER, "value": value} for name, value in extensions.items()}
    projected = project_event(repair(**marked), border(origin, destination))
    if origin != destination and projected.event is not None:
        assert MARKER not in json.dumps(projected.event)
        assert not set(marked) & set(projected.event)
