"""Authority reports: forms are data with a clause per field; values come only from the campaign's facts;
what a form needs and roadpass lacks is listed as missing, never filled in."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from roadpass.aftermarket.recalls.completion import completion_curve
from roadpass.aftermarket.recalls.model import (
    Campaign,
    CampaignDraft,
    Defect,
    Remedy,
    RemedyState,
    Scope,
    VehicleState,
)
from roadpass.aftermarket.recalls.render import curve_svg, report_pdf
from roadpass.aftermarket.recalls.reports import (
    build_report,
    campaign_facts,
    forms,
    parse_quarter,
    period_facts,
    quarters,
)
from roadpass.trace.timeutil import to_us


def us(day: str) -> int:
    return to_us(datetime.fromisoformat(day).replace(tzinfo=UTC))


CAMPAIGN = Campaign(1, CampaignDraft(
    "RC-1", "Cells may short", "Demo Motors", Defect("separator fold", "fire", component="traction pack"),
    Remedy("replace the pack", ("04012345000016",)), Scope(lots=("https://id.gs1.org/01/04012345000016/10/L1",)),
    {"dealerNoticeOn": "2026-09-01", "remedyDueOn": "2026-11-30"}, {}, {"nhtsaCampaign": "26V-123"}),
    "maker", us("2026-09-02"), "test")
STATES = [VehicleState("LNXES1AB0SB000001", "US", RemedyState.REMEDIED, us("2026-10-05"), "wo-1"),
          VehicleState("LNXES1AB0SB000002", "US", RemedyState.OPEN),
          VehicleState("LNXES1AB0SB000003", "DE", RemedyState.OPEN),
          VehicleState("LNXES1AB0SB000004", "US", RemedyState.NO_LONGER_FITTED)]


def test_every_form_field_has_a_clause_and_a_source_or_a_reason() -> None:
    found = forms()
    assert {"us-573-6", "us-573-7", "eu-2018-858", "cn-samr"} <= set(found)
    for form in found.values():
        assert form.citation and form.source.startswith("https://") and form.markets
        ids = [f["id"] for f in form.fields]
        assert len(ids) == len(set(ids)), form.id
        for field in form.fields:
            assert field["clause"], (form.id, field["id"])
            assert field.get("source") or field.get("why_missing"), (form.id, field["id"])


def test_a_report_counts_its_markets_and_traces_each_value() -> None:
    form = forms()["us-573-6"]
    report = build_report(form, campaign_facts(CAMPAIGN, STATES, form.markets), campaign_key="RC-1", period=None,
                          generated_at=us("2026-12-06"))
    by_id = {f.id: f for f in report.fields}
    assert by_id["population"].value == 2  # the two US vehicles that carry the defect; not DE, not the one it left
    assert by_id["population"].source == "campaign:vehicles.affected"
    assert by_id["vin_range"].value == "LNXES1AB0SB000001 to LNXES1AB0SB000002"
    assert by_id["nhtsa_campaign_number"].value == "26V-123"
    assert by_id["noncompliance_standard"].value == "not applicable"
    missing = {f.id: f.reason for f in report.missing}
    assert "percentage_with_defect" in missing and "designated_agent" in missing
    assert "chronology" in missing and "defect.chronology" in (missing["chronology"] or "")
    assert "production_dates" in missing  # no production window in scope: not invented from elsewhere
    body = report.as_json()
    assert {m["id"] for m in body["missing"]} == set(missing)
    assert all("value" not in f for f in body["fields"] if f["status"] == "missing")


def test_quarterly_report_counts_remedies_up_to_the_quarters_end() -> None:
    assert quarters(date(2026, 9, 1), 8) == ["2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3", "2027Q4", "2028Q1",
                                             "2028Q2"]
    assert parse_quarter("2026-q4") == (2026, 4)
    with pytest.raises(ValueError, match="not a calendar quarter"):
        parse_quarter("Q4 2026")
    us_only = frozenset({"US"})
    q3 = period_facts(STATES, us_only, 2026, 3)
    q4 = period_facts(STATES, us_only, 2026, 4)
    assert (q3["period.affected"], q3["period.remedied"], q3["period.remediedInQuarter"]) == (2, 0, 0)
    assert (q4["period.remedied"], q4["period.rate"], q4["period.remediedInQuarter"]) == (1, 0.5, 1)
    assert q4["period.noLongerFitted"] == 1


def test_pdf_and_svg_render() -> None:
    form = forms()["cn-samr"]
    report = build_report(form, campaign_facts(CAMPAIGN, STATES, frozenset()), campaign_key="RC-1", period=None,
                          generated_at=us("2026-12-06"))
    curve = completion_curve(STATES, start=date(2026, 9, 1), end=date(2026, 12, 6))
    pdf = report_pdf(report, curve)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
    svg = curve_svg(curve, "completion")
    assert "<svg" in svg and "US" in svg
