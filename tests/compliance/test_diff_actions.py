"""Assessment diffs with causes; action items with RACI; decisions with snapshots."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import TODAY, car, make_evidence
from roadpass.compliance.actions import DecisionError, actions_for, make_decision
from roadpass.compliance.assess import Assessor
from roadpass.compliance.diff import diff_assessments
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.packs_loader import PackLibrary, diff_packs


def test_diff_names_expired_evidence(assessor: Assessor) -> None:
    charger = car(key="wb", product_type="charger", category=None,
                  attributes={"charger": {"public": True}, "processes_personal_data": False},
                  markets=[{"market": "TH", "planned": "2026-01-01"}])
    cb = make_evidence("CB", "test_report", standards=["IEC-61851-1", "IEC-62196-2", "IEC-62196-3"],
                       issuer_role="cb_testing_laboratory", scheme="IECEE-CB", issued_in="DE",
                       expires_on="2027-01-15")
    old = assessor.assess(charger, "TH", on=dt.date(2026, 6, 1), evidence=[cb])
    new = assessor.assess(charger, "TH", on=dt.date(2027, 1, 15), evidence=[cb])
    [change] = [c for c in diff_assessments(old, new).changes if c.requirement_id == "TH-TISI-CHARGER"]
    assert (change.before, change.after) == ("met", "gap")
    assert change.causes == ("evidence expired: CB on 2027-01-15",)


def test_diff_names_a_new_rule_in_force_and_a_product_change(assessor: Assessor) -> None:
    unit = car(key="ccu", product_type="cockpit_unit", category=None,
               attributes={"connectivity": True, "type_approved_component": False, "processes_personal_data": False},
               markets=[{"market": "EU", "planned": "2026-01-01"}])
    before = assessor.assess(unit, "EU", on=dt.date(2026, 6, 1), evidence=[])
    after = assessor.assess(unit, "EU", on=dt.date(2026, 10, 1), evidence=[])
    cra = next(c for c in diff_assessments(before, after).changes if c.requirement_id == "EU-CRA")
    assert cra.causes == ("new rule in force (binds all from 2026-09-11)",)
    changed = unit.model_copy(update={"attributes": {**unit.attributes, "processes_personal_data": True}})
    again = assessor.assess(changed, "EU", on=dt.date(2026, 10, 1), evidence=[])
    d = diff_assessments(after, again)
    gdpr = next(c for c in d.changes if c.requirement_id == "EU-GDPR-DESIGN")
    assert gdpr.causes[0].startswith("product changed: ") and "processes_personal_data: False -> True" in gdpr.causes[0]
    assert "processes_personal_data: False -> True" in d.product_changes


def test_diff_names_amended_rules_across_pack_versions(library: PackLibrary) -> None:
    old_pack, new_pack = library.get("EU", "2026.1"), library.get("EU", "2026.2")
    vehicle = car()
    a = Assessor(library).assess(vehicle, "EU", on=TODAY, evidence=[], pack=old_pack)
    b = Assessor(library).assess(vehicle, "EU", on=TODAY, evidence=[], pack=new_pack)
    d = diff_assessments(a, b, diff_packs(old_pack, new_pack))
    assert d.pack == "2026.1 -> 2026.2"
    r156 = [c for c in d.changes if c.requirement_id == "EU-GSR-R156"]
    assert not r156 or any("rule amended in pack 2026.2" in cause for cause in r156[0].causes)
    # The diff says why: the amendment of each pack version in between, in the pack's words.
    summary = new_pack.amendment.summary if new_pack.amendment else ""
    assert d.amendments == (f"2026.2: {summary}",) and d.to_json()["amendments"] == [f"2026.2: {summary}"]
    latest = library.get("EU")
    chain = library.amendments("EU", "2025.1", latest.version)
    expected = [v for v in library.versions("EU") if v in _chain(library, latest.version) - {"2025.1"}
                and library.get("EU", v).amendment is not None]
    assert [v for v, _ in chain] == expected and expected


def _chain(library: PackLibrary, version: str | None) -> set[str]:
    out: set[str] = set()
    while version is not None:
        out.add(version)
        version = library.get("EU", version).supersedes
    return out


def test_gaps_become_actions_with_raci_and_due_dates(assessor: Assessor) -> None:
    vehicle = car(raci={
        "default": {"responsible_party": "Homologation", "responsible_person": "A. Person", "accountable": "VP"},
        "cybersecurity": {"responsible_party": "Cyber office", "responsible_person": "C. Sec", "accountable": "CISO",
                          "consulted": ["Legal"], "informed": ["Sales"]},
    })
    a = assessor.assess(vehicle, "CN", on=TODAY, evidence=[])
    items = {i.requirement_id: i for i in actions_for(a, vehicle)}
    cyber = items["CN-GB44495"]
    assert (cyber.responsible_party, cyber.responsible_person, cyber.accountable) == ("Cyber office", "C. Sec", "CISO")
    assert cyber.consulted == ("Legal",) and cyber.due_on == dt.date(2027, 9, 1)  # planned market entry
    assert items["CN-ACCESS-CCC"].responsible_party == "Homologation"


def test_decisions_snapshot_the_state_and_refuse_nonsense(assessor: Assessor, eu_r155: list[Evidence]) -> None:
    a = assessor.assess(car(), "GB", on=TODAY.replace(year=2027, month=7), evidence=eu_r155)
    risk = make_decision("risk_acceptance", a, decided_by="J. Doe", rationale="GB approval in progress",
                         requirement_id="GB-GBTA", now=dt.datetime(2026, 11, 24, 9, tzinfo=dt.UTC))
    assert risk.snapshot["result"]["status"] == "gap" and risk.decided_at == "2026-11-24T09:00:00+00:00"
    assert risk.snapshot["assessment"]["content_hash"] == a.content_hash() and len(risk.snapshot_hash) == 64
    with pytest.raises(DecisionError, match="GB-R155 is met"):
        make_decision("risk_acceptance", a, decided_by="J. Doe", rationale="x", requirement_id="GB-R155")
    with pytest.raises(DecisionError, match="blocker gaps"):
        make_decision("approval", a, decided_by="J. Doe", rationale="ship it")
    with pytest.raises(DecisionError, match="decided_by"):
        make_decision("approval", a, decided_by=" ", rationale="ship it")
