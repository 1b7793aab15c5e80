"""Campaign rules without a database: who a campaign applies to, and how reports move a vehicle's state.

The rule under test above all: a vehicle is installed only when it reports the target version itself."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.telematics.software.campaigns import (
    CampaignRejected,
    applies,
    like_pattern,
    next_state,
    parse_campaign,
    parse_vehicle_type,
    unconfirmed_claim,
)
from roadpass.telematics.software.history import changes, evidence_item, rxswin_changes, type_record
from roadpass.telematics.software.model import STATES, Claim, EcuSoftware, SoftwareReport, State, StoredReport

AURORA = parse_vehicle_type({"key": "aurora", "name": "Lanxing Aurora", "product_key": "aurora-ev-my27",
                             "variants": {"SR": "LNXES1AB*", "LR": "LNXES2AB*", "AWD": "LNXES3AB*"}})
CAMPAIGN = parse_campaign({"key": "CCU3-3.2", "name": "Cockpit 3.2", "vehicle_type": "aurora", "variants": ["LR"],
                           "part_number": "HX-CCU3-101", "from_versions": ["3.1.0"], "target_version": "3.2.0",
                           "target_rxswin": ["R10SWIN-3"]}, {"aurora": AURORA})
LR_VIN = "LNXES2AB0TA000001"


def _report(version: str | None, rxswin: tuple[str, ...] = ("R10SWIN-2",), claim: str | None = None,
            at: int = 1) -> SoftwareReport:
    ecus = (EcuSoftware("SV-VCU-121", "1.4", ("R79SWIN-1",)),)
    if version is not None:
        ecus += (EcuSoftware("HX-CCU3-101", version, rxswin),)
    return SoftwareReport(at, ecus, Claim("CCU3-3.2", claim) if claim else None)


def test_vehicle_types_recognise_variants_by_vin() -> None:
    assert AURORA.variant_of(LR_VIN) == "LR"
    assert AURORA.variant_of("LNXES3AB0TA000001") == "AWD"
    assert AURORA.variant_of("WVWZZZ1JZXW000001") is None
    assert like_pattern("LNXES?AB*") == "LNXES_AB%"
    with pytest.raises(CampaignRejected) as caught:
        parse_vehicle_type({"key": "x", "name": "X", "variants": {"A": "LNXIO*"}})
    assert caught.value.problems[0][0] == "/variants/A"


def test_a_campaign_names_its_problems() -> None:
    with pytest.raises(CampaignRejected) as caught:
        parse_campaign({"key": "k", "name": "n", "vehicle_type": "aurora", "variants": ["XL"], "part_number": "P",
                        "target_version": "2", "from_versions": ["2"], "colour": "red"}, {"aurora": AURORA})
    assert {p for p, _ in caught.value.problems} == {"/colour", "/variants/0", "/from_versions"}
    with pytest.raises(CampaignRejected, match="no vehicle type"):
        parse_campaign({"key": "k", "name": "n", "vehicle_type": "zeta", "part_number": "P", "target_version": "2"},
                       {})


def test_applies_by_type_variant_and_installed_version() -> None:
    assert applies(CAMPAIGN, AURORA, LR_VIN, _report("3.1.0")) is not None
    assert applies(CAMPAIGN, AURORA, "LNXES1AB0TA000001", _report("3.1.0")) is None  # variant SR
    assert applies(CAMPAIGN, AURORA, LR_VIN, _report("3.0.0")) is None  # not a from-version
    assert applies(CAMPAIGN, AURORA, LR_VIN, _report("3.2.0")) is None  # already the target
    assert applies(CAMPAIGN, AURORA, LR_VIN, _report(None)) is None  # no such ECU


def test_a_bare_success_installs_nothing() -> None:
    claim = _report("3.1.0", claim="success")
    assert next_state(CAMPAIGN, "downloaded", claim) is None
    assert "not counted as installed" in (unconfirmed_claim(CAMPAIGN, claim) or "")
    # Installed only when the vehicle reports the version (and the RXSWIN the update brings) itself.
    assert next_state(CAMPAIGN, "downloaded", _report("3.2.0", ("R10SWIN-2",))) is None
    done = next_state(CAMPAIGN, "downloaded", _report("3.2.0", ("R10SWIN-3",), claim="success"))
    assert done is not None and done.state == "installed" and "2.4" in done.reason
    assert unconfirmed_claim(CAMPAIGN, _report("3.2.0", ("R10SWIN-3",), claim="success")) is None


def test_claims_move_only_what_they_may() -> None:
    moved = next_state(CAMPAIGN, "offered", _report("3.1.0", claim="downloaded"))
    assert moved is not None and moved.state == "downloaded"
    failed = next_state(CAMPAIGN, "downloaded", _report("3.1.0", claim="failed"))
    assert failed is not None and failed.state == "failed"
    assert next_state(CAMPAIGN, None, _report("3.2.0", ("R10SWIN-3",))) is None  # not in the campaign
    # An installation the inventory showed is undone only by the inventory.
    assert next_state(CAMPAIGN, "installed", _report("3.2.0", ("R10SWIN-3",), claim="failed")) is None
    back = next_state(CAMPAIGN, "installed", _report("3.1.0"))
    assert back is not None and back.state == "rolled_back"


_reports = st.lists(st.tuples(st.sampled_from(["3.1.0", "3.2.0", None]), st.booleans(),
                              st.sampled_from([None, "downloaded", "failed", "rolled_back", "installed", "success"])),
                    max_size=12)


@given(_reports)
def test_installed_always_means_the_vehicle_reported_the_target(
        steps: list[tuple[str | None, bool, str | None]]) -> None:
    state: State = "offered"
    for version, new_rxswin, claim in steps:
        report = _report(version, ("R10SWIN-3",) if new_rxswin else ("R10SWIN-2",), claim)
        change = next_state(CAMPAIGN, state, report)
        if change is not None:
            assert change.state in STATES
            state = change.state
        if state == "installed" and change is not None:
            assert version == "3.2.0" and new_rxswin


def _stored(i: int, at: int, version: str, rxswin: tuple[str, ...]) -> StoredReport:
    report = SoftwareReport(at, (EcuSoftware("HX-CCU3-101", version, rxswin),))
    return StoredReport(i, LR_VIN, "tcu", "mqtt", at, report, "unit:tcu")


def test_history_follows_the_vehicles_own_time() -> None:
    reports = [_stored(2, 3_000_000, "3.2.0", ("R10SWIN-3",)), _stored(1, 1_000_000, "3.1.0", ("R10SWIN-2",)),
               _stored(3, 2_000_000, "3.1.0", ("R10SWIN-2",))]  # id 3 arrived late
    assert [(c["from"], c["to"]) for c in changes(reports)] == [(None, "3.1.0"), ("3.1.0", "3.2.0")]
    assert [c["added"] for c in rxswin_changes(reports)] == [["R10SWIN-2"], ["R10SWIN-3"]]


def test_the_type_record_becomes_r156_evidence() -> None:
    day = dt.date(1970, 1, 1)
    record = type_record(AURORA, day, [(LR_VIN, 1_000_000, ("R10SWIN-2",)), (LR_VIN, 2_000_000, ("R10SWIN-3",)),
                                       ("LNXES1AB0TA000002", 90_000_000_000, ("R10SWIN-9",))],
                         [(CAMPAIGN, {"installed": 1, "failed": 1})])
    assert record.vehicles == 1 and [r["rxswin"] for r in record.rxswin] == ["R10SWIN-2", "R10SWIN-3"]
    assert record.rxswin[1]["vehicles_now"] == 1 and record.rxswin[0]["vehicles_now"] == 0
    assert record.campaigns[0]["completion"] == 0.5
    item = evidence_item(record)
    assert item is not None and item["kind"] == "documentation" and item["standards"] == ["UN-R156"]
    assert item["products"] == ["aurora-ev-my27"] and item["issued_on"] == "1970-01-01"
    assert evidence_item(type_record(AURORA, day, [], [])) is None
