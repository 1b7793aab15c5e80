"""DB-free: the topic layout, the VSS check and the message parser (hypothesis: never raises, round-trips)."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.telematics.messages import parse_vss
from roadpass.telematics.topics import TopicError, parse_topic, topic, unit_key, unit_segment
from roadpass.telematics.vss import VssTree, vss_tree

SOH = "Vehicle.Powertrain.TractionBattery.StateOfHealth"


@pytest.fixture(scope="module")
def tree() -> VssTree:
    return vss_tree()


def test_gs1_key_reads_as_a_short_safe_level() -> None:
    key = "https://id.gs1.org/01/06951234111007/21/7"
    assert topic(key) == "roadpass/units/01~06951234111007~21~7/vss"
    assert topic("urn:epc:id:sgtin:6951234.011100.7", "software") == "roadpass/units/01~06951234111007~21~7/software"
    assert parse_topic("roadpass/units/01~06951234111007~21~7/vss") == ("01~06951234111007~21~7", "vss")
    assert unit_key("01~06951234111007~21~7") == key


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1))
def test_segment_round_trips_and_is_mqtt_safe(raw: str) -> None:
    key = "urn:x:" + raw
    segment = unit_segment(key)
    assert not set(segment) & {"/", "+", "#"}
    assert unit_key(segment) == key


@pytest.mark.parametrize("name", ["other/units/a/vss", "roadpass/units/a/b/vss", "roadpass/units//vss",
                                  "roadpass/units/a/telemetry"])
def test_topics_outside_the_layout_are_refused(name: str) -> None:
    with pytest.raises(TopicError):
        parse_topic(name)


def test_leaf_checks(tree: VssTree) -> None:
    def reason(path: str, value: object) -> str | None:
        refusal = tree.check(path, value, "$")[2]
        return refusal.reason if refusal else None

    assert reason("Vehicle.Speed", 42) is None
    assert reason(SOH, {"value": 90.0, "unit": "percent"}) is None
    assert reason(SOH, -1.0) == "below_min"
    assert reason(SOH, "90") == "bad_datatype"
    assert reason("Vehicle.Speed", float("nan")) == "bad_datatype"
    assert reason("Vehicle.Speed", True) == "bad_datatype"
    assert reason("Vehicle.ADAS.ActiveAutonomyLevel", "SAE_2") is None
    assert reason("Vehicle.ADAS.ActiveAutonomyLevel", "SAE_7") == "not_allowed"
    assert reason("Vehicle.Powertrain.TractionBattery.CellVoltage.IdMax", 70000) == "bad_datatype"
    assert reason("Vehicle.Powertrain.TractionBattery.CellVoltage.CellVoltages", [3.2, 3.3]) is None
    assert reason("Vehicle.Powertrain.TractionBattery.CellVoltage.CellVoltages", [3.2, "x"]) == "bad_datatype"
    assert reason("Vehicle.Body", 1) == "not_a_leaf"
    assert reason("Vehicle.Warp", 1) == "unknown_path"
    assert reason("Vehicle.Speed", {"value": 3, "unit": "mph"}) == "wrong_unit"


def test_a_list_of_objects_and_epoch_milliseconds(tree: VssTree) -> None:
    body = orjson.dumps([{"ts": 1_772_352_000_000, "signals": {"Vehicle.Speed": 1.0}},
                         {"ts": "2026-03-01T08:00:01+01:00", "signals": {"Vehicle.Speed": 2.0}},
                         {"ts": "yesterday", "signals": {"Vehicle.Speed": 3.0}}])
    parsed = parse_vss(body, tree)
    assert [s.ts for s in parsed.samples] == [1_772_352_000_000_000, 1_772_348_401_000_000]
    assert [(r.reason, r.path) for r in parsed.refusals] == [("bad_ts", "$[2].ts")]


@given(st.binary(max_size=200))
def test_parser_never_raises_on_bytes(payload: bytes) -> None:
    parsed = parse_vss(payload, vss_tree())
    assert parsed.samples or parsed.refusals or payload.strip() in (b"[]",)


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                     lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                     max_leaves=10)


@given(st.fixed_dictionaries({"ts": _json, "signals": st.dictionaries(
    st.sampled_from(["Vehicle.Speed", SOH, "Vehicle.Body", "x"]), _json, max_size=4)}))
def test_parser_never_raises_on_json(body: dict[str, object]) -> None:
    parsed = parse_vss(json.dumps(body).encode(), vss_tree())
    assert all(r.reason and r.path.startswith("$") for r in parsed.refusals)
