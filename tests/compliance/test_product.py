"""Technical files and CycloneDX import: errors name the path; attributes are derived from BOMs and flows."""

from __future__ import annotations

import json

import pytest

from roadpass.compliance.demo import HERE
from roadpass.compliance.product import ProductError, derive_attributes, parse_technical_file, read_cyclonedx


def test_errors_name_the_json_path() -> None:
    with pytest.raises(ProductError) as info:
        parse_technical_file("key: x\nname: X\nproduct_type: vehicle\nmarkets:\n  - {market: eu, planned: soon}\n")
    paths = [p for p, _ in info.value.issues]
    assert "/markets/0/market" in paths and "/markets/0/planned" in paths


def test_cyclonedx_is_validated_against_its_schema() -> None:
    bad = json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                      "components": [{"type": "spaceship", "name": "x"}]}).encode()
    with pytest.raises(ProductError) as info:
        read_cyclonedx(bad)
    assert info.value.issues[0][0] == "/components/0/type"
    with pytest.raises(ProductError, match="specVersion"):
        read_cyclonedx(b'{"bomFormat": "CycloneDX", "specVersion": "9.9"}')


def test_demo_sbom_summary_and_derived_attributes() -> None:
    sbom = read_cyclonedx((HERE / "ccu-3.cdx.json").read_bytes())
    assert {c.name for c in sbom.hardware()} == {"M5 5G modem module", "Wi-Fi 6 / Bluetooth 5.3 combo module"}
    unit = parse_technical_file({
        "key": "u", "name": "U", "product_type": "cockpit_unit", "sbom": sbom.model_dump(),
        "markets": [{"market": "EU", "planned": "2026-01-01"}, {"market": "US", "planned": "2026-01-01"}],
        "data_flows": [{"data_category": "voice", "storage_region": "EU", "transfer_destinations": ["CN"]}],
    })
    attrs = derive_attributes(unit, "EU")
    assert attrs["vcs.software_nexus"] == ["CN", "DE"] and attrs["vcs.hardware_nexus"] == ["CN", "JP"]
    assert attrs["ads.software_nexus"] == [] and attrs["processes_personal_data"] is True
    assert attrs["data.exported_from"] == ["EU", "US"]
    assert attrs["placing_on_market_date"] == "2026-01-01"
