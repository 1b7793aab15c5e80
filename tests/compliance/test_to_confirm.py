"""Unknown is a state: a requirement whose scope or deciding date is not confirmed at a primary source is
assessed "to confirm" - never in force, never dropped - with an action for its owner; the sources report
lists every requirement's sources and flags stale reviews."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from test_pack_sourcing import SOURCED, make_root
from trestle.oscal.assessment_results import AssessmentResults

from conftest import make_evidence
from roadpass.compliance.actions import actions_for
from roadpass.compliance.assess import Assessor
from roadpass.compliance.export_oscal import assessment_results
from roadpass.compliance.matrix import build_matrix
from roadpass.compliance.pack_models import Phase
from roadpass.compliance.packs_loader import PackLibrary, load_library
from roadpass.compliance.planner import plan
from roadpass.compliance.predicates import Truth, parse_predicate
from roadpass.compliance.product import TechnicalFile, parse_technical_file
from roadpass.compliance.recording import fresh_gaps
from roadpass.compliance.report import html_report
from roadpass.compliance.sources import primary_url, sources_report
from roadpass.compliance.wording import phase_text

BEFORE = dt.date(2026, 12, 6)  # before the confirmed phase (18 August 2027); the phase to confirm could bind
AFTER = dt.date(2027, 9, 1)


@pytest.fixture
def xx(tmp_path: Path) -> PackLibrary:
    return load_library(make_root(tmp_path))


def battery(turnover: int = 50_000_000, **market: object) -> TechnicalFile:
    return parse_technical_file({
        "key": "pack", "name": "Pack", "product_type": "ev_traction_battery", "manufacturer": "maker",
        "attributes": {"company": {"net_turnover_eur": turnover}},
        "suppliers": [{"key": "maker", "name": "Maker", "country": "DE", "role": "manufacturer"}],
        "markets": [{"market": "XX", "planned": "2027-01-01", **market}],
        "raci": {"default": {"responsible_party": "Compliance", "responsible_person": "Ada",
                             "accountable": "Head of compliance"}},
    })


def test_a_phase_to_confirm_that_decides_makes_the_requirement_to_confirm(xx: PackLibrary) -> None:
    a = Assessor(xx).assess(battery(), "XX", on=BEFORE, evidence=[])
    result = a.result("XX-ONE")
    assert result.status == "to_confirm" and result.in_force == "unknown"
    assert "the date for existing stock" in result.reason and "if confirmed: missing: declaration" in result.reason
    assert result.missing[0].startswith("confirm XX-ONE: the date for existing stock")
    assert a.status == "to_confirm" and a.counts["to_confirm"] == 1 and a.counts["gap"] == 0
    # Once a confirmed phase binds, the requirement is in force and its gap a gap.
    placed = battery(planned=AFTER.isoformat())
    bound = Assessor(xx).assess(placed, "XX", on=AFTER, evidence=[]).result("XX-ONE")
    assert bound.status == "gap" and bound.binding_from is not None


def test_evidence_meets_a_requirement_to_confirm(xx: PackLibrary) -> None:
    doc = make_evidence("DD-1", "declaration", issuer_role="self", requirements=["XX-ONE"])
    result = Assessor(xx).assess(battery(), "XX", on=BEFORE, evidence=[doc]).result("XX-ONE")
    assert result.status == "met" and "to confirm: the date for existing stock" in result.reason


def test_a_scope_to_confirm_is_never_in_force_and_never_dropped(tmp_path: Path) -> None:
    text = SOURCED.replace("    reviewed: 2026-12-06\n", "    reviewed: 2026-12-06\n    to_confirm: whether "
                           "importers are covered; read Art. 47(2)\n")
    library = load_library(make_root(tmp_path, text))
    placed = battery(planned=AFTER.isoformat())  # the confirmed phase binds; the scope is still to confirm
    result = Assessor(library).assess(placed, "XX", on=AFTER, evidence=[]).result("XX-ONE")
    assert result.status == "to_confirm" and "whether importers are covered" in result.reason
    # A product the scope predicate rules out is still not applicable, with the reason.
    small = Assessor(library).assess(battery(turnover=1_000), "XX", on=AFTER, evidence=[]).result("XX-ONE")
    assert small.status == "not_applicable"


def test_requirements_to_confirm_become_actions_for_their_owner(xx: PackLibrary) -> None:
    tf = battery()
    a = Assessor(xx).assess(tf, "XX", on=BEFORE, evidence=[])
    [item] = actions_for(a, tf)
    assert item.kind == "to_confirm" and item.title.startswith("Confirm XX-ONE")
    assert (item.responsible_party, item.responsible_person) == ("Compliance", "Ada")
    assert item.still_open(a) and item.to_json()["kind"] == "to_confirm"
    assert fresh_gaps([item], a) == []  # still to confirm: the open item is kept
    placed = battery(planned=AFTER.isoformat())
    later = Assessor(xx).assess(placed, "XX", on=AFTER, evidence=[])
    assert not item.still_open(later)  # now a gap, with its own item
    assert [i.kind for i in fresh_gaps(actions_for(later, placed), a)] == ["gap"]


def test_the_plan_covers_requirements_to_confirm(xx: PackLibrary) -> None:
    p = plan(Assessor(xx), battery(), "XX", on=BEFORE, evidence=[])
    assert "XX-ONE" in p.gaps and any("XX-ONE" in o.covers for o in p.offers)


def test_matrix_and_report_show_to_confirm(xx: PackLibrary) -> None:
    m = build_matrix(Assessor(xx), [battery()], {}, on=BEFORE)
    assert m.to_json()["products"][0]["markets"]["XX"]["status"] == "to_confirm"
    html = html_report(m)
    assert "1 to confirm" in html and 'class="to_confirm"' in html and "XX-ONE" in html


def test_phase_text_says_the_date_is_to_confirm(xx: PackLibrary) -> None:
    phase = xx.get("XX").get("XX-ONE").effective.phases[1]
    assert phase_text(phase) == "all from a date to confirm (expected 2028-01-01)"


def test_sources_report_lists_sources_and_flags_stale_reviews(xx: PackLibrary) -> None:
    report = sources_report(xx, on=dt.date(2027, 1, 1))
    [entry] = report.entries
    doc = entry.to_json()
    assert doc["reviewed"] == "2026-12-06" and not doc["stale"] and doc["confidence"] == "high"
    assert doc["url"] == primary_url(xx.get("XX").get("XX-ONE")) == "https://example.org/eli/act/2024/1/oj#art_96"
    assert {p["where"] for p in doc["primary"]} == {"effective/phases/0", "effective/entry_into_force", "figures/0"}
    assert all(p["quote"] and p["publication"] for p in doc["primary"])
    assert doc["support"] == [{"where": "effective/phases/1", "url": "https://lawfirm.example.com/notes/act-2024-1",
                               "note": "reports 1 January 2028 for existing stock"}]
    assert doc["to_confirm"] == ["the date for existing stock; read Art. 97 of the amending act"]
    stale = sources_report(xx, on=dt.date(2027, 1, 1), stale_after_days=10)
    assert stale.to_json()["stale"] == ["XX-ONE"] and stale.to_json()["counts"]["stale"] == 1
    with pytest.raises(ValueError, match="stale_after_days"):
        sources_report(xx, on=BEFORE, stale_after_days=-1)


def test_every_shipped_requirement_is_sourced_or_to_confirm(shipped: PackLibrary) -> None:
    """No requirement of a version in use lacks a sourced date or an explicit "to confirm" (issue 16)."""
    for market in shipped.markets():
        for req in shipped.get(market).requirements:
            for phase in req.effective.phases:
                dated = phase.start is not None or phase.from_model_year is not None
                assert (dated and phase.source is not None) or phase.to_confirm, (req.id, phase)


def test_oscal_reports_a_requirement_to_confirm_as_neither_pass_nor_fail(xx: PackLibrary) -> None:
    a = Assessor(xx).assess(battery(), "XX", on=BEFORE, evidence=[])
    doc = assessment_results(a, now=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
    model = AssessmentResults.model_validate(doc["assessment-results"])
    [finding] = model.results[0].findings or []
    assert finding.title == "XX-ONE to confirm"
    assert finding.target.status.state.value == "not-satisfied" and finding.target.status.reason == "other"


def test_a_phase_to_confirm_never_binds_and_is_pending_only_where_it_could() -> None:
    phase = Phase("all", "on", to_confirm="the date", expected=dt.date(2020, 1, 1))
    assert phase.triggered({}, BEFORE) is Truth.FALSE  # an expected date is never used as in force
    assert phase.pending({}, BEFORE)
    guarded = Phase("all", "on", to_confirm="the date", when=parse_predicate("ota == true"))
    assert not guarded.pending({"ota": False}, BEFORE) and guarded.pending({}, BEFORE)
    assert not Phase("all", "on", to_confirm="the date", until=dt.date(2026, 1, 1)).pending({}, BEFORE)
    assert not Phase("all", "on", start=dt.date(2020, 1, 1)).pending({}, BEFORE)
