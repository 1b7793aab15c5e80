"""Exports: CISO Assistant libraries (field for field as its own files), OSCAL assessment-results (validated
against OSCAL's models from compliance-trestle), the HTML/PDF gap report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from trestle.oscal.assessment_results import AssessmentResults

from conftest import TODAY, car
from roadpass.compliance.assess import Assessor
from roadpass.compliance.catalogue_loader import FRAGMENTS_DIR, PACKS_DIR
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.export_ciso import (
    URN_PATTERN,
    dump_yaml,
    framework_library,
    mapping_libraries,
    mapping_version,
)
from roadpass.compliance.export_oscal import assessment_results
from roadpass.compliance.matrix import build_matrix
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.report import html_report, pdf_report

FIXTURES = Path(__file__).parent / "fixtures"
NOW = dt.datetime(2026, 12, 6, 9, 30, tzinfo=dt.UTC)
#: Every market with a pack folder (the exports cover whatever packs are present).
MARKETS = sorted(p.name.upper() for p in PACKS_DIR.iterdir() if p.is_dir() and p.name != FRAGMENTS_DIR)
# Keys CISO Assistant's importers read (backend/library/utils.py: RequirementNodeImporter, RequirementMappingImporter).
NODE_KEYS = {"urn", "parent_urn", "assessable", "depth", "ref_id", "annotation", "typical_evidence", "name",
             "description", "implementation_groups", "translations", "question"}
MAPPING_KEYS = {"source_requirement_urn", "target_requirement_urn", "relationship", "annotation",
                "strength_of_relationship", "rationale"}


def _real(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / name).read_text())
    return data


def _types(d: dict[str, Any]) -> dict[str, type]:
    return {k: type(v) for k, v in d.items()}


@pytest.mark.parametrize("market", MARKETS)
def test_pack_exports_as_a_ciso_assistant_framework_library(library: PackLibrary, market: str) -> None:
    real = _real("ciso_assistant_framework_excerpt.yaml")
    ours = yaml.safe_load(dump_yaml(framework_library(library.get(market))))
    assert set(ours) == set(real)
    assert {k: t for k, t in _types(ours).items() if k != "publication_date"} == {
        k: t for k, t in _types(real).items() if k != "publication_date"}
    assert set(ours["objects"]) == {"framework"}
    assert set(ours["objects"]["framework"]) == set(real["objects"]["framework"])
    nodes = ours["objects"]["framework"]["requirement_nodes"]
    real_nodes = real["objects"]["framework"]["requirement_nodes"]
    for node in nodes:
        assert set(node) <= NODE_KEYS and {"urn", "assessable", "depth"} <= set(node)
        assert URN_PATTERN.match(node["urn"]) and node["urn"] == node["urn"].lower()
    parent, child = nodes[0], nodes[1]
    assert set(parent) == set(real_nodes[0]) and _types(parent) == _types(real_nodes[0])
    assert set(real_nodes[1]) <= set(child) and child["parent_urn"] == parent["urn"]
    refs = [n["ref_id"] for n in nodes if n["assessable"]]
    assert refs == [r.id for t in dict.fromkeys(r.topic for r in library.get(market).requirements)
                    for r in library.get(market).requirements if r.topic == t]
    assert URN_PATTERN.match(ours["urn"]) and isinstance(ours["version"], int)


def test_equivalences_export_as_ciso_assistant_mapping_libraries(library: PackLibrary) -> None:
    real = _real("ciso_assistant_mapping_excerpt.yaml")
    libraries = mapping_libraries(library, now=NOW)
    eu_gb = next(lib for lib in libraries if lib["ref_id"] == "mapping-roadpass-regpack-eu-to-roadpass-regpack-gb")
    parsed = yaml.safe_load(dump_yaml(eu_gb))
    assert set(parsed) == set(real)
    [forward] = parsed["objects"]["requirement_mapping_sets"]
    assert set(forward) == set(real["objects"]["requirement_mapping_sets"][0])
    by_pair = {(m["source_requirement_urn"].rsplit(":", 1)[1], m["target_requirement_urn"].rsplit(":", 1)[1]): m
               for m in forward["requirement_mappings"]}
    r155 = by_pair[("eu-gsr-r155", "gb-r155")]
    assert set(r155) <= MAPPING_KEYS and r155["relationship"] == "equal" and "EQ-R155-TO-GB" in r155["annotation"]
    eu_cn = next(lib for lib in libraries if lib["ref_id"].endswith("-eu-to-roadpass-regpack-cn"))
    refused = {m["target_requirement_urn"].rsplit(":", 1)[1]: m["relationship"]
               for m in eu_cn["objects"]["requirement_mapping_sets"][0]["requirement_mappings"]}
    assert refused["cn-gb44495"] == "not_related"
    framework_urns = {framework_library(library.get(m))["objects"]["framework"]["urn"] for m in library.markets()}
    for lib in libraries:
        for mapping_set in lib["objects"]["requirement_mapping_sets"]:
            assert {mapping_set["source_framework_urn"], mapping_set["target_framework_urn"]} <= framework_urns


def _market(urn: str) -> str:
    # urn:roadpass:risk:req_node:roadpass-regpack-<market>:<requirement>
    return urn.split(":")[4].rsplit("-", 1)[1].upper()


def test_one_mapping_set_per_ordered_pair_from_one_way_edges_only(library: PackLibrary) -> None:
    libraries = mapping_libraries(library, now=NOW)
    sets = [s for lib in libraries for s in lib["objects"]["requirement_mapping_sets"]]
    pairs = [(s["source_framework_urn"], s["target_framework_urn"]) for s in sets]
    assert len(pairs) == len(set(pairs)), "two mapping sets for one framework pair"
    assert not [s["ref_id"] for s in sets if s["ref_id"].endswith("-revert")]
    assert all(len(lib["objects"]["requirement_mapping_sets"]) == 1 for lib in libraries)
    edges = {e.id: e for e in library.equivalences.edges}
    for s in sets:
        for m in s["requirement_mappings"]:
            source, target = _market(m["source_requirement_urn"]), _market(m["target_requirement_urn"])
            edge = edges[m["annotation"].split(" ", 1)[0]]
            # Every row is one of roadpass's own edges, read in its own direction.
            assert edge.target.market == target and source != target
            assert not edge.source.issued_in or any(
                source in library.equivalences.markets_of(g) for g in edge.source.issued_in)
            assert m["target_requirement_urn"].rsplit(":", 1)[1] in {r.lower() for r in edge.target.requirements}
    gb_eu = [m for s in sets if s["source_framework_urn"].endswith("-gb") and s["target_framework_urn"].endswith("-eu")
             for m in s["requirement_mappings"]]
    claimed = {m["target_requirement_urn"].rsplit(":", 1)[1] for m in gb_eu if m["relationship"] == "equal"}
    accepted = {r.lower() for e in library.equivalences.edges if e.target.market == "EU" and e.accepted
                and e.scope == "full" and (not e.source.issued_in or any(
                    "GB" in library.equivalences.markets_of(g) for g in e.source.issued_in))
                for r in e.target.requirements}
    assert claimed <= accepted  # a GB approval claims only what roadpass accepts in the EU


def test_mapping_versions_differ_for_two_edits_on_one_day(library: PackLibrary) -> None:
    morning = mapping_libraries(library, now=NOW)[0]["version"]
    afternoon = mapping_libraries(library, now=NOW + dt.timedelta(hours=5, minutes=3))[0]["version"]
    assert isinstance(morning, int) and morning < afternoon < 2**31 - 1  # CISO Assistant's integer field
    assert morning > 2026340  # greater than the former year * 1000 + day-of-year versions
    assert mapping_version(dt.datetime(2000, 1, 1, 0, 1, tzinfo=dt.UTC)) == 1


def test_oscal_assessment_results_validate_against_the_oscal_models(
    assessor: Assessor, eu_r155: list[Evidence]
) -> None:
    a = assessor.assess(car(), "GB", on=dt.date(2027, 7, 1), evidence=eu_r155)
    doc = assessment_results(a, {e.key: e for e in eu_r155}, now=dt.datetime(2027, 7, 1, tzinfo=dt.UTC))
    model = AssessmentResults.model_validate(doc["assessment-results"])
    [result] = model.results
    assert result.findings is not None and len(result.findings) == len(a.applicable())
    states = {f.target.target_id: f.target.status.state.value for f in result.findings if f.target.status}
    assert states["GB-R155"] == "satisfied" and states["GB-GBTA"] == "not-satisfied"
    again = assessment_results(a, {e.key: e for e in eu_r155}, now=dt.datetime(2027, 7, 1, tzinfo=dt.UTC))
    assert again == doc  # deterministic UUIDs
    # import-ap resolves: "#uuid" names a resource in this document's back-matter.
    href = doc["assessment-results"]["import-ap"]["href"]
    assert model.back_matter is not None and model.back_matter.resources is not None
    resources = {r.uuid: r for r in model.back_matter.resources}
    assert href.startswith("#") and href[1:] in resources and "GB" in resources[href[1:]].title


def test_gap_report_html_and_pdf(assessor: Assessor, eu_r155: list[Evidence]) -> None:
    vehicle = car()
    m = build_matrix(assessor, [vehicle], {"car": eu_r155}, on=TODAY)
    html = html_report(m)
    assert "data:image/png;base64," in html and "GB-GBTA" in html and 'href="#car-CN"' in html
    pdf = pdf_report(m)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
