"""The US connected-vehicle check (15 CFR 791 subpart D) on SBOM/HBOM and supplier countries."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from conftest import TODAY, car, make_evidence
from roadpass.compliance.assess import Assessor
from roadpass.compliance.connected_vehicle import check_connected_vehicle
from roadpass.compliance.packs_loader import PackLibrary
from roadpass.compliance.product import read_cyclonedx


def _sbom(*components: dict[str, Any]) -> bytes:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                       "components": list(components)}).encode()


TELEMATICS_CN = {"type": "application", "bom-ref": "tbox", "name": "tbox-agent", "version": "4.2",
                 "supplier": {"name": "Shanghai Linkstar", "address": {"country": "CN"}},
                 "properties": [{"name": "roadpass:role", "value": "vcs"}]}
MODEM_CN = {"type": "device", "bom-ref": "modem", "name": "5G modem", "supplier": {"name": "Modemtech",
            "address": {"country": "CN"}}, "properties": [{"name": "roadpass:role", "value": "vcs"}]}
NAV_JP = {"type": "application", "bom-ref": "nav", "name": "nav", "supplier": {"name": "Kansai",
          "address": {"country": "JP"}}}


def _connected_car(model_year: int, *components: dict[str, Any]) -> Any:
    return car(attributes={"powertrain": "BEV", "connectivity": True, "model_year": model_year,
                           "processes_personal_data": False},
               sbom=read_cyclonedx(_sbom(*components)).model_dump())


def test_my2027_car_with_china_origin_telematics_software_is_flagged_for_the_us(
    library: PackLibrary, assessor: Assessor
) -> None:
    vehicle = _connected_car(2027, TELEMATICS_CN, NAV_JP)
    result = assessor.assess(vehicle, "US", on=TODAY, evidence=[]).result("US-CV-791.303")
    assert result.status == "gap" and result.prohibited
    assert "vcs.software_nexus" in result.reason and "tbox-agent 4.2 (Shanghai Linkstar)" in result.reason
    finding = check_connected_vehicle(vehicle, library.get("US"), on=TODAY)
    assert finding.prohibited and finding.software_covered == "true"
    [item] = finding.flagged
    assert (item.name, item.kind, item.countries, item.requirement_id, item.covered) == (
        "tbox-agent", "software", ("CN",), "US-CV-791.303", True)
    statement = next(d for d in finding.declaration if "791.303" in d.item)
    assert statement.status == "blocked" and "tbox-agent from Shanghai Linkstar (CN)" in statement.detail


def test_model_year_2026_is_exempt(library: PackLibrary, assessor: Assessor) -> None:
    vehicle = _connected_car(2026, TELEMATICS_CN)
    assert assessor.assess(vehicle, "US", on=TODAY, evidence=[]).result("US-CV-791.303").status == "not_applicable"
    finding = check_connected_vehicle(vehicle, library.get("US"), on=TODAY)
    assert not finding.prohibited and finding.software_covered == "false"
    assert finding.flagged[0].covered is False and "later model years" in finding.summary


def test_vcs_hardware_rule_starts_with_model_year_2030(library: PackLibrary) -> None:
    my27 = check_connected_vehicle(_connected_car(2027, MODEM_CN), library.get("US"), on=TODAY)
    my30 = check_connected_vehicle(_connected_car(2030, MODEM_CN), library.get("US"), on=dt.date(2029, 6, 1))
    assert [i.requirement_id for i in my27.flagged] == ["US-CV-791.302"] and not my27.flagged[0].covered
    assert my30.flagged[0].covered and my30.hardware_covered == "true"


def test_russian_nexus_through_a_controlling_supplier(library: PackLibrary, assessor: Assessor) -> None:
    vehicle = car(attributes={"powertrain": "BEV", "connectivity": True, "model_year": 2028},
                  suppliers=[{"key": "maker", "name": "Maker AG", "country": "DE", "role": "manufacturer"},
                             {"key": "sw", "name": "Soft Ltd", "country": "CY", "controlled_by": ["RU"]}],
                  components=[{"ref": "TBOX-SW", "name": "telematics stack", "kind": "software", "roles": ["vcs"],
                               "supplier": "sw"}])
    result = assessor.assess(vehicle, "US", on=TODAY, evidence=[]).result("US-CV-791.303")
    assert result.prohibited and "telematics stack (Soft Ltd)" in result.reason


def test_clean_car_declaration_of_conformity_lists_what_is_there(library: PackLibrary, assessor: Assessor) -> None:
    vehicle = _connected_car(2027, NAV_JP)
    doc = make_evidence("DOC", "declaration", standards=["US-15CFR791-DOC"], issuer_role="self",
                        issued_on="2026-10-01")
    finding = check_connected_vehicle(vehicle, library.get("US"), on=TODAY, evidence=[doc])
    assert not finding.prohibited and "no China or Russia nexus found" in finding.summary
    statuses = {d.item.split(" (")[0]: d.status for d in finding.declaration}
    assert statuses["Declaration of Conformity to BIS"] == "present"
    assert statuses["SBOM of VCS and ADS software"] == "present"
    a = assessor.assess(vehicle, "US", on=TODAY, evidence=[doc])
    assert a.result("US-CV-791.303").status == "met"
    assert a.result("US-CV-791.305").status == "gap"  # no HBOM: the car lists no VCS hardware
