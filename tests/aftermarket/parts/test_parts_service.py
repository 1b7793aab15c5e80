"""The parts check on both databases: known, unknown, suspect, stolen and recovered parts, EPC URN and
Digital Link alike, withheld VINs, open recalls from the recall feature, and the maker's log."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from roadpass.aftermarket.parts.model import Verdict
from roadpass.aftermarket.parts.service import PartsError, PartsService
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.query import Visibility, parse_event_query


def fitted_parts(app: Roadpass, count: int = 2) -> list[tuple[str, str]]:
    """(VIN, a part fitted in it) for ``count`` vehicles."""
    found: dict[str, str] = {}
    events = app.trace.events(parse_event_query({"eventType": "AggregationEvent", "perPage": "1000"}))[0]
    for event in events:
        if not event.get("parentID") or not event.get("childEPCs"):
            continue
        unit = app.trace.resolve(event["parentID"])
        if unit.vin and unit.vin not in found:
            found[unit.vin] = event["childEPCs"][0]
        if len(found) == count:
            break
    return list(found.items())


@pytest.fixture
def fleet(app: Roadpass) -> Roadpass:
    load_fleet(app, FleetSpec(vehicles=3))
    return app


def test_a_fitted_part_is_genuine_and_the_same_serial_elsewhere_is_suspect(fleet: Roadpass) -> None:
    (vin, part), (other_vin, _other) = fitted_parts(fleet)
    parts = fleet.parts
    genuine = parts.check(part, checker="test", vin=vin)
    assert genuine.verdict is Verdict.GENUINE and genuine.known
    assert [f.vin for f in genuine.fitted_now] == [vin]
    assert genuine.maker_key is not None and genuine.maker_name
    as_link = parts.check(genuine.key, checker="test")
    assert as_link.key == genuine.key and as_link.verdict is Verdict.GENUINE
    suspect = parts.check(part, checker="test", vin=other_vin)
    assert suspect.verdict is Verdict.SUSPECT and "another vehicle" in suspect.reasons[0]


def test_unknown_serials_lots_and_garbage(fleet: Roadpass) -> None:
    (_vin, part), = fitted_parts(fleet, 1)
    key = fleet.parts.canonical(part)
    unknown = fleet.parts.check(key.rsplit("/21/", 1)[0] + "/21/NOPE", checker="test")
    assert unknown.verdict is Verdict.UNKNOWN and not unknown.known and unknown.maker_key
    with pytest.raises(PartsError) as lot:
        fleet.parts.check("urn:epc:class:lgtin:4012345.012345.LOT1", checker="test")
    assert lot.value.field == "id" and "serial" in lot.value.reason
    with pytest.raises(PartsError):
        fleet.parts.check("https://id.gs1.org/01/12345678901234/21/1", checker="test")  # bad check digit


def test_stolen_then_recovered_is_ledgered_and_changes_the_verdict(fleet: Roadpass) -> None:
    (vin, part), = fitted_parts(fleet, 1)
    parts = fleet.parts
    parts.report(part, actor="test", status="stolen", reference="case 42")
    stolen = parts.check(part, checker="test", vin=vin)
    assert stolen.verdict is Verdict.STOLEN and stolen.stolen and stolen.stolen.reference == "case 42"
    parts.report(part, actor="test", status="recovered", reference="case 42")
    assert parts.check(part, checker="test", vin=vin).verdict is Verdict.GENUINE
    assert {"part.stolen", "part.recovered"} <= {e.action for e in fleet.ledger.recent(limit=10)}
    assert fleet.ledger.verify().ok


def test_vins_the_caller_may_not_see_are_withheld_and_every_check_is_logged_for_the_maker(fleet: Roadpass) -> None:
    (vin, part), = fitted_parts(fleet, 1)
    parts = fleet.parts
    blind = parts.check(part, checker="party:x/key:y", visibility=Visibility())
    assert blind.fitted_now and blind.fitted_now[0].vin is None and blind.fitted_now[0].withheld
    maker = blind.maker_key
    log = parts.checks(maker_key=maker)
    assert log and log[0]["checker"] == "party:x/key:y" and log[0]["key"] == blind.key
    assert parts.checks(maker_key="nobody") == []
    assert vin


@dataclass(frozen=True)
class _Recall:
    campaign_id: str
    title: str
    vin: str | None
    remedied: bool


class _Recalls:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def open_recalls_for(self, identifier: str) -> list[_Recall]:
        self.asked.append(identifier)
        return [_Recall("RC-1", "Pack contactor", None, False), _Recall("RC-0", "Old one", None, True)]


def test_an_open_recall_comes_from_the_recall_feature(fleet: Roadpass) -> None:
    (vin, part), = fitted_parts(fleet, 1)
    recalls = _Recalls()
    parts = PartsService(fleet.parts.records, fleet.trace, fleet.access, recalls=recalls)
    found = parts.check(part, checker="test", vin=vin)
    assert found.verdict is Verdict.RECALLED
    assert [r["campaign_id"] for r in found.recalls] == ["RC-1"]
    assert recalls.asked == [found.key]


def test_a_real_recall_campaign_shows_on_the_parts_it_reaches(app: Roadpass) -> None:
    load_fleet(app, FleetSpec(vehicles=10))
    found = app.recalls.largest_lot()
    assert found is not None
    lot = found[0]
    hit = next(h for h in app.trace.where_used(lot)[1] if h.vin and h.via)
    pack = hit.via[0]
    gtin = pack.split("/01/", 1)[1][:14]
    app.recalls.create({
        "campaignKey": "RC-P1", "title": "Cells may short", "manufacturer": "Lanxing (test)",
        "defect": {"description": "separator fold", "risk": "fire"},
        "remedy": {"description": "replace the pack", "parts": [gtin]}, "scope": {"lots": [lot]},
        "dates": {"remedyDueOn": "2026-11-30"}}, actor="test", owner="lanxing")
    checked = app.parts.check(pack, checker="test", vin=hit.vin)
    assert checked.verdict is Verdict.RECALLED, checked.reasons
    assert [r["campaign_id"] for r in checked.recalls] == ["RC-P1"]
