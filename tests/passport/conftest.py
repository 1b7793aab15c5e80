"""Fixtures: the consortium's sample payloads read in place, and a passport built from them."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from roadpass.bootstrap import Roadpass
from roadpass.conformance import conformance_path
from roadpass.passport.domain import BatteryPassport
from roadpass.passport.jsondata import JsonObject, load_json_file
from roadpass.passport.schemas import SECTION_NAMES, SectionName
from roadpass.passport.service import PassportService
from roadpass.store.passports import DataVersionProbe, SqlPassportRecords
from roadpass.store.uow import StoreTransactions

# Upstream ships no Circularity sample; this one is built for the tests from the schema's shape.
CIRCULARITY: JsonObject = {
    "dismantlingAndRemovalInformation": [
        {
            "documentType": "DismantlingManual",
            "mimeType": "application/pdf",
            "documentURL": "https://example.com/dismantling.pdf",
        }
    ],
    "sparePartSources": [
        {
            "nameOfSupplier": "Spare Parts GmbH",
            "addressOfSupplier": {
                "addressCountry": "Germany",
                "postalCode": "10719",
                "streetAddress": "Hindenburgstr. 10",
            },
            "emailAddressOfSupplier": "parts@example.com",
            "supplierWebAddress": "https://example.com/parts",
            "components": [{"partName": "Module", "partNumber": "M-100"}],
        }
    ],
    "recycledContent": [
        {"recycledMaterial": material, "preConsumerShare": 1.5, "postConsumerShare": 4}
        for material in ("Nickel", "Cobalt", "Lithium", "Lead")
    ],
    "safetyMeasures": {"safetyInstructions": "https://example.com/safety.pdf", "extinguishingAgent": ["D"]},
    "endOfLifeInformation": {
        "wastePrevention": "https://example.com/waste-prevention",
        "separateCollection": "https://example.com/separate-collection",
        "informationOnCollection": "https://example.com/collection",
    },
    "renewableContent": 12.5,
}


def _sample(name: SectionName) -> JsonObject:
    """A sample payload parsed (Circularity: the test-made one)."""
    if name == "Circularity":
        return copy.deepcopy(CIRCULARITY)
    payload = load_json_file(conformance_path("batterypass", f"{name}-payload.json"))
    assert isinstance(payload, dict)
    return payload


def _trimmed_sections() -> dict[SectionName, JsonObject]:
    """All seven sections, the MaterialComposition CAS number trimmed as import would."""
    sections = {name: _sample(name) for name in SECTION_NAMES}
    material = sections["MaterialComposition"]["batteryMaterials"]
    assert isinstance(material, list)
    assert isinstance(material[0], dict)
    material[0]["batteryMaterialIdentifier"] = "7439-93-2"
    return sections


@pytest.fixture
def sample() -> Callable[[SectionName], JsonObject]:
    """A fresh copy of a section's sample payload (upstream's, or the made Circularity one)."""
    return _sample


@pytest.fixture
def sample_bytes() -> Callable[[SectionName], bytes]:
    """The bytes of an upstream sample payload file, as published."""
    return lambda name: conformance_path("batterypass", f"{name}-payload.json").read_bytes()


@pytest.fixture
def sections() -> dict[SectionName, JsonObject]:
    """Seven valid section payloads (six upstream samples, one made here)."""
    return _trimmed_sections()


@pytest.fixture
def passport(sections: dict[SectionName, JsonObject]) -> BatteryPassport:
    """A passport built from the samples (an LMT battery, status Original)."""
    return BatteryPassport.from_sections(sections)


@pytest.fixture
def make_passport() -> Callable[..., BatteryPassport]:
    """Build a passport from the samples with GeneralProductInformation fields replaced."""

    def make(**gpi: object) -> BatteryPassport:
        sections = _trimmed_sections()
        sections["GeneralProductInformation"] = {**sections["GeneralProductInformation"], **gpi}
        return BatteryPassport.from_sections(sections)

    return make


@pytest.fixture
def new_passport_service() -> Callable[[Roadpass], PassportService]:
    """A second passport service on an application's database, wired as bootstrap wires it, with caches of
    its own (another server process, in effect)."""
    return lambda app: PassportService(
        StoreTransactions(app.uow, SqlPassportRecords), app.trace, changes=DataVersionProbe(app.engine),
        resolver=app.settings.resolver_root,
    )
