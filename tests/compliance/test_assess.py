"""The assessment engine on real cases: reuse across markets, expiry, scope, undecidable attributes."""

from __future__ import annotations

import datetime as dt

from conftest import TODAY, car, make_evidence
from roadpass.compliance.assess import Assessor, assess
from roadpass.compliance.demo import demo_products
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.product import parse_technical_file
from roadpass.compliance.results import Assessment

LATER = dt.date(2027, 7, 1)


def test_r155_approval_from_eu_is_reused_in_gb_and_japan_but_not_china(
    assessor: Assessor, eu_r155: list[Evidence]
) -> None:
    vehicle = car()
    gb = assessor.assess(vehicle, "GB", on=LATER, evidence=eu_r155).result("GB-R155")
    jp = assessor.assess(vehicle, "JP", on=LATER, evidence=eu_r155).result("JP-R155")
    cn = assessor.assess(vehicle, "CN", on=LATER, evidence=eu_r155).result("CN-GB44495")
    assert gb.status == "met" and gb.evidence == ("R155-E4", "CSMS-E4")
    assert "EQ-R155-TO-GB" in gb.reason and gb.basis == ("EQ-R155-TO-GB, unece-1958",)
    assert jp.status == "met" and "EQ-R155-TO-JP" in jp.reason
    assert cn.status == "gap"
    assert "EQ-R155-TO-CN-NOT" in cn.reason and "not a 1958 Agreement party" in cn.reason
    assert cn.missing == ("test report on GB-44495-2024 by a designated lab, with documentation",)
    assert cn.severity == "blocker"


def test_gb_r155_needs_the_csms_certificate_too(assessor: Assessor, eu_r155: list[Evidence]) -> None:
    result = assessor.assess(car(), "GB", on=LATER, evidence=eu_r155[:1]).result("GB-R155")
    assert result.status == "gap"
    assert result.missing == ("registered process (with R155-E4)",)


def test_expired_cb_report_turns_met_into_gap_on_the_day_it_expires(library: PackLibrary) -> None:
    charger = parse_technical_file({
        "key": "wallbox", "name": "Wallbox", "product_type": "charger",
        "attributes": {"charger": {"public": True}, "processes_personal_data": False, "connectivity": False},
        "markets": [{"market": "TH", "planned": "2026-01-01"}],
    })
    cb = make_evidence("CB-DE-1", "test_report", standards=["IEC-61851-1", "IEC-62196-2", "IEC-62196-3"],
                       issuer_role="cb_testing_laboratory", scheme="IECEE-CB", issued_in="DE",
                       issued_on="2024-01-15", expires_on="2027-01-15")
    no_window = Assessor(library, window_days=0)
    day_before = no_window.assess(charger, "TH", on=dt.date(2027, 1, 14), evidence=[cb]).result("TH-TISI-CHARGER")
    on_the_day = no_window.assess(charger, "TH", on=dt.date(2027, 1, 15), evidence=[cb]).result("TH-TISI-CHARGER")
    assert day_before.status == "met" and "IECEE-CB scheme recognition" in day_before.reason
    assert on_the_day.status == "gap"
    assert "CB-DE-1" in on_the_day.reason and "expired on 2027-01-15" in on_the_day.reason
    # Within the configurable window the requirement is "expiring", measured against the expiry date.
    windowed = Assessor(library, window_days=90).assess(charger, "TH", on=TODAY, evidence=[cb])
    result = windowed.result("TH-TISI-CHARGER")
    assert result.status == "expiring" and result.deadline == dt.date(2027, 1, 15)
    assert Assessor(library, window_days=30).assess(charger, "TH", on=TODAY, evidence=[cb]).result(
        "TH-TISI-CHARGER").status == "met"


def test_evidence_from_a_member_state_counts_in_the_eu(assessor: Assessor) -> None:
    charger = parse_technical_file({
        "key": "wallbox", "name": "Wallbox", "product_type": "charger",
        "attributes": {"charger": {"public": True}, "processes_personal_data": False, "connectivity": False},
        "markets": [{"market": "EU", "planned": "2026-01-01"}],
    })
    report = make_evidence("LAB-DE", "test_report", standards=["IEC-61851-1", "IEC-62196-2", "IEC-62196-3"],
                           issuer_role="accredited_lab", issued_in="DE")
    result = assessor.assess(charger, "EU", on=TODAY, evidence=[report]).result("EU-AFIR-CHARGER")
    assert result.status == "met" and "issued in EU (DE)" in result.reason


def test_not_applicable_and_not_in_force_say_why(assessor: Assessor) -> None:
    a = assessor.assess(car(), "EU", on=TODAY, evidence=[])
    battery = a.result("EU-AFIR-CHARGER")
    assert battery.status == "not_applicable" and "product_type == charger (product_type is vehicle)" in battery.reason
    us = assessor.assess(car(attributes={"model_year": 2026, "connectivity": True, "category": "M1"}), "US",
                         on=TODAY, evidence=[])
    cv = us.result("US-CV-791.303")
    assert cv.status == "not_applicable" and "model year 2027" in cv.reason


def test_a_missing_attribute_is_a_gap_naming_it(assessor: Assessor) -> None:
    vehicle = car(attributes={"connectivity": True})  # no powertrain, no model year
    result = assessor.assess(vehicle, "EU", on=TODAY, evidence=[]).result("EU-GSR-R100")
    assert result.status == "gap" and "powertrain" in result.reason
    assert result.missing == ("attribute powertrain",)


def test_declaration_older_than_max_age_does_not_count(library: PackLibrary) -> None:
    vehicle = car(sbom={"spec_version": "1.6", "sha256": "0" * 64, "components": []},
                  components=[{"ref": "TCU", "name": "TCU", "roles": ["vcs"], "supplier": "maker"}])
    doc = make_evidence("DOC-2025", "declaration", standards=["US-15CFR791-DOC"], issuer_role="self",
                        issued_on="2025-09-01")
    fresh = assess(vehicle, "US", on=dt.date(2026, 8, 31), evidence=[doc], library=library)
    stale = assess(vehicle, "US", on=dt.date(2026, 9, 1), evidence=[doc], library=library)
    assert fresh.result("US-CV-791.305").status == "met"
    assert stale.result("US-CV-791.305").status == "gap"
    assert "older than 12 months" in stale.result("US-CV-791.305").reason


def test_assessment_round_trips_through_json(assessor: Assessor, eu_r155: list[Evidence]) -> None:
    a = assessor.assess(car(), "GB", on=LATER, evidence=eu_r155)
    again = Assessment.from_json(a.to_json())
    assert again.results == a.results and again.content_hash() == a.content_hash()
    assert a.status == "blocked"  # GB-GBTA is a blocker gap


def test_every_market_assesses_every_demo_product(library: PackLibrary) -> None:
    assessor = Assessor(library)
    files = [parse_technical_file(doc) for doc in demo_products()]
    subfiles = {f.key: f for f in files}
    for tf in files:
        for market in library.markets():
            a = assessor.assess(tf, market, on=TODAY, evidence=[], subfiles=subfiles)
            assert len(a.results) == len(library.get(market).requirements)
            assert all(r.reason for r in a.results)
