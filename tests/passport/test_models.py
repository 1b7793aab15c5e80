"""Generated models: current with the schemas, and exact round trip of every payload."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import re
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import ModuleType

import pytest
from pydantic import ValidationError

from roadpass.conformance import conformance_path
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.models import SECTION_MODELS
from roadpass.passport.models.general_product_information import GeneralProductInformation
from roadpass.passport.models.performance_and_durability import PerformanceAndDurability
from roadpass.passport.schemas import SECTION_NAMES, SectionName

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "src" / "roadpass" / "passport" / "models"
Sample = Callable[[SectionName], JsonObject]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "generate_passport_models", ROOT / "scripts" / "generate_passport_models.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_passport_models", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SECTION_NAMES)
def test_generated_model_records_the_schema_it_came_from(name: SectionName) -> None:
    """Runs without the generator: a changed schema file makes the recorded hash stale."""
    module = _script().module_name(name)
    text = (MODELS / f"{module}.py").read_text(encoding="utf-8")
    recorded = re.search(r"^# schema-sha256: ([0-9a-f]{64})$", text, re.M)
    assert recorded is not None
    actual = hashlib.sha256(conformance_path("batterypass", f"{name}-schema.json").read_bytes()).hexdigest()
    assert recorded.group(1) == actual, (
        f"models/{module}.py is stale: run scripts/generate_passport_models.py"
    )


@pytest.mark.slow
def test_generated_models_are_current() -> None:
    """Regenerates and compares, with the generator version the files were made with."""
    text = (MODELS / "labeling.py").read_text(encoding="utf-8")
    made_with = re.search(r"^# generator: datamodel-code-generator (\S+)$", text, re.M)
    assert made_with is not None
    try:
        installed = version("datamodel-code-generator")
    except PackageNotFoundError:
        pytest.skip("datamodel-code-generator is not installed (dev-time tool)")
    if installed != made_with.group(1):
        pytest.skip(f"generator {installed} installed, models made with {made_with.group(1)}")
    for name, code in _script().render_all().items():
        assert (MODELS / name).read_text(encoding="utf-8") == code, f"models/{name} is not current"


@pytest.mark.parametrize("name", SECTION_NAMES)
def test_models_round_trip_payloads_exactly(name: SectionName, sample: Sample) -> None:
    payload = sample(name)
    if name == "MaterialComposition":
        payload["batteryMaterials"][0]["batteryMaterialIdentifier"] = "7439-93-2"  # type: ignore[index]
    payload["vendorExtension"] = {"kept": [1, 2.5, "x"]}
    model = SECTION_MODELS[name].model_validate(copy.deepcopy(payload))
    assert model.to_payload() == payload


def test_upstream_spelling_is_the_alias_and_python_names_are_snake_case(sample: Sample) -> None:
    gpi = GeneralProductInformation.model_validate(sample("GeneralProductInformation"))
    assert gpi.warrenty_period == "--06"
    assert gpi.manufacturer_information.postal_address.address_country == "Germany"
    assert "warrentyPeriod" in gpi.to_payload()


def test_numbers_keep_their_kind_and_size(sample: Sample) -> None:
    payload = sample("PerformanceAndDurability")
    model = PerformanceAndDurability.model_validate(payload)
    cycles = model.battery_techical_properties.expected_number_of_cycles
    assert cycles == -4979411194606956234
    assert isinstance(cycles, int)
    full = model.battery_condition.number_of_full_cycles.number_of_full_cycles_value
    assert isinstance(full, int)
    assert full == payload["batteryCondition"]["numberOfFullCycles"]["numberOfFullCyclesValue"]  # type: ignore[index]
    assert isinstance(model.battery_techical_properties.rated_capacity, float)


def test_models_refuse_what_the_schema_refuses(sample: Sample) -> None:
    with pytest.raises(ValidationError, match="batteryMaterialIdentifier"):
        SECTION_MODELS["MaterialComposition"].model_validate(sample("MaterialComposition"))
    payload = sample("GeneralProductInformation")
    payload["batteryMass"] = True
    with pytest.raises(ValidationError, match="batteryMass"):
        GeneralProductInformation.model_validate(payload)
