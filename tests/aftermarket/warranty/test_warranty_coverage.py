"""Warranty rules without a database: the coverage data, the judge, the claim workflow, the claim parser."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.aftermarket.warranty.coverage import ClaimFacts, coverage_state, coverage_table, judge, term_end
from roadpass.aftermarket.warranty.model import ClaimInvalid, WorkflowError, next_status, parse_claim
from roadpass.trace.timeutil import parse_time

SOLD = parse_time("2025-03-01T10:00:00Z")
YEAR = 365 * 86_400_000_000

FACTS = ClaimFacts(market="DE", product="vehicle", claimed_at=SOLD + YEAR, odometer_km=20_000,
                   state_of_health=None, delivered_at=SOLD, part_in_vehicle_since=SOLD - YEAR // 12)


def test_every_entry_cites_a_source_and_unconfirmed_ones_say_so() -> None:
    table = coverage_table()
    assert {"vehicle", "traction_battery"} <= set(table.products)
    for entry in table.entries:
        assert entry.source and entry.years > 0
        assert entry.confirmed or "to confirm" in entry.citation
    eu = next(e for e in table.entries if e.id == "eu-legal-guarantee")
    assert "2019/771 Art. 10(1)" in eu.source and eu.years == 2 and eu.confirmed


def test_inside_coverage_is_accepted_under_the_makers_terms_first() -> None:
    verdict = judge(FACTS, coverage_table())
    assert verdict.accepted and verdict.entry is not None and verdict.entry.id == "maker-new-vehicle"


def test_a_part_never_in_the_vehicle_is_rejected() -> None:
    for since in (None, FACTS.claimed_at + 1):
        verdict = judge(replace(FACTS, part_in_vehicle_since=since), coverage_table())
        assert not verdict.accepted and "never in that vehicle" in verdict.reason


def test_outside_years_and_km_is_rejected_with_every_reason() -> None:
    late = replace(FACTS, market="MX", claimed_at=SOLD + 2 * YEAR, odometer_km=120_000)
    verdict = judge(late, coverage_table())
    assert not verdict.accepted
    assert "120000 km is beyond the 100000 km of maker-new-vehicle" in verdict.reason
    assert "mx-legal-guarantee ended" in verdict.reason


def test_the_legal_guarantee_runs_without_a_km_limit() -> None:
    verdict = judge(replace(FACTS, odometer_km=150_000), coverage_table())
    assert verdict.accepted and verdict.entry is not None and verdict.entry.id == "eu-legal-guarantee"


def test_a_battery_capacity_claim_needs_the_state_of_health_below_the_guarantee() -> None:
    battery = replace(FACTS, product="traction_battery", market="MX", claimed_at=SOLD + 3 * YEAR)
    assert judge(replace(battery, state_of_health=65), coverage_table()).accepted
    above = judge(replace(battery, state_of_health=82), coverage_table())
    assert not above.accepted and "82% is not below the 70%" in above.reason
    assert not judge(replace(battery, state_of_health=65, odometer_km=170_000), coverage_table()).accepted


def test_no_delivery_unknown_product_and_record_problems_are_rejected() -> None:
    table = coverage_table()
    assert "not been delivered" in judge(replace(FACTS, delivered_at=None), table).reason
    assert "unknown product" in judge(replace(FACTS, product="wipers"), table).reason
    assert judge(replace(FACTS, record_problem="the record is for another vehicle"), table).reason == (
        "the record is for another vehicle")


def test_term_end_keeps_the_calendar_day() -> None:
    assert term_end(parse_time("2024-02-29T00:00:00Z"), 1) == parse_time("2025-02-28T00:00:00Z")
    assert term_end(SOLD, 2) == parse_time("2027-03-01T10:00:00Z")


def test_coverage_state_lists_what_runs() -> None:
    rows = coverage_state(coverage_table(), "DE", SOLD, 120_000, SOLD + YEAR)
    by_id = {(r["product"], r["coverage"]): r for r in rows}
    assert by_id[("vehicle", "eu-legal-guarantee")]["running"]
    assert not by_id[("vehicle", "maker-new-vehicle")]["running"]  # km beyond 100,000
    assert coverage_state(coverage_table(), "DE", None, None, SOLD) == []


def test_the_workflow_allows_only_its_steps() -> None:
    assert next_status("submitted", "accept").value == "accepted"
    assert next_status("submitted", "reject").value == "rejected"
    assert next_status("accepted", "settle").value == "settled"
    for current, step in (("rejected", "settle"), ("settled", "accept"), ("accepted", "reject"),
                          ("submitted", "settle"), ("submitted", "pay")):
        with pytest.raises(WorkflowError):
            next_status(current, step)


def test_a_claim_body_names_each_problem() -> None:
    with pytest.raises(ClaimInvalid) as caught:
        parse_claim({"claimKey": "bad key", "vin": "X", "part": "nope", "claimedAt": "yesterday",
                     "stateOfHealth": 130})
    paths = {p.path for p in caught.value.problems}
    assert {"$.claimKey", "$.vin", "$.part", "$.claimedAt", "$.product", "$.defect", "$.odometerKm",
            "$.stateOfHealth"} <= paths
    claim = parse_claim({"claimKey": "WC-1", "vin": "LNXES1AB0SA000015", "claimedAt": "2026-01-01T00:00:00Z",
                         "part": "urn:epc:id:sgtin:6957718.012345.7", "product": "vehicle", "defect": "dead",
                         "odometerKm": 1000})
    assert claim.epc == "https://id.gs1.org/01/06957718123450/21/7"


@given(
    market=st.sampled_from(["DE", "FR", "SA", "MX", "TH", "XX"]),
    product=st.sampled_from(["vehicle", "traction_battery"]),
    days=st.integers(min_value=0, max_value=12 * 365),
    km=st.integers(min_value=0, max_value=400_000),
    soh=st.none() | st.integers(min_value=0, max_value=100),
)
def test_an_accepted_claim_always_lies_inside_the_entry_it_names(
    market: str, product: str, days: int, km: int, soh: int | None
) -> None:
    facts = replace(FACTS, market=market, product=product, claimed_at=SOLD + days * 86_400_000_000,
                    odometer_km=km, state_of_health=None if soh is None else float(soh))
    verdict = judge(facts, coverage_table())
    if not verdict.accepted:
        assert verdict.reason
        return
    entry = verdict.entry
    assert entry is not None and entry.applies(market, product)
    assert facts.claimed_at < term_end(SOLD, entry.years)
    assert entry.km is None or km <= entry.km
    assert entry.min_state_of_health is None or soh is None or soh < entry.min_state_of_health
