"""The test-reuse planner: accepted evidence and its basis, and the least-cost set of new items."""

from __future__ import annotations

from conftest import TODAY, car, make_evidence
from roadpass.compliance.assess import Assessor
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.planner import Offer, _set_cover, plan


def test_plan_for_china_lists_r155_as_refused_and_closes_every_gap(
    assessor: Assessor, eu_r155: list[Evidence]
) -> None:
    p = plan(assessor, car(), "CN", on=TODAY, evidence=eu_r155)
    refused = [r for r in p.reuse if r.evidence == "R155-E4" and r.requirement_id == "CN-GB44495"]
    assert refused and refused[0].verdict == "refused" and "EQ-R155-TO-CN-NOT" in refused[0].basis
    closed = set().union(*(o.covers for o in p.offers))
    closable = set(p.gaps) - {rid for rid, _ in p.not_closable}
    assert closed == closable and p.optimal
    gb44495 = next(o for o in p.offers if "CN-GB44495" in o.covers)
    assert gb44495.kind == "test_report" and gb44495.standards == ("GB-44495-2024",)
    assert gb44495.companions == ("documentation",)


def test_reuse_in_gb_names_the_equivalence(assessor: Assessor, eu_r155: list[Evidence]) -> None:
    p = plan(assessor, car(), "GB", on=TODAY.replace(year=2027, month=7), evidence=eu_r155)
    used = {(r.evidence, r.requirement_id): r for r in p.reuse}
    assert used[("R155-E4", "GB-R155")].verdict == "satisfies"
    assert "EQ-R155-TO-GB" in used[("R155-E4", "GB-R155")].basis
    assert "GB-R155" not in p.gaps


def test_one_declaration_of_conformity_closes_three_connected_vehicle_gaps(assessor: Assessor) -> None:
    vehicle = car(sbom={"spec_version": "1.6", "sha256": "0" * 64, "components": []},
                  components=[{"ref": "TCU", "name": "TCU", "roles": ["vcs"], "supplier": "maker"}])
    p = plan(assessor, vehicle, "US", on=TODAY, evidence=[], costs={"US-15CFR791-DOC": 30_000, "declaration": 5_000,
                                                                      "authorization": 60_000})
    doc = [o for o in p.offers if o.standards == ("US-15CFR791-DOC",)]
    assert len(doc) == 1
    assert {"US-CV-791.303", "US-CV-791.304", "US-CV-791.305"} <= doc[0].covers
    assert doc[0].cost == 30_000 and p.total_cost is not None and p.total_cost >= 30_000


def test_plan_counts_companions_when_the_primary_is_held(assessor: Assessor, eu_r155: list[Evidence]) -> None:
    later = TODAY.replace(year=2027, month=7)
    p = plan(assessor, car(), "GB", on=later, evidence=eu_r155[:1])
    companion = next(o for o in p.offers if "GB-R155" in o.covers)
    assert companion.kind == "companion" and companion.companions == ("registered_process",)


def test_set_cover_beats_greedy() -> None:
    # Greedy takes the big cheap-per-element set first and then needs two more; the optimum is two sets.
    def offer(name: str, covers: set[str], cost: float) -> Offer:
        return Offer(name, (), None, None, (), None, frozenset(covers), cost)

    offers = [offer("big", {"a", "b", "c", "d"}, 4.0), offer("left", {"a", "b", "e"}, 3.0),
              offer("right", {"c", "d", "f"}, 3.0), offer("e", {"e"}, 2.5), offer("f", {"f"}, 2.5)]
    chosen, optimal = _set_cover(frozenset("abcdef"), offers)
    assert optimal and sorted(o.kind for o in chosen) == ["left", "right"]


def test_expired_evidence_shows_in_reuse(assessor: Assessor) -> None:
    charger = car(key="wb", product_type="charger", category=None,
                  attributes={"charger": {"public": True}, "processes_personal_data": False},
                  markets=[{"market": "TH", "planned": "2026-01-01"}])
    cb = make_evidence("CB", "test_report", standards=["IEC-61851-1", "IEC-62196-2", "IEC-62196-3"],
                       issuer_role="cb_testing_laboratory", scheme="IECEE-CB", issued_in="DE",
                       expires_on="2026-01-01")
    p = plan(assessor, charger, "TH", on=TODAY, evidence=[cb])
    assert [r.verdict for r in p.reuse if r.evidence == "CB"] == ["expired"]
    assert "TH-TISI-CHARGER" in p.gaps
