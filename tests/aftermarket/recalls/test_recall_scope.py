"""Campaign requests: every bad field named with its JSON path; identifiers canonicalised."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.aftermarket.recalls.model import RecallInvalid
from roadpass.aftermarket.recalls.scope import gtin_of, parse_campaign

LOT = "urn:epc:class:lgtin:4012345.012345.998877"


def request(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "campaignKey": "RC-1", "title": "Cells may short", "manufacturer": "Demo Motors",
        "defect": {"description": "separator fold", "risk": "fire", "determinedOn": "2026-08-25"},
        "remedy": {"description": "replace the pack", "parts": ["04012345123456"], "operations": ["HV-1"]},
        "scope": {"lots": [LOT]},
        "dates": {"dealerNoticeOn": "2026-09-01", "remedyDueOn": "2026-11-30"},
        "marketDue": {"MX": "2027-03-31"},
    }
    body.update(changes)
    return body


def test_a_valid_request_is_canonicalised() -> None:
    draft = parse_campaign(request())
    assert draft.scope.lots == ("https://id.gs1.org/01/04012345123456/10/998877",)
    assert draft.remedy.parts == ("04012345123456",)
    assert draft.dates == {"dealerNoticeOn": "2026-09-01", "remedyDueOn": "2026-11-30"}
    assert draft.market_due == {"MX": "2027-03-31"}
    assert draft.defect.determined_on == "2026-08-25"


def test_a_remedy_part_may_be_named_by_any_identifier_of_its_product() -> None:
    draft = parse_campaign(request(remedy={"description": "x", "parts": ["urn:epc:id:sgtin:4012345.012345.7"]}))
    assert draft.remedy.parts == ("04012345123456",)


def test_every_bad_field_is_named_at_once() -> None:
    body = request(campaignKey="a b", defect={"risk": "fire"}, scope={"lots": ["urn:epc:id:sgtin:4012345.012345.1"],
                                                                      "supplier": "12"},
                   dates={"remedyDueOn": "soon", "whenever": "2026-01-01"}, marketDue={"mexico": "2027-01-01"})
    with pytest.raises(RecallInvalid) as caught:
        parse_campaign(body)
    paths = {p.path for p in caught.value.problems}
    assert {"$.campaignKey", "$.defect.description", "$.scope.lots[0]", "$.scope.supplier", "$.dates.remedyDueOn",
            "$.dates.whenever", "$.marketDue.mexico"} <= paths


def test_a_scope_must_name_something_and_a_remedy_must_do_something() -> None:
    with pytest.raises(RecallInvalid) as caught:
        parse_campaign(request(scope={}, remedy={"description": "x"}))
    assert {p.path for p in caught.value.problems} == {"$.scope", "$.remedy"}


def test_serial_ranges_and_windows_are_checked() -> None:
    body = request(scope={"serialRanges": [{"gtin": "04012345123456", "first": 9, "last": 2},
                                           {"gtin": "nope", "first": 1, "last": 2}],
                          "productionWindow": {"start": "2025-02-01T00:00:00Z", "end": "2025-01-01T00:00:00Z"}})
    with pytest.raises(RecallInvalid) as caught:
        parse_campaign(body)
    paths = {p.path for p in caught.value.problems}
    assert {"$.scope.serialRanges[0]", "$.scope.serialRanges[1].gtin", "$.scope.productionWindow"} <= paths
    ok = parse_campaign(request(scope={
        "serialRanges": [{"gtin": "04012345123456", "first": 1, "last": 20}],
        "productionWindow": {"start": "2025-01-01T00:00:00Z", "end": "2025-02-01T00:00:00Z", "gtin": "04012345123456"},
        "supplier": "4012345"}))
    assert ok.scope.serial_ranges[0].last == 20
    assert ok.scope.production_window is not None and ok.scope.production_window.gtin == "04012345123456"


def test_gtin_of_reads_digital_link_keys_only() -> None:
    assert gtin_of("https://id.gs1.org/01/04012345123456/21/7") == "04012345123456"
    assert gtin_of("https://id.gs1.org/00/340123450000000001") is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@given(st.dictionaries(st.sampled_from(["campaignKey", "title", "manufacturer", "defect", "remedy", "scope", "dates",
                                        "marketDue", "references", "contact"]), _json, max_size=10))
def test_any_json_is_either_a_draft_or_refused_with_paths(body: dict[str, Any]) -> None:
    problems: list[str] = []
    try:
        parse_campaign(body)
    except RecallInvalid as exc:
        problems = [p.path for p in exc.problems] or ["(none)"]
    assert all(path.startswith("$") for path in problems)
