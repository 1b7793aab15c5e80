"""The demo fleet generator: GS1 schema validity, fleet realism, causal order, determinism, ground truth."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
import sys
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pycountry
import pytest
from vininfo import Vin

from roadpass.demo.fleet import (
    EPCIS_CONTEXT,
    RP_NAMESPACE,
    FleetSpec,
    FleetTruth,
    fleet_ground_truth,
    fleet_locations,
    fleet_master_data,
    fleet_parties,
    generate_fleet,
)
from roadpass.demo.fleet_model import ROLES, model_year_code, vin_check_digit
from roadpass.demo.fleet_plan import Planner
from roadpass.trace.identifiers import canonical_id

SMALL = FleetSpec(vehicles=200, events_per_document=250)
MEDIUM = FleetSpec(vehicles=1500, seed=11)
_MDA = "urn:epcglobal:cbv:mda#"
_SGTIN = re.compile(r"urn:epc:id:sgtin:(\d{6,12})\.(\d{1,7})\.\d+")
_SGLN = re.compile(r"urn:epc:id:sgln:(\d{6,12})\.(\d{0,6})\.\w+")


def _events(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for d in docs for e in d["epcisBody"]["eventList"]]


def _time(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["eventTime"])


def _vin(epc: str) -> str:
    return epc.rsplit(".", 1)[1]


@pytest.fixture(scope="module")
def small_docs() -> list[dict[str, Any]]:
    return list(generate_fleet(SMALL))


@pytest.fixture(scope="module")
def medium_events() -> list[dict[str, Any]]:
    return _events(generate_fleet(MEDIUM))


@pytest.fixture(scope="module")
def validator(conformance: Path) -> Any:
    schema = orjson.loads((conformance / "epcis" / "EPCIS-JSON-Schema.json").read_bytes())
    # Draft-07 treats `format` as an annotation; asserting it would reject what the reference validator accepts.
    return jsonschema_rs.validator_for(schema, validate_formats=False)


# ------------------------------------------------------------------------------------ schema and envelope


def test_every_document_validates_against_the_gs1_schema(small_docs: list[dict[str, Any]], validator: Any) -> None:
    assert len(small_docs) > 3
    for i, doc in enumerate(small_docs):
        errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(doc)][:5]
        assert not errors, f"document {i}: {errors}"


def test_document_envelope(small_docs: list[dict[str, Any]]) -> None:
    for i, doc in enumerate(small_docs):
        assert doc["@context"] == [EPCIS_CONTEXT, {"rp": RP_NAMESPACE}]
        assert doc["type"] == "EPCISDocument"
        assert doc["schemaVersion"] == "2.0"
        events = doc["epcisBody"]["eventList"]
        assert 0 < len(events) <= SMALL.events_per_document
        created = datetime.fromisoformat(doc["creationDate"])
        assert created >= max(_time(e) for e in events)
        assert ("epcisHeader" in doc) == (i == 0)


def test_first_document_carries_master_data(small_docs: list[dict[str, Any]]) -> None:
    master = small_docs[0]["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    vocabularies = {v["type"]: v["vocabularyElementList"] for v in master}
    locations = {
        el["id"]: {a["id"]: a["attribute"] for a in el["attributes"]}
        for el in vocabularies["urn:epcglobal:epcis:vtype:BusinessLocation"]
    }
    assert {loc.sgln for loc in fleet_locations()} == set(locations)
    for attrs in locations.values():
        assert pycountry.countries.get(alpha_2=attrs[_MDA + "countryCode"]) is not None
        assert attrs[_MDA + "name"]
    parties = {el["id"] for el in vocabularies["urn:epcglobal:epcis:vtype:Party"]}
    assert {p.pgln for p in fleet_parties()} == parties
    classes = {el["id"] for el in vocabularies["urn:epcglobal:epcis:vtype:EPCClass"]}
    used = set()
    for event in _events(small_docs):
        for epc in event.get("epcList", []) + event.get("childEPCs", []):
            if m := _SGTIN.fullmatch(epc):
                used.add(f"urn:epc:idpat:sgtin:{m[1]}.{m[2]}.*")
        for key in ("readPoint", "bizLocation"):
            if key in event:
                assert event[key]["id"].rsplit(".", 1)[0] + ".0" in locations, event[key]
    assert used <= classes


def test_every_product_site_and_read_point_in_the_events_has_a_cbv_name(
    medium_events: list[dict[str, Any]],
) -> None:
    vocabularies = {v["type"].rsplit(":", 1)[1]: v["vocabularyElementList"] for v in fleet_master_data()}
    named: dict[str, str] = {}
    for kind, elements in vocabularies.items():
        for element in elements:
            attrs = {a["id"]: a["attribute"] for a in element["attributes"]}
            # CBV 2.0 §8: sites, read points and parties have #name; trade items a description.
            name = attrs.get(_MDA + "name") or attrs.get(_MDA + "tradeItemDescription")
            assert isinstance(name, str) and name, (kind, element["id"])
            assert len(attrs.get(_MDA + "descriptionShort", "")) <= 35, element["id"]
            named[canonical_id(element["id"])] = name
    for point in vocabularies["ReadPoint"]:
        attrs = {a["id"]: a["attribute"] for a in point["attributes"]}
        assert canonical_id(point["id"]).startswith(f"https://id.gs1.org/414/{attrs['urn:epcglobal:cbv:mda:site']}/254/")
    for event in medium_events:
        assert canonical_id(event["readPoint"]["id"]) in named, event["readPoint"]
        keys = [q["epcClass"] for k in ("quantityList", "inputQuantityList") for q in event.get(k, [])]
        keys += [e for k in ("epcList", "childEPCs", "outputEPCList") for e in event.get(k, []) if ":giai:" not in e]
        for key in keys:
            assert canonical_id(key)[:36] in named, key  # the product: https://id.gs1.org/01/ + GTIN-14


def test_event_time_zone_offsets_match_the_sites(small_docs: list[dict[str, Any]]) -> None:
    zones = {"DE": "Europe/Berlin", "NL": "Europe/Amsterdam", "FR": "Europe/Paris", "BE": "Europe/Brussels",
             "ES": "Europe/Madrid", "CN": "Asia/Shanghai", "MX": "America/Mexico_City", "JP": "Asia/Tokyo",
             "KR": "Asia/Seoul", "TH": "Asia/Bangkok", "SA": "Asia/Riyadh", "AE": "Asia/Dubai",
             "ID": "Asia/Jakarta", "MY": "Asia/Kuala_Lumpur"}
    country = {loc.sgln: loc.country for loc in fleet_locations()}
    seen_summer = False
    for event in _events(small_docs):
        assert event["eventTime"].endswith(event["eventTimeZoneOffset"])
        site = (event.get("bizLocation") or event["readPoint"])["id"].rsplit(".", 1)[0] + ".0"
        when = _time(event)
        expected = when.astimezone(zoneinfo.ZoneInfo(zones[country[site]])).utcoffset()
        assert when.utcoffset() == expected, (event["eventTime"], country[site])
        seen_summer |= event["eventTimeZoneOffset"] == "+02:00"
    assert seen_summer, "EU summer time never exercised"


def test_events_come_in_time_order_and_after_the_start(small_docs: list[dict[str, Any]]) -> None:
    times = [_time(e) for e in _events(small_docs)]
    assert times == sorted(times)
    assert times[0] >= SMALL.start


# ------------------------------------------------------------------------------------ the story


def test_event_mix_covers_the_whole_story(medium_events: list[dict[str, Any]]) -> None:
    mix = Counter((e["type"], e.get("action"), e.get("bizStep")) for e in medium_events)
    for kind in [
        ("ObjectEvent", "ADD", "commissioning"), ("TransformationEvent", None, "commissioning"),
        ("AggregationEvent", "ADD", "assembling"), ("ObjectEvent", "OBSERVE", "inspecting"),
        ("ObjectEvent", "OBSERVE", "loading"), ("ObjectEvent", "OBSERVE", "shipping"),
        ("ObjectEvent", "OBSERVE", "departing"),
        ("ObjectEvent", "OBSERVE", "arriving"), ("ObjectEvent", "OBSERVE", "receiving"),
        ("ObjectEvent", "OBSERVE", "entering_exiting"), ("ObjectEvent", "OBSERVE", "retail_selling"),
        ("AggregationEvent", "DELETE", "repairing"), ("AggregationEvent", "ADD", "repairing"),
        ("AggregationEvent", "DELETE", "disassembling"),
    ]:
        assert mix[kind] > 0, kind
    assert any("sensorElementList" in e for e in medium_events)
    assert any("persistentDisposition" in e for e in medium_events)
    assert any("certificationInfo" in e for e in medium_events)
    assert any("ilmd" in e and "cbvmda:lotNumber" in e["ilmd"] for e in medium_events)
    shipping = next(e for e in medium_events if e["bizStep"] == "shipping" and "bizTransactionList" in e)
    assert {t["type"] for t in shipping["bizTransactionList"]} == {"po", "desadv", "bol"}
    assert {s["type"] for s in shipping["sourceList"]} == {"owning_party", "location"}
    customs = next(e for e in medium_events if e["bizStep"] == "entering_exiting")
    assert customs["rp:importDeclaration"] and customs["rp:hsCode"] == "870380"


def test_vehicles_carry_enough_serialised_parts(small_docs: list[dict[str, Any]]) -> None:
    events = _events(small_docs)
    packs = {e["parentID"]: e["childEPCs"] for e in events if e["type"] == "AggregationEvent"
             and e["action"] == "ADD" and e["bizStep"] == "assembling" and ":sgtin:" in e["parentID"]}
    vehicles = {e["parentID"]: e["childEPCs"] for e in events if e["type"] == "AggregationEvent"
                and e["action"] == "ADD" and e["bizStep"] == "assembling" and ":giai:" in e["parentID"]}
    assert len(vehicles) == SMALL.vehicles
    for children in packs.values():
        assert len(children) >= 9  # >= 8 modules and one BMS
    for vehicle, children in vehicles.items():
        pack = [c for c in children if c in packs]
        assert len(pack) == 1, vehicle
        assert len(children) - 1 >= 30
        assert len(children) + len(packs[pack[0]]) >= 40
    suppliers = {p.country for p in fleet_parties() if p.role == "supplier"}
    assert {"CN", "DE", "JP", "KR", "MX", "TH"} <= suppliers


def test_each_module_comes_from_one_shared_lot(medium_events: list[dict[str, Any]]) -> None:
    module_lot: dict[str, str] = {}
    made = set()
    for e in medium_events:
        if e["type"] == "ObjectEvent" and "quantityList" in e:
            made.add(e["quantityList"][0]["epcClass"])
        if e["type"] == "TransformationEvent":
            (lot,) = [q["epcClass"] for q in e["inputQuantityList"]]
            assert lot in made, "a lot is used before it is commissioned"
            for module in e["outputEPCList"]:
                assert module not in module_lot
                module_lot[module] = lot
    truth = fleet_ground_truth(MEDIUM)
    reach = Counter(lot for lots in truth.lots_ever.values() for lot in lots)
    assert len(reach) >= 20, "many lots"
    assert max(reach.values()) >= 0.01 * MEDIUM.vehicles
    assert truth.module_lot == module_lot


def test_service_visits_and_recycling(medium_events: list[dict[str, Any]]) -> None:
    removals = [e for e in medium_events if e["type"] == "AggregationEvent" and e["action"] == "DELETE"
                and e["bizStep"] == "repairing"]
    assert len({e["parentID"] for e in removals}) >= 0.05 * MEDIUM.vehicles
    removed = [e["childEPCs"][0] for e in removals]
    kinds = Counter(_SGTIN.fullmatch(epc)[2] for epc in removed)  # type: ignore[index]
    assert len(kinds) >= 3, "packs, TCUs and other ECUs are swapped"
    dismantled = [e for e in medium_events if e["bizStep"] == "disassembling"]
    assert dismantled and all(e["parentID"] in removed for e in dismantled)


def test_vins_are_valid_iso_3779(small_docs: list[dict[str, Any]]) -> None:
    stamped = [e for e in _events(small_docs) if e.get("ilmd", {}).get("rp:vin")]
    assert len(stamped) == SMALL.vehicles
    for event in stamped:
        vin = event["ilmd"]["rp:vin"]
        assert event["epcList"] == [f"urn:epc:id:giai:6975001.{vin}"]
        assert len(vin) == 17 and not set(vin) & set("IOQ")
        info = Vin(vin)
        assert info.verify_checksum(), vin
        assert vin_check_digit(vin) == vin[8]
        assert info.country == "China"
        assert vin[9] == model_year_code(event["ilmd"]["rp:modelYear"])
        assert event["ilmd"]["rp:modelYear"] in info.years


def test_causal_order(medium_events: list[dict[str, Any]]) -> None:
    inside: dict[str, set[str]] = defaultdict(set)
    shipped: set[str] = set()
    commissioned: set[str] = set()
    for e in medium_events:
        if e.get("bizStep") == "commissioning":
            commissioned.update(e.get("epcList", []) + e.get("outputEPCList", []))
        if e["type"] == "AggregationEvent":
            assert e["parentID"] in commissioned and set(e["childEPCs"]) <= commissioned
            if e["action"] == "ADD":
                assert not any(c in inside[e["parentID"]] for c in e["childEPCs"])
                inside[e["parentID"]].update(e["childEPCs"])
            else:
                assert set(e["childEPCs"]) <= inside[e["parentID"]], "DELETE before its ADD"
                inside[e["parentID"]].difference_update(e["childEPCs"])
        if e.get("bizStep") == "shipping":
            shipped.update(e["epcList"])
        if e.get("bizStep") in ("receiving", "arriving"):
            assert set(e["epcList"]) <= shipped, "received before shipped"


# ------------------------------------------------------------------------------------ truth and determinism


def _replay(events: list[dict[str, Any]], country_of: dict[str, str]) -> FleetTruth:
    children: dict[str, set[str]] = defaultdict(set)
    ever: dict[str, set[str]] = defaultdict(set)
    module_lot: dict[str, str] = {}
    out = FleetTruth()
    for e in events:
        if e["type"] == "TransformationEvent":
            for module in e["outputEPCList"]:
                module_lot[module] = e["inputQuantityList"][0]["epcClass"]
        elif e["type"] == "AggregationEvent":
            if e["action"] == "ADD":
                children[e["parentID"]].update(e["childEPCs"])
                ever[e["parentID"]].update(e["childEPCs"])
            else:
                children[e["parentID"]].difference_update(e["childEPCs"])
        elif e.get("bizStep") == "retail_selling":
            out.markets[_vin(e["epcList"][0])] = country_of[e["bizLocation"]["id"]]

    def closure(epc: str, table: dict[str, set[str]]) -> frozenset[str]:
        found: set[str] = set()
        todo = list(table.get(epc, ()))
        while todo:
            child = todo.pop()
            found.add(child)
            todo.extend(table.get(child, ()))
        return frozenset(found)

    for parent in [p for p in ever if ":giai:" in p]:
        vin = _vin(parent)
        out.parts_now[vin] = closure(parent, children)
        out.parts_ever[vin] = closure(parent, ever)
        out.lots_now[vin] = frozenset(module_lot[m] for m in out.parts_now[vin] if m in module_lot)
        out.lots_ever[vin] = frozenset(module_lot[m] for m in out.parts_ever[vin] if m in module_lot)
    return out


def test_ground_truth_matches_the_events(medium_events: list[dict[str, Any]]) -> None:
    truth = fleet_ground_truth(MEDIUM)
    country_of = {loc.sgln: loc.country for loc in fleet_locations()}
    replayed = _replay(medium_events, country_of)
    assert replayed.markets == truth.markets
    assert replayed.parts_now == truth.parts_now
    assert replayed.parts_ever == truth.parts_ever
    assert replayed.lots_now == truth.lots_now
    assert replayed.lots_ever == truth.lots_ever
    deletes = sorted((_time(e), _vin(e["parentID"]), e["childEPCs"][0]) for e in medium_events
                     if e["type"] == "AggregationEvent" and e["action"] == "DELETE" and ":giai:" in e["parentID"])
    assert deletes == sorted((s.removed_at, s.vin, s.removed) for s in truth.swaps)
    installs = {(_time(e), e["childEPCs"][0]) for e in medium_events
                if e["type"] == "AggregationEvent" and e["action"] == "ADD" and e["bizStep"] == "repairing"}
    assert installs == {(s.installed_at, s.installed) for s in truth.swaps}
    assert any(truth.lots_now[s.vin] != truth.lots_ever[s.vin] for s in truth.swaps if s.part == "pack")
    for swap in truth.swaps:
        assert swap.removed_at < swap.installed_at
        assert truth.sold_at[swap.vin] < swap.removed_at
        assert swap.country == truth.markets[swap.vin]
        in_service = truth.assembled_at[swap.vin] + (swap.removed_at - truth.assembled_at[swap.vin]) / 2
        assert swap.removed in truth.parts_at(swap.vin, in_service)
        assert swap.removed not in truth.parts_at(swap.vin, swap.installed_at)
        assert swap.installed in truth.parts_at(swap.vin, swap.installed_at)
    vin = next(iter(truth.parts_now))
    lot = next(iter(truth.lots_now[vin]))
    assert vin in truth.vins_with_lot(lot)
    assert truth.vins_with_part(next(iter(truth.parts_now[vin]))) == {vin}


def test_same_spec_same_bytes_other_seed_other_fleet() -> None:
    def digest(spec: FleetSpec) -> str:
        h = hashlib.sha256()
        for doc in generate_fleet(spec):
            h.update(orjson.dumps(doc))
        return h.hexdigest()

    assert digest(SMALL) == digest(SMALL)
    assert digest(SMALL) != digest(dataclasses.replace(SMALL, seed=8))
    # No wall clock, no set iteration order: another interpreter with another hash seed gives the same bytes.
    script = (
        "import hashlib, orjson\n"
        "from roadpass.demo.fleet import FleetSpec, generate_fleet\n"
        "h = hashlib.sha256()\n"
        "for d in generate_fleet(FleetSpec(vehicles=200, events_per_document=250)): h.update(orjson.dumps(d))\n"
        "print(h.hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == digest(SMALL)


def test_parties_and_locations() -> None:
    parties = fleet_parties(SMALL)
    assert {p.role for p in parties} == set(ROLES)
    assert len({p.company_prefix for p in parties}) == len(parties)
    for p in parties:
        assert pycountry.countries.get(alpha_2=p.country) is not None, p
        assert p.company_prefix.isdigit() and 6 <= len(p.company_prefix) <= 12
        assert len(p.gln) == 13
    for loc in fleet_locations(SMALL):
        m = _SGLN.fullmatch(loc.sgln)
        assert m and len(m[1] + m[2]) == 12, loc.sgln
        assert pycountry.countries.get(alpha_2=loc.country) is not None
    roles = {loc.role for loc in fleet_locations()}
    assert {"factory", "port", "dealer", "workshop", "recycler", "lab"} <= roles


def test_streams_without_planning_the_whole_fleet() -> None:
    # Events are released once the longest supply lead time (~50 days of production) is planned ahead.
    planner = Planner(FleetSpec(vehicles=200_000))
    events = planner.events()
    for _ in range(5000):
        next(events)
    assert planner.next_vehicle < 40_000


@pytest.mark.slow
def test_pending_work_does_not_grow_with_the_fleet() -> None:
    def peak(vehicles: int) -> int:
        planner = Planner(FleetSpec(vehicles=vehicles, vehicles_per_day=40, service_share=0.06))
        high = 0
        for i, _ in enumerate(planner.events()):
            if i % 2000 == 0:
                high = max(high, sum(len(chunk) for b in planner.buckets.values() for chunk in b))
        return high

    assert peak(12_000) < 1.5 * peak(4_000)


@pytest.mark.parametrize(
    ("field", "value"),
    [("vehicles", 0), ("events_per_document", 0), ("service_share", 1.5), ("vehicles_per_day", 0),
     ("pack_recycling_share", -0.1), ("start", datetime(2025, 1, 6))],
)
def test_bad_spec_names_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"FleetSpec.{field}"):
        FleetSpec(**{field: value})
