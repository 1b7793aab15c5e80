"""Pack data for Vietnam, Canada, Israel, South Africa, Chile and Northern Ireland (XI).

These tests pin what was read at the primary texts (the China Surtax Order, PIPEDA, Vietnam's Personal Data
Protection Law, POPIA s. 72, the UK GDPR, the UK regulations giving Regulation (EU) 2018/858 effect in
Northern Ireland) so that a later edit cannot silently drop a source or turn an unread date into an
in-force one, and they hold the acceptance edges that differ from the neighbouring markets.
"""

from __future__ import annotations

import datetime as dt

from roadpass.compliance.pack_sourcing import check_sourcing
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.predicates import Truth

MARKETS = ("VN", "CA", "IL", "ZA", "CL", "XI")
ON = dt.date(2026, 12, 6)
M1 = {"product_type": "vehicle", "category": "M1", "connectivity": True, "software_update_capable": True}


def test_new_markets_have_no_sourcing_issues_and_every_date_is_sourced_or_to_confirm(
    shipped: PackLibrary,
) -> None:
    assert check_sourcing(shipped, MARKETS) == []
    for market in MARKETS:
        pack = shipped.get(market)
        assert pack.version == "2026.1"
        topics = {req.topic for req in pack.requirements}
        # Every topic the brief asks for is covered, if only as "to confirm".
        assert {"type_approval", "cybersecurity", "battery_safety", "radio", "data_transfer", "market_access"} <= (
            topics | {"software_update"}
        ), market
        for req in pack.requirements:
            assert req.reviewed == ON, req.id
            for phase in req.effective.phases:
                assert (phase.start is not None) != (phase.to_confirm is not None), (req.id, phase)
                if phase.start is not None:
                    assert phase.source is not None and phase.source.quote, req.id


def test_canada_surtax_on_chinese_evs_from_1_october_2024(shipped: PackLibrary) -> None:
    surtax = shipped.get("CA").get("CA-CHINA-SURTAX")
    sourced = [p for p in surtax.effective.phases if p.start is not None]
    assert [p.start for p in sourced] == [dt.date(2024, 10, 1)]
    assert sourced[0].source is not None and "October 1, 2024" in sourced[0].source.quote
    ev = {**M1, "powertrain": "BEV", "import_date": "2026-06-01"}
    assert surtax.applies({**ev, "origin.country": "CN"}).truth is Truth.TRUE
    assert surtax.applies({**ev, "origin.country": "DE"}).truth is Truth.FALSE
    assert surtax.effective.in_force({**ev, "import_date": "2024-09-30"}, ON) is Truth.FALSE
    assert surtax.effective.in_force(ev, ON) is Truth.TRUE


def test_vietnam_transfer_dossier_from_1_january_2026_within_60_days(shipped: PackLibrary) -> None:
    transfer = shipped.get("VN").get("VN-PDPL-TRANSFER")
    assert transfer.confidence == "high"
    (phase,) = transfer.effective.phases
    assert phase.start == dt.date(2026, 1, 1)
    assert phase.source is not None and "01 tháng 01 năm 2026" in phase.source.quote
    deadline = {f.name: f for f in transfer.figures}["dossier_deadline_days"]
    assert deadline.value == 60 and deadline.source is not None and "60 ngày" in deadline.source.quote
    exporter = {"processes_personal_data": True, "data": {"exported_from": ["VN"]}}
    assert transfer.applies(exporter).truth is Truth.TRUE
    assert transfer.effective.in_force(exporter, dt.date(2025, 12, 31)) is Truth.FALSE


def test_unread_rules_are_reported_to_confirm_not_in_force(shipped: PackLibrary) -> None:
    for market, rid in (
        ("VN", "VN-IMPORT-INSPECTION"), ("IL", "IL-PRIVACY-TRANSFER"), ("ZA", "ZA-USED-VEHICLE-IMPORT"),
        ("CL", "CL-USED-VEHICLE-IMPORT"), ("XI", "XI-GSR-R155"), ("XI", "XI-EU-CVD-BEV-CN"),
    ):
        req = shipped.get(market).get(rid)
        assert all(p.to_confirm and p.start is None for p in req.effective.phases), rid
        assert req.effective.in_force({**M1, "processes_personal_data": True, "used": True}, ON) is not Truth.TRUE, rid
    # A reported date is kept as expected, never as in force.
    radio = shipped.get("CL").get("CL-SUBTEL-RADIO")
    assert radio.effective.phases[0].expected == dt.date(2026, 2, 22)
    assert radio.effective.in_force({**M1, "sale_date": "2026-12-01"}, ON) is Truth.FALSE


def test_chile_reformed_data_law_applies_from_1_december_2026(shipped: PackLibrary) -> None:
    chile = shipped.get("CL").get("CL-LEY21719-TRANSFER")
    (phase,) = chile.effective.phases
    assert phase.start == dt.date(2026, 12, 1)
    assert phase.source is not None and "01-DIC-2026" in phase.source.quote
    exporter = {"processes_personal_data": True, "data": {"exported_from": ["CL"]}}
    assert chile.effective.in_force(exporter, dt.date(2026, 11, 30)) is Truth.FALSE
    assert chile.effective.in_force(exporter, ON) is Truth.TRUE


def test_northern_ireland_follows_eu_product_rules_but_uk_gdpr(shipped: PackLibrary) -> None:
    xi = shipped.get("XI")
    ta = xi.get("XI-TA-EU-OR-UKNI")
    assert ta.proof is not None and "Northern Ireland Protocol" in ta.proof.quote
    assert {rule.scheme for rule in ta.evidence} == {"EU-TYPE-APPROVAL", "NATIONAL"}
    edges = shipped.equivalences
    assert edges.accepts(standard="UN-R155", issued_in="JP", market="XI", requirement_id="XI-GSR-R155") is True
    # EU SCCs alone are not a UK GDPR safeguard; the IDTA is.
    assert edges.accepts(
        standard="EU-SCC-2021-914", issued_in="EU", market="XI", requirement_id="XI-UKGDPR-TRANSFER"
    ) is False
    assert edges.accepts(standard="UK-IDTA", issued_in="GB", market="XI", requirement_id="XI-UKGDPR-TRANSFER") is True


def test_canada_does_not_recognise_un_approvals_for_cmvss(shipped: PackLibrary) -> None:
    edges = shipped.equivalences
    assert edges.accepts(standard="UN-R100", issued_in="JP", market="CA", requirement_id="CA-CMVSS-305") is False
    unread = {f.name for f in shipped.get("CA").get("CA-CMVSS-305").figures if f.to_confirm}
    assert unread == {"gvwr_kg"}


def test_used_vehicle_import_bans_spare_new_vehicles(shipped: PackLibrary) -> None:
    for market, rid in (("ZA", "ZA-USED-VEHICLE-IMPORT"), ("CL", "CL-USED-VEHICLE-IMPORT")):
        ban = shipped.get(market).get(rid)
        assert ban.applies({**M1, "used": True}).truth is Truth.TRUE, rid
        assert ban.applies({**M1, "used": False}).truth is Truth.FALSE, rid


def test_popia_transfer_rule_commenced_on_1_july_2020(shipped: PackLibrary) -> None:
    popia = shipped.get("ZA").get("ZA-POPIA-TRANSFER")
    (phase,) = popia.effective.phases
    assert phase.start == dt.date(2020, 7, 1)
    assert phase.source is not None and "section 72" in phase.source.quote
    assert popia.proof is not None and "foreign country" in popia.proof.quote
