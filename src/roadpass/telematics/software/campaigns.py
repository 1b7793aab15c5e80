"""Campaign rules: which vehicles a campaign applies to, and how a report moves a vehicle's state.

The one rule that matters most (the Uptane lesson, and UN R156 para. 2.4: execution is installing *and
activating*): a vehicle is ``installed`` only when its own inventory shows the campaign's target version on the
campaign's ECU (and the target RXSWINs, when the campaign names them). A status message that says
``success`` or ``installed`` is kept with its report and moves nothing; ``downloaded``, ``failed`` and
``rolled_back`` claims move the state as ``claims`` in r156.yaml says, never onto ``installed``. A vehicle that
reported the target version and later reports another is ``rolled_back``, whatever it says.

Everything here is pure: the service reads the facts, calls these functions and writes what they return.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from roadpass.telematics.software.model import Campaign, SoftwareReport, State, VehicleType
from roadpass.telematics.software.r156 import r156

__all__ = [
    "CampaignRejected",
    "Transition",
    "applies",
    "like_pattern",
    "next_state",
    "parse_campaign",
    "parse_vehicle_type",
    "target_installed",
    "unconfirmed_claim",
]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VIN_PATTERN = re.compile(r"^[A-HJ-NPR-Z0-9?*]{1,17}$")


class CampaignRejected(ValueError):
    """A campaign or vehicle type that cannot be created: every problem as (JSON path, reason)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {reason}" for path, reason in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Transition:
    """A state change a report (or a campaign's creation) causes, and why (rule and facts)."""

    state: State
    reason: str


def _str(raw: Mapping[str, Any], name: str, problems: list[tuple[str, str]], pattern: re.Pattern[str] | None = None,
         *, required: bool = True) -> str | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        problems.append((f"/{name}", "required: a non-empty string of at most 200 characters"))
        return None
    if pattern is not None and not pattern.match(value):
        problems.append((f"/{name}", f"{value!r} does not match {pattern.pattern}"))
        return None
    return value.strip()


def _strings(raw: Mapping[str, Any], name: str, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    value = raw.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append((f"/{name}", "must be a list of non-empty strings"))
        return ()
    return tuple(dict.fromkeys(v.strip() for v in value))


def _object(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise CampaignRejected([("", "must be a JSON object")])
    return body


def parse_vehicle_type(body: Any) -> VehicleType:
    """A vehicle type from ``{"key", "name", "variants": {code: VIN pattern}, "product_key"?}``."""
    raw = _object(body)
    problems = [(f"/{k}", "unknown field") for k in sorted(set(raw) - {"key", "name", "variants", "product_key"})]
    key = _str(raw, "key", problems, _KEY)
    name = _str(raw, "name", problems)
    product_key = _str(raw, "product_key", problems, _KEY, required=False)
    variants = raw.get("variants")
    if not isinstance(variants, Mapping) or not variants:
        problems.append(("/variants", "required: an object of variant code -> VIN pattern"))
        variants = {}
    for code, pattern in variants.items():
        if not _KEY.match(str(code)):
            problems.append((f"/variants/{code}", f"variant code does not match {_KEY.pattern}"))
        if not isinstance(pattern, str) or not _VIN_PATTERN.match(pattern.upper()):
            problems.append((f"/variants/{code}", "a VIN pattern: VIN characters (ISO 3779, no I, O, Q), ? and *"))
    if problems or key is None or name is None:
        raise CampaignRejected(problems)
    return VehicleType(key, name, {str(c): str(p).upper() for c, p in variants.items()}, product_key)


def parse_campaign(body: Any, vehicle_types: Mapping[str, VehicleType]) -> Campaign:
    """A campaign from its JSON body, checked against the known vehicle types."""
    raw = _object(body)
    allowed = {"key", "name", "vehicle_type", "variants", "part_number", "from_versions", "target_version",
               "target_rxswin"}
    problems = [(f"/{k}", "unknown field") for k in sorted(set(raw) - allowed)]
    key = _str(raw, "key", problems, _KEY)
    name = _str(raw, "name", problems)
    type_key = _str(raw, "vehicle_type", problems)
    part = _str(raw, "part_number", problems)
    target = _str(raw, "target_version", problems)
    variants = _strings(raw, "variants", problems)
    from_versions = _strings(raw, "from_versions", problems)
    target_rxswin = _strings(raw, "target_rxswin", problems)
    vtype = vehicle_types.get(type_key or "")
    if type_key is not None and vtype is None:
        problems.append(("/vehicle_type", f"no vehicle type {type_key!r} is registered"))
    if vtype is not None:
        problems.extend((f"/variants/{i}", f"{code!r} is not a variant of {vtype.key}")
                        for i, code in enumerate(variants) if code not in vtype.variants)
    if target is not None and target in from_versions:
        problems.append(("/from_versions", "contains the target version itself"))
    if problems or None in (key, name, type_key, part, target):
        raise CampaignRejected(problems)
    return Campaign(str(key), str(name), str(type_key), str(part), str(target), variants, from_versions,
                    target_rxswin)


def like_pattern(vin_pattern: str) -> str:
    """A VIN pattern as an SQL ``LIKE`` pattern (VIN characters never include ``%`` or ``_``)."""
    return vin_pattern.replace("*", "%").replace("?", "_")


def target_installed(campaign: Campaign, report: SoftwareReport) -> bool:
    """Whether the vehicle's own inventory shows the campaign's target (version, and RXSWINs if named)."""
    if report.version_of(campaign.part_number) != campaign.target_version:
        return False
    return set(campaign.target_rxswin) <= set(report.rxswin)


def applies(campaign: Campaign, vtype: VehicleType, vin: str, report: SoftwareReport) -> str | None:
    """Why the campaign applies to the vehicle, given its latest inventory; None when it does not."""
    variant = vtype.variant_of(vin)
    if vtype.key != campaign.vehicle_type or variant is None:
        return None
    if campaign.variants and variant not in campaign.variants:
        return None
    installed = report.version_of(campaign.part_number)
    if installed is None or installed == campaign.target_version:
        return None
    if campaign.from_versions and installed not in campaign.from_versions:
        return None
    return f"{vtype.key} variant {variant}, {campaign.part_number} runs {installed}"


def _claim_transition(campaign: Campaign, current: State, report: SoftwareReport) -> Transition | None:
    claim = report.claim
    if claim is None or claim.campaign != campaign.key:
        return None
    installed = report.version_of(campaign.part_number) or "nothing"
    said = f"the vehicle says {claim.status!r}" + (f" ({claim.detail})" if claim.detail else "")
    target = r156().claims.get(claim.status)
    if target is None or target == current or target == "installed":
        return None
    if current == "installed":  # an installation shown by the inventory is undone only by the inventory
        return None
    return Transition(cast(State, target), f"{said}; {campaign.part_number} reports {installed}")


def next_state(campaign: Campaign, current: State | None, report: SoftwareReport) -> Transition | None:
    """The state a vehicle in ``campaign`` moves to on ``report`` (its newest), or None when it stays."""
    if current is None:
        return None
    rule = r156().cite("execution")
    installed = report.version_of(campaign.part_number)
    if target_installed(campaign, report):
        if current == "installed":
            return None
        return Transition("installed", f"{rule}: the vehicle reports {campaign.part_number} {installed}")
    if current == "installed" and installed is not None:
        return Transition("rolled_back", f"the vehicle reported {campaign.target_version}, now reports {installed}")
    return _claim_transition(campaign, current, report)


def unconfirmed_claim(campaign: Campaign, report: SoftwareReport) -> str | None:
    """A note when the vehicle claims an installation its inventory does not show (kept with the report)."""
    claim = report.claim
    if claim is None or claim.campaign != campaign.key or r156().claims.get(claim.status, "x") is not None:
        return None
    if target_installed(campaign, report):
        return None
    installed = report.version_of(campaign.part_number) or "nothing"
    return (f"claims {claim.status!r} for {campaign.key} but {campaign.part_number} reports {installed}, "
            f"not {campaign.target_version}: not counted as installed")
