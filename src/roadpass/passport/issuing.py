"""Issuing passports from battery-model data and trace facts (pure: no storage, no HTTP).

Static attributes come from the battery model (long-list granularity "Battery model"): the model's section
payloads are shared by every battery of the model and stored once. Battery-level attributes come from the
trace record of the unit: its identifier (Art. 77(3)), its manufacturing date and place (Annex VI Part A
(3)-(4)), when it was put into service, and its condition at beginning of life, each dynamic value with
its ``lastUpdate`` (DIN DKE SPEC 99100 6.7). What a passport holds is the model's sections with the
battery's sections over them, property by property at the top level of each section.

Validation is the consortium schemas' (``roadpass.passport.schemas``) on every section of every passport:
a compiled validator of the same schemas and format rules accepts a valid payload in microseconds, and
whatever it refuses is reported by the reference validator with JSON path and reason (tests check that
the two agree). One thing is tolerated at issue, openly: the date of
putting into service (``$.puttingIntoService``, required by the v1.2 schema) is absent until the battery
has been put into service; ``completeness`` reports it as missing until then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson
import yaml

from roadpass.passport.domain import GPI, BatteryStatus
from roadpass.passport.jsondata import JsonObject
from roadpass.passport.schemas import (
    SECTION_NAMES,
    SchemaIssue,
    SectionName,
    _is_date_time,
    _is_uri,
    section_schema,
    validate_section,
)

__all__ = [
    "NOT_YET_KNOWN",
    "RULE_ISSUE",
    "BatteryModel",
    "UnitFacts",
    "battery_models",
    "beginning_of_life",
    "match_model",
    "merge_sections",
    "unit_sections",
    "validate_for_issue",
]

PD: SectionName = "PerformanceAndDurability"
MODELS_FILE = "battery_models.yaml"

#: What an issue (or an import, which issues or versions a passport) is done under.
RULE_ISSUE = "Reg. (EU) 2023/1542 Art. 77(1), (3); Annex XIII"

# Schema-required properties a battery may not have yet at issue, with why.
NOT_YET_KNOWN: Mapping[tuple[SectionName, str], str] = {
    (GPI, "$.puttingIntoService"): "the battery has not been put into service yet (Annex VI Part A (4))",
}


@dataclass(frozen=True, slots=True)
class BatteryModel:
    """A battery model: what every battery of it shares, and which trace units are batteries of it."""

    key: str
    name: str
    category: str
    gtin: str
    nominal_energy_kwh: float
    mass_kg: float
    materials_kg: Mapping[str, float]
    sections: Mapping[SectionName, JsonObject]
    manufacturer: JsonObject
    operator: JsonObject
    manufacturing_place: JsonObject
    warranty_period: str


@cache
def battery_models() -> tuple[BatteryModel, ...]:
    """The demo battery models (``roadpass/passport/demo/battery_models.yaml``), read on first use."""
    text = resources.files("roadpass.passport.demo").joinpath(MODELS_FILE).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    out: list[BatteryModel] = []
    for i, entry in enumerate(data["models"]):
        sections = entry["sections"]
        unknown = set(sections) - set(SECTION_NAMES)
        if unknown:
            raise ValueError(f"{MODELS_FILE}: models[{i}].sections: unknown sections {sorted(unknown)}")
        out.append(
            BatteryModel(
                key=str(entry["key"]),
                name=str(entry["name"]),
                category=str(entry["category"]),
                gtin=str(entry["match"]["gtin"]),
                nominal_energy_kwh=float(entry["match"]["nominal_energy_kwh"]),
                mass_kg=float(entry["mass_kg"]),
                materials_kg={str(k): float(v) for k, v in entry["materials_kg"].items()},
                sections=_plain(sections),
                manufacturer=_plain(data["manufacturer"]),
                operator=_plain(data["operator"]),
                manufacturing_place=_plain(data["manufacturing_place"]),
                warranty_period=str(data["warranty_period"]),
            )
        )
    return tuple(out)


def _plain(value: Any) -> Any:
    """YAML anchors share objects between models; give each model its own plain JSON copy."""
    parsed: Any = orjson.loads(orjson.dumps(value))
    return parsed


def match_model(
    models: tuple[BatteryModel, ...], gtin: str | None, nominal_energy_kwh: float | None
) -> BatteryModel | None:
    """The model whose GTIN and nominal energy the unit has (energy within 0.05 kWh)."""
    for model in models:
        close = nominal_energy_kwh is not None and abs(model.nominal_energy_kwh - nominal_energy_kwh) < 0.05
        if model.gtin == gtin and close:
            return model
    return None


@dataclass(frozen=True, slots=True)
class UnitFacts:
    """What the trace record says about one battery unit."""

    unit_id: int | None
    battery_id: str  # the unit's canonical identifier (GS1 Digital Link URI)
    manufactured_at: str  # RFC 3339 with offset: the commissioning event's eventTime
    put_into_service_at: str | None = None  # the sale of the vehicle it was first fitted to, if any


def beginning_of_life(model: BatteryModel, at: str) -> JsonObject:
    """The battery's condition at beginning of life, every dynamic value stamped ``at`` (DIN DKE SPEC
    99100 6.7: SOCE 100 %, no fade, no cycles, no negative events)."""
    props = model.sections.get(PD, {}).get("batteryTechicalProperties", {})
    props = props if isinstance(props, dict) else {}
    energy = props.get("ratedEnergy", model.nominal_energy_kwh)
    capacity = props.get("ratedCapacity", 0.0)
    power = props.get("originalPowerCapability") or [{"atSoC": 80, "powerCapabilityAt": 0}]
    first_power = power[0] if isinstance(power, list) and isinstance(power[0], dict) else {}
    return {
        "energyThroughput": 0.0,
        "capacityThroughput": {"capacityThroughputValue": 0.0, "lastUpdate": at},
        "numberOfFullCycles": {"numberOfFullCyclesValue": 0.0, "lastUpdate": at},
        "stateOfCertifiedEnergy": {"stateOfCertifiedEnergyValue": 100.0, "lastUpdate": at},
        "capacityFade": {"capacityFadeValue": 0.0, "lastUpdate": at},
        "remainingEnergy": {"remainingEnergyalue": energy, "lastUpdate": at},  # upstream's spelling
        "remainingCapacity": {"remainingCapacityValue": capacity, "lastUpdate": at},
        "negativeEvents": [],
        "temperatureInformation": {
            "timeExtremeHighTemp": 0.0, "timeExtremeLowTemp": 0.0, "timeExtremeHighTempCharging": 0.0,
            "timeExtremeLowTempCharging": 0.0, "lastUpdate": at,
        },
        "remainingPowerCapability": [
            {
                "remainingPowerCapabilityValue": {
                    "atSoC": first_power.get("atSoC", 80), "powerCapabilityAt": first_power.get("powerCapabilityAt", 0),
                    "rPCLastUpdated": at,
                },
                "lastUpdate": at,
            }
        ],
        "powerFade": 0.0,
        "roundTripEfficiencyFade": 0.0,
        "evolutionOfSelfDischarge": {"evolutionOfSelfDischargeEntityValue": 0.0},
        "currentSelfDischargingRate": {
            "currentSelfDischargingRateEntity": props.get("initialSelfDischarge", 0.0), "lastUpdate": at,
        },
        "internalResistanceIncrease": [
            {"internalResistanceIncreaseValue": 0.0, "batteryComponent": "pack", "lastUpdate": at}
        ],
        "roundTripEfficiencyat50PerCentCycleLife": props.get("roundtripEfficiency", 0.0),
        "remainingRoundTripEnergyEfficiency": {
            "remainingRoundTripEnergyEfficiencyValue": props.get("roundtripEfficiency", 0.0), "lastUpdate": at,
        },
        "stateOfCharge": {"stateOfChargeValue": 30.0, "lastUpdate": at},  # shipped at 30 % SoC (UN 38.3 practice)
    }


def unit_sections(model: BatteryModel, facts: UnitFacts, passport_id: str) -> dict[SectionName, JsonObject]:
    """The battery-level sections of a new passport: identity and dates, condition at beginning of life."""
    gpi: JsonObject = {
        "batteryPassportIdentifier": passport_id,
        "productIdentifier": facts.battery_id,  # Art. 77(3): the battery's unique identifier
        "batteryCategory": model.category,
        "batteryStatus": BatteryStatus.ORIGINAL.value,
        "batteryMass": model.mass_kg,
        "manufacturerInformation": model.manufacturer,
        "operatorInformation": model.operator,
        "manufacturingPlace": model.manufacturing_place,
        "manufacturingDate": facts.manufactured_at,
        "warrentyPeriod": model.warranty_period,
    }
    if facts.put_into_service_at is not None:
        gpi["puttingIntoService"] = facts.put_into_service_at
    return {GPI: gpi, PD: {"batteryCondition": beginning_of_life(model, facts.manufactured_at)}}


def merge_sections(
    model_sections: Mapping[str, Any], unit: Mapping[str, Any]
) -> dict[SectionName, JsonObject]:
    """The model's sections with the battery's over them (top-level properties of each section)."""
    out: dict[SectionName, JsonObject] = {}
    for name in SECTION_NAMES:
        base, over = model_sections.get(name), unit.get(name)
        if base is None and over is None:
            continue
        out[name] = {**(base or {}), **(over or {})}
    return out


@cache
def _fast_validator(name: SectionName) -> Any:
    """A compiled validator of the same schema, with the same format rules; the not-yet-known properties
    are dropped from the top-level ``required`` (the tolerance :func:`validate_for_issue` applies)."""
    schema = orjson.loads(orjson.dumps(section_schema(name)))
    tolerated = {path[2:] for (section, path) in NOT_YET_KNOWN if section == name and path.count(".") == 1}
    if isinstance(schema.get("required"), list):
        schema["required"] = [p for p in schema["required"] if p not in tolerated]
    return jsonschema_rs.Draft4Validator(
        schema, validate_formats=True, formats={"date-time": _is_date_time, "uri": _is_uri}
    )


def validate_for_issue(sections: Mapping[SectionName, JsonObject]) -> list[SchemaIssue]:
    """Schema issues of a passport about to be issued (empty when it may be issued).

    A compiled validator (jsonschema-rs, the same schema and format rules) answers the common case, a
    valid payload, in microseconds; any payload it finds invalid goes to the reference validator
    (``validate_section``), which names each JSON path and reason. A missing property listed in
    :data:`NOT_YET_KNOWN` is not an issue.
    """
    issues: list[SchemaIssue] = []
    for name in SECTION_NAMES:
        if name not in sections or _fast_validator(name).is_valid(sections[name]):
            continue
        issues.extend(
            i for i in validate_section(name, sections[name])
            if not (i.keyword == "required" and (name, i.path) in NOT_YET_KNOWN)
        )
    return issues
