"""Which vehicles the simulation drives: the demo fleet as the trace record knows it.

A simulated vehicle is a vehicle whose traction pack has a battery passport (so its health has somewhere to
go), with a telematics unit fitted (the unit that reports and holds the broker account: a unit whose key
starts with one of ``unit_prefixes``, the TCU's GS1 Digital Link prefix) since before the simulation
starts. Its market gives its climate, the passport its pack's declared figures and its age (putting into
service). One cell lot is the bad one: every simulated pack with a module made from it fades faster, so a
recall by that lot (a where-used query) finds exactly those packs. A few units misbehave (every
``misbehave_every``-th vehicle, in turn bad values, wrong topic, replay) and every ``careless_every``-th
driver runs the pack nearly empty now and then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from roadpass.telematics.health_ports import P, PassportWriter
from roadpass.telematics.health_rules import PD, ratings_from
from roadpass.telematics.simulation import Misbehaviour, PackSpec, VehicleSpec
from roadpass.trace.genealogy import AsBuiltNode, LinkKind
from roadpass.trace.service import TraceService, UnitNotFound
from roadpass.trace.timeutil import parse_time

__all__ = ["SimulatedFleet", "simulated_fleet"]

_DAY_US: Final = 86_400_000_000
_MISBEHAVIOURS: Final = (Misbehaviour.BAD_VALUES, Misbehaviour.WRONG_TOPIC, Misbehaviour.REPLAY)


@dataclass(frozen=True, slots=True)
class SimulatedFleet:
    """The vehicles to simulate and the cell lot chosen as the bad one (``None`` if none was found)."""

    vehicles: tuple[VehicleSpec, ...]
    bad_lot: str | None


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _lots(tree: AsBuiltNode) -> set[str]:
    """The lots the pack's modules were made from (as-built ``made from`` links)."""
    found = set()
    for node in tree.children:
        found |= {c.key for c in node.children if c.kind is LinkKind.MADE_FROM}
    return found


def _pack(
    passports: PassportWriter[P], passport_id: str, pack_key: str, start_us: int
) -> tuple[PackSpec, float, float | None] | None:
    passport = passports.get(passport_id)
    section = passport.value_at(PD, "$") or {}
    ratings = ratings_from(section)
    tech = section.get("batteryTechicalProperties") or {}
    if ratings is None or ratings.minimum_voltage_v is None or ratings.maximum_voltage_v is None:
        return None
    nominal = _number(tech.get("nominalVoltage"), (ratings.minimum_voltage_v + ratings.maximum_voltage_v) / 2)
    since = passport.value_at("GeneralProductInformation", "$.puttingIntoService")
    age = max(0.0, (start_us - parse_time(since, "puttingIntoService")) / _DAY_US) if isinstance(since, str) else 0.0
    spec = PackSpec(pack_key, ratings.rated_capacity_ah, nominal, ratings.minimum_voltage_v, ratings.maximum_voltage_v)
    return spec, age, _reported_fade(passport.value_at(PD, "$.batteryCondition.stateOfCertifiedEnergy"), since)


def _reported_fade(entry: object, in_service: object) -> float | None:
    """The fade the passport's last state of health says, if it was measured in service (a value written at
    issue is the beginning of life, not the pack's state now): the simulated life goes on from there."""
    if not isinstance(entry, dict) or not isinstance(in_service, str):
        return None
    value, stamp = entry.get("stateOfCertifiedEnergyValue"), entry.get("lastUpdate")
    if not isinstance(value, int | float) or not 0 < value <= 100 or not isinstance(stamp, str):
        return None
    return 1.0 - value / 100.0 if parse_time(stamp) > parse_time(in_service) else None


def _unit(trace: TraceService, vin: str, pack_key: str, unit_prefixes: Sequence[str], at_us: int) -> str | None:
    """The vehicle's telematics unit fitted at ``at_us``, if the pack was fitted then too."""
    tree = trace.as_built(vin, at_us)
    keys = [c.key for c in tree.children]
    if pack_key not in keys:
        return None
    return next((k for k in keys if k.startswith(tuple(unit_prefixes))), None)


def simulated_fleet(
    passports: PassportWriter[P], trace: TraceService, *, vehicles: int, unit_prefixes: Sequence[str],
    start_us: int, misbehave_every: int = 3, careless_every: int = 3,
) -> SimulatedFleet:
    """Up to ``vehicles`` vehicles of the trace record to simulate from ``start_us`` (see module docstring)."""
    chosen: list[tuple[str, str, str | None, tuple[PackSpec, float, float | None], set[str]]] = []
    offset = 0
    while len(chosen) < vehicles:
        rows = passports.list_passports(limit=200, offset=offset)
        for row in rows:
            if len(chosen) >= vehicles:
                break
            pack_key, passport_id = str(row.get("batteryId") or ""), str(row.get("passportId") or "")
            if not pack_key or row.get("ceasedAt"):
                continue
            try:
                hits = [h for h in trace.where_used(pack_key)[1] if h.vin and h.current]
                if not hits:
                    continue
                unit = _unit(trace, hits[0].vin or "", pack_key, unit_prefixes, start_us)
                pack = _pack(passports, passport_id, pack_key, start_us) if unit else None
                lots = _lots(trace.as_built(pack_key)) if pack else set()
            except UnitNotFound:
                continue
            if unit and pack:
                chosen.append((hits[0].vin or "", unit, hits[0].market, pack, lots))
        if len(rows) < 200:
            break
        offset += 200
    # the bad lot: one of the second simulated pack's lots (deterministic for a given trace record)
    bad_lot = min(chosen[1][4]) if len(chosen) > 1 and chosen[1][4] else None
    def odd(i: int) -> Misbehaviour | None:
        return _MISBEHAVIOURS[(i // misbehave_every) % 3] if i % misbehave_every == misbehave_every - 1 else None

    specs = tuple(
        VehicleSpec(vin, unit, market, pack, age_days=age, bad_cell_lot=bad_lot is not None and bad_lot in lots,
                    misbehaviour=odd(i), careless=i % careless_every == careless_every - 1, initial_fade=fade)
        for i, (vin, unit, market, (pack, age, fade), lots) in enumerate(chosen)
    )
    return SimulatedFleet(specs, bad_lot)
