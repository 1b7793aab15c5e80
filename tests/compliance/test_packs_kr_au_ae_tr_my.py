"""Pack data for Korea, Australia, the UAE, Türkiye and Malaysia: sourced where read, "to confirm" elsewhere.

These tests pin what was read at the primary texts (the Korean Motor Vehicle Management Act and its addenda,
the Enforcement Rule, PIPA) so that a later edit cannot silently drop a source or turn an unread date into
an in-force one.
"""

from __future__ import annotations

import datetime as dt

from roadpass.compliance.pack_sourcing import check_sourcing
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.predicates import Truth

MARKETS = ("KR", "AU", "AE", "TR", "MY")
ON = dt.date(2026, 12, 6)
M1 = {"product_type": "vehicle", "category": "M1", "connectivity": True, "software_update_capable": True}


def test_new_markets_have_no_sourcing_issues_and_every_requirement_is_reviewed(shipped: PackLibrary) -> None:
    assert check_sourcing(shipped, MARKETS) == []
    for market in MARKETS:
        pack = shipped.get(market)
        assert pack.version == "2026.1"
        for req in pack.requirements:
            assert req.reviewed == dt.date(2026, 12, 6), req.id
            # A date is either sourced or to confirm: no phase binds on an unread date.
            for phase in req.effective.phases:
                assert (phase.start is not None) != (phase.to_confirm is not None), (req.id, phase)
                if phase.start is not None:
                    assert phase.source is not None and phase.source.quote, req.id


def test_korean_csms_binds_new_self_certifications_from_14_august_2025_and_all_vehicles_from_2027(
    shipped: PackLibrary,
) -> None:
    csms = shipped.get("KR").get("KR-CSMS")
    assert csms.effective.entry_into_force == dt.date(2025, 8, 14)
    new_type = {**M1, "type_approval_date": "2025-09-01", "registration_date": "2026-03-01"}
    carry_over = {**M1, "type_approval_date": "2024-05-01", "registration_date": "2026-03-01"}
    late = {**carry_over, "registration_date": "2027-09-01"}
    assert csms.effective.in_force(new_type, ON) is Truth.TRUE
    assert csms.effective.in_force(carry_over, ON) is Truth.FALSE
    assert csms.effective.in_force(late, dt.date(2027, 9, 1)) is Truth.TRUE
    validity = {f.name: f for f in csms.figures}["csms_certificate_validity_months"]
    assert validity.value == 36 and validity.source is not None
    assert any(rule.max_age_months == 36 for rule in csms.evidence)


def test_foreign_approvals_do_not_replace_korean_certification(shipped: PackLibrary) -> None:
    edges = shipped.equivalences
    assert edges.accepts(standard="UN-R155", issued_in="EU", market="KR", requirement_id="KR-CSMS") is False
    assert edges.accepts(standard="UN-R100", issued_in="EU", market="KR", requirement_id="KR-BATTERY-CERT") is False


def test_battery_certification_needed_for_production_after_the_one_year_grace(shipped: PackLibrary) -> None:
    cert = shipped.get("KR").get("KR-BATTERY-CERT")
    battery = {"product_type": "ev_traction_battery"}
    assert cert.effective.in_force({**battery, "manufacture_date": "2025-06-01"}, ON) is Truth.FALSE
    assert cert.effective.in_force({**battery, "manufacture_date": "2026-03-01"}, ON) is Truth.TRUE


def test_unread_rules_are_reported_to_confirm_not_in_force(shipped: PackLibrary) -> None:
    for market, rid in (("TR", "TR-GSR-R155"), ("MY", "MY-PDPA-TRANSFER")):
        req = shipped.get(market).get(rid)
        assert req.confidence == "low", rid
        assert all(p.to_confirm and p.start is None for p in req.effective.phases), rid
    # The UAE law is in force (Art. 31) but controllers comply only after its Executive Regulations (Art. 29).
    pdpl = shipped.get("AE").get("AE-PDPL-TRANSFER")
    assert pdpl.effective.entry_into_force == dt.date(2022, 1, 2)
    assert all(p.to_confirm and p.start is None for p in pdpl.effective.phases)
    duty = shipped.get("TR").get("TR-CN-ADDITIONAL-DUTY")
    unread = {f.name for f in duty.figures if f.to_confirm}
    assert unread == {"additional_duty_rate_percent", "additional_duty_minimum_usd"}
    assert duty.applies({**M1, "origin.country": "CN"}).truth is Truth.TRUE
    assert duty.applies({**M1, "origin.country": "DE"}).truth is Truth.FALSE
