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
from roadpass.compliance.evidence import Evidence
from roadpass.compliance.export_ciso import URN_PATTERN, dump_yaml, framework_library, mapping_libraries
from roadpass.compliance.export_oscal import assessment_results
from roadpass.compliance.matrix import build_matrix
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.report import html_report, pdf_report

FIXTURES = Path(__file__).parent / "fixtures"
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


@pytest.mark.parametrize("market", ["EU", "US", "CN", "GB", "JP", "SA", "IN", "TH", "MX", "ID", "BR"])
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
    libraries = mapping_libraries(library)
    eu_gb = next(lib for lib in libraries if lib["ref_id"] == "mapping-roadpass-regpack-eu-to-roadpass-regpack-gb")
    parsed = yaml.safe_load(dump_yaml(eu_gb))
    assert set(parsed) == set(real)
    forward, reverse = parsed["objects"]["requirement_mapping_sets"]
    assert set(forward) == set(real["objects"]["requirement_mapping_sets"][0])
    assert reverse["source_framework_urn"] == forward["target_framework_urn"]
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


def test_gap_report_html_and_pdf(assessor: Assessor, eu_r155: list[Evidence]) -> None:
    vehicle = car()
    m = build_matrix(assessor, [vehicle], {"car": eu_r155}, on=TODAY)
    html = html_report(m)
    assert "data:image/png;base64," in html and "GB-GBTA" in html and 'href="#car-CN"' in html
    pdf = pdf_report(m)
    assert pdf.startswith(b"%PDF") and len(pdf) > 2000
