"""Regulation packs: every shipped file validates, citations are checkable, broken files are refused with
file/line/reason, versions resolve and compare, and the data supports the cases the assessment relies on."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from conftest import confirm_all
from roadpass.compliance.catalogue_loader import FRAGMENTS_DIR
from roadpass.compliance.pack_models import RegulationPack
from roadpass.compliance.packs_loader import (
    PACKS_DIR,
    SCHEMA_PATH,
    PackError,
    PackLibrary,
    diff_packs,
    load_library,
    load_pack_file,
    load_standards,
)
from roadpass.compliance.predicates import Truth

#: The markets of the first packs; the packs present (one folder per market) are a superset.
FIRST_MARKETS = {"EU", "US", "CN", "SA", "MX", "TH", "ID", "BR", "IN", "GB", "JP"}
MARKETS = {p.name.upper() for p in PACKS_DIR.iterdir() if p.is_dir() and p.name != FRAGMENTS_DIR}
TODAY = dt.date(2026, 11, 24)


@pytest.fixture(scope="module")
def library() -> PackLibrary:
    return load_library()


def all_versions(library: PackLibrary) -> list[RegulationPack]:
    return [library.get(m, v) for m in library.markets() for v in library.versions(m)]


# --- shipped data ---------------------------------------------------------------------------------------


def test_published_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_every_market_has_a_pack_and_every_version_resolves(library: PackLibrary) -> None:
    assert set(library.markets()) == MARKETS >= FIRST_MARKETS
    for pack in all_versions(library):
        assert pack.requirements, pack.version
        assert pack.files[-1].endswith(f"{pack.market.lower()}/{pack.version}.yaml")


def test_every_requirement_cites_instrument_provision_and_https_link(library: PackLibrary) -> None:
    for pack in all_versions(library):
        for req in pack.requirements:
            assert req.citations, req.id
            for citation in req.citations:
                assert citation.instrument.strip(), req.id
                assert citation.provision.strip(), req.id
                assert citation.url.startswith("https://"), (req.id, citation.url)
            assert req.id.startswith(f"{pack.market}-")
            if req.confidence == "low":
                assert req.confidence_note, req.id


def test_requirement_ids_are_unique_within_each_version(library: PackLibrary) -> None:
    for pack in all_versions(library):
        assert len(pack.ids) == len(set(pack.ids)), pack.market


def test_evidence_and_edges_only_name_catalogued_standards(library: PackLibrary) -> None:
    rules = [e for p in all_versions(library) for r in p.requirements for e in r.evidence]
    named = {s for e in rules for s in e.standards}
    named |= {s for e in library.equivalences.edges for s in (*e.source.standards, *e.target.standards)}
    assert named <= set(library.standards.standards)
    for std in library.standards.standards.values():
        if std.kind in ("iso", "iec", "gb", "gb_t"):
            assert std.paywalled, f"{std.id} must be referenced by number and clause only"


def test_not_accepted_edges_state_their_gaps(library: PackLibrary) -> None:
    refusals = [e for e in library.equivalences.edges if not e.accepted]
    assert len(refusals) >= 10
    assert all(e.gaps and e.scope == "none" for e in refusals)


# --- the cases the assessment engine will pin ----------------------------------------------------------


def test_2027_connected_car_with_china_telematics_software_is_flagged_for_us(library: PackLibrary) -> None:
    car = {
        "product_type": "vehicle",
        "category": "M1",
        "connectivity": True,
        "model_year": 2027,
        "vcs": {"software_nexus": ["CN"]},
    }
    rule = library.get("US").get("US-CV-791.303")
    assert rule.applies(car).truth is Truth.TRUE
    assert rule.effective.in_force(car, TODAY) is Truth.TRUE
    prohibited = rule.prohibited(car)
    assert prohibited is not None
    assert prohibited.truth is Truth.TRUE
    # model year 2026 is exempt (791.308(b)); a clean supply chain is not prohibited
    assert rule.effective.in_force({**car, "model_year": 2026}, TODAY) is Truth.FALSE
    clean = rule.prohibited({**car, "vcs": {"software_nexus": ["DE"]}, "ads": {"software_nexus": []}})
    assert clean is not None
    assert clean.truth is Truth.FALSE


def test_vcs_hardware_dates_follow_model_year_or_import_date(library: PackLibrary) -> None:
    rule = library.get("US").get("US-CV-791.302")
    unit = {"product_type": "telematics_unit", "vcs": {"hardware_nexus": ["CN"]}}
    in_force = rule.effective.in_force
    assert in_force({**unit, "import_date": "2028-12-31"}, dt.date(2028, 12, 31)) is Truth.FALSE
    assert in_force({**unit, "import_date": "2029-01-01"}, dt.date(2029, 1, 1)) is Truth.TRUE
    assert in_force({**unit, "model_year": 2029, "import_date": "2029-06-01"}, TODAY) is Truth.FALSE
    assert rule.effective.in_force({**unit, "model_year": 2030}, TODAY) is Truth.TRUE


def test_r155_approval_from_eu_reused_for_uk_and_japan_not_china(library: PackLibrary) -> None:
    eq = library.equivalences
    args = {"standard": "UN-R155", "issued_in": "EU"}
    assert eq.accepts(**args, market="GB", requirement_id="GB-R155") is True
    assert eq.accepts(**args, market="JP", requirement_id="JP-R155") is True
    assert eq.accepts(**args, market="CN", requirement_id="CN-GB44495") is False
    assert "CN" in eq.groups["UNECE-1958"].non_members
    assert "US" in eq.groups["UNECE-1958"].non_members


def test_gb44496_refusal_names_what_r156_lacks(library: PackLibrary) -> None:
    edges = library.equivalences.for_requirement("CN", "CN-GB44496")
    (edge,) = [e for e in edges if not e.accepted and "UN-R156" in e.source.standards]
    text = " ".join(edge.gaps).lower()
    assert "silent" in text
    assert "rollback" in text
    assert "10 years" in text


def test_cb_report_evidence_carries_an_expiry(library: PackLibrary) -> None:
    rule = library.get("SA").get("SA-CHARGER")
    cb = [e for e in rule.evidence if e.scheme == "IECEE-CB"]
    assert cb
    assert all(e.expires for e in cb)
    edges = library.equivalences.for_requirement("SA", "SA-CHARGER")
    assert any(e.basis == "iecee-cb" and e.accepted for e in edges)


def test_phases_distinguish_new_types_from_all_new_vehicles(library: PackLibrary) -> None:
    shipped = library.get("EU").get("EU-GSR-R155")
    # Each phase is dated at its source or says what is to confirm (and, here, the reported date).
    assert all((p.start and p.source) or (p.to_confirm and p.expected) for p in shipped.effective.phases)
    rule = confirm_all(library).get("EU").get("EU-GSR-R155")
    old_type = {"type_approval_date": "2021-05-01", "registration_date": "2023-01-10"}
    assert rule.effective.in_force(old_type, dt.date(2023, 1, 10)) is Truth.FALSE
    assert rule.effective.in_force({**old_type, "registration_date": "2024-08-01"}, TODAY) is Truth.TRUE
    new_type = {"type_approval_date": "2022-09-01", "registration_date": "2023-01-10"}
    assert rule.effective.in_force(new_type, dt.date(2023, 1, 10)) is Truth.TRUE


# --- versions ---------------------------------------------------------------------------------------------


def test_versions_resolve_and_compare(library: PackLibrary) -> None:
    versions = library.versions("EU")
    assert versions[:4] == ("2025.1", "2026.1", "2026.2", "2026.3")
    adopted = [v for v in versions if library.get("EU", v).status in ("in_force", "adopted")]
    assert library.get("EU").version == adopted[-1]  # proposed versions are skipped by default
    assert library.get("EU", include_proposed=True).version == versions[-1]
    dd = diff_packs(library.get("EU", "2025.1"), library.get("EU", "2026.1"))
    assert dd.affected == {"EU-BATT-DUE-DILIGENCE"}
    rx = diff_packs(library.get("EU", "2026.1"), library.get("EU", "2026.2"))
    assert [c.id for c in rx.changed] == ["EU-GSR-R156"]
    assert "effective" in rx.changed[0].fields
    gb = diff_packs(library.get("CN", "2026.1"), library.get("CN", "2026.2"))
    assert gb.affected == {"CN-GB44495"}


def test_an_amendment_changes_the_assessment_result(library: PackLibrary) -> None:
    battery = {"product_type": "ev_traction_battery", "placing_on_market_date": "2026-03-01"}
    before = library.get("EU", "2025.1").get("EU-BATT-DUE-DILIGENCE")
    after = library.get("EU", "2026.1").get("EU-BATT-DUE-DILIGENCE")
    assert before.effective.in_force(battery, dt.date(2026, 3, 1)) is Truth.TRUE
    assert after.effective.in_force(battery, dt.date(2026, 3, 1)) is Truth.FALSE
    existing = {"product_type": "vehicle", "category": "M1", "registration_date": "2027-03-01"}
    gb_old = library.get("CN", "2026.1").get("CN-GB44495")
    gb_new = library.get("CN", "2026.2").get("CN-GB44495")
    on = dt.date(2027, 3, 1)
    assert gb_old.effective.in_force(existing, on) is Truth.TRUE
    assert gb_new.effective.in_force({**existing, "type_approval_date": "2024-01-01"}, on) is Truth.FALSE


# --- broken files are refused with file, line and reason --------------------------------------------------

VALID = """\
schema: roadpass.regulation-pack/1
market: XX
version: "2026.1"
title: Test market
status: in_force
as_of: 2026-01-01
requirements:
  - id: XX-ONE
    title: One requirement
    topic: cybersecurity
    citations:
      - instrument: Test Act
        provision: Art. 1
        url: https://example.org/act
    applies_to:
      all:
        - product_type == vehicle
        - model_year >= 2027
    effective:
      phases:
        - scope: all
          from: 2026-01-01
    evidence:
      - kind: test_report
        standards: [UN-R155]
    severity: major
    status: in_force
    confidence: high
"""


def write(tmp_path: Path, text: str, name: str = "xx/2026.1.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def refused(path: Path) -> PackError:
    with pytest.raises(PackError) as info:
        load_pack_file(path)
    assert info.value.file == path.as_posix()
    return info.value


def test_a_valid_file_loads(tmp_path: Path) -> None:
    pack = load_pack_file(write(tmp_path, VALID))
    assert [r.id for r in pack.requirements] == ["XX-ONE"]


@pytest.mark.parametrize(
    ("old", "new", "line", "reason"),
    [
        ("url: https://example.org/act", "url: http://example.org/act", 14, "does not match"),
        ('version: "2026.1"', "version: 2026.1", 3, "is not of type 'string'"),
        ("    severity: major\n", "", 8, "'severity' is a required property"),
        ("confidence: high", "confidence: low", 8, "'confidence_note' is a required property"),
        ("topic: cybersecurity", "topic: cyber", 10, "is not one of"),
        ("        - model_year >= 2027", "        - model_year >== 2027", 18, "XX-ONE"),
        ("        - model_year >= 2027", "        - model_year >= [2027]", 18, "single value"),
        ("  - id: XX-ONE", "  - id: YY-ONE", 8, "market prefix XX-"),
        ("    title: One requirement", "    title: One requirement\n    title: Twice", 10, "duplicate key"),
        ("      all:", "      all: [", 17, "expected the node content"),
    ],
)
def test_broken_pack_is_refused_with_line_and_reason(
    tmp_path: Path, old: str, new: str, line: int, reason: str
) -> None:
    assert old in VALID
    error = refused(write(tmp_path, VALID.replace(old, new, 1)))
    assert error.line == line, str(error)
    assert reason in str(error)
    assert f"{error.file}:{line}:" in str(error)


def test_unknown_standard_is_refused_at_library_level(tmp_path: Path) -> None:
    shutil.copytree(PACKS_DIR, tmp_path, dirs_exist_ok=True)
    path = write(tmp_path, VALID.replace("[UN-R155]", "[UN-R999]"))
    with pytest.raises(PackError) as info:
        load_library(tmp_path)
    assert info.value.file == path.as_posix()
    assert info.value.line == 25
    assert "unknown standard UN-R999" in str(info.value)


def test_delta_versions_withdraw_and_must_resolve(tmp_path: Path) -> None:
    shutil.copytree(PACKS_DIR, tmp_path, dirs_exist_ok=True)
    write(tmp_path, VALID)
    delta = """\
    schema: roadpass.regulation-pack/1
    market: XX
    version: "2026.2"
    supersedes: "2026.1"
    title: Test market, amended
    status: adopted
    as_of: 2026-06-01
    amendment:
      summary: Withdraws XX-ONE.
      citations:
        - {instrument: Amending Act, provision: Art. 2, url: "https://example.org/amend"}
    requirements: []
    withdraw: [XX-ONE]
    """
    write(tmp_path, delta, "xx/2026.2.yaml")
    lib = load_library(tmp_path)
    assert lib.get("XX").requirements == ()
    assert diff_packs(lib.get("XX", "2026.1"), lib.get("XX", "2026.2")).removed == ("XX-ONE",)
    write(tmp_path, delta.replace('supersedes: "2026.1"', 'supersedes: "2025.9"'), "xx/2026.2.yaml")
    with pytest.raises(PackError, match=r"no XX version 2025\.9"):
        load_library(tmp_path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    error = refused(write(tmp_path, VALID.replace("title: Test market", 'title: "unterminated')))
    assert error.line >= 4


def test_standards_catalogue_loads() -> None:
    catalogue = load_standards()
    assert "GB-44495-2024" in catalogue
    assert catalogue.get("UN-R155").paywalled is False
