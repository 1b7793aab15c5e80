"""Access review of the routes added with the resolver, the aftermarket network, telematics and software
updates: each caller reads and changes only what the access policy lets its party see, on SQLite and
PostgreSQL. A rule that simply *allows* a role an operation (``events.capture``, ``compliance.read``) gives
the request no visibility, so these tests call as parties of different roles and check that the handler
still scopes the caller by its own party's visibility."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from access_helpers import api_headers
from roadpass.access.ownership import owned_prefixes
from roadpass.aftermarket.recalls.scope import gtin_of
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.identifiers import IdentifierError, to_epc_urn

sys.path.insert(0, str(Path(__file__).parents[1] / "telematics" / "software"))
from software_world import AURORA, CAMPAIGN, fit, payload, unit_epc, vin

Headers = Callable[..., dict[str, str]]
MAKER_GCP = "6951234"  # the software world's vehicles and units
LR1, LR2 = vin("2", 1), vin("2", 2)


def _at(minutes_ago: int) -> str:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def software(app: Roadpass, auth_headers: Headers) -> Iterator[tuple[TestClient, TestClient]]:
    """Two fitted Aurora vehicles; (their maker's client, another maker's client)."""
    for n, v in enumerate((LR1, LR2), start=1):
        fit(app, v, unit_epc(n), "2026-01-05T08:00:00Z")
    api = create_app(roadpass=app)
    with TestClient(api, headers=auth_headers(gcp=MAKER_GCP)) as maker, \
            TestClient(api, headers=auth_headers(gcp="4012345")) as stranger:
        yield maker, stranger


def test_a_software_report_needs_the_unit_or_its_vehicle(software: tuple[TestClient, TestClient],
                                                         app: Roadpass, auth_headers: Headers) -> None:
    """events.capture is allowed to the role; the report still counts only from a party that sees the unit or
    the vehicle it is fitted in (UN R156: a vehicle is updated when it reports so itself)."""
    maker, stranger = software
    forged = stranger.post(f"/software/units/{unit_epc(1)}/reports", content=payload("3.2.0", _at(30)))
    assert forged.status_code == 404, forged.text
    with TestClient(create_app(roadpass=app), headers=auth_headers("repairer")) as repairer:
        assert repairer.post(f"/software/units/{unit_epc(1)}/reports",
                             content=payload("3.2.0", _at(30))).status_code == 404
    assert maker.get(f"/software/vehicles/{LR1}/history").json()["reports"] == []
    assert app.ledger.recent(limit=1)[0].action == "access.denied"
    own = maker.post(f"/software/units/{unit_epc(1)}/reports", content=payload("3.1.0", _at(30)))
    assert own.status_code == 201, own.text


def test_a_software_campaign_shows_and_offers_only_the_callers_vehicles(
        software: tuple[TestClient, TestClient]) -> None:
    """compliance.read/write are allowed to the role; the vehicles (VINs) of a campaign are scoped."""
    maker, stranger = software
    assert maker.post("/software/vehicle-types", json=AURORA).status_code == 201
    for n in (1, 2):
        assert maker.post(f"/software/units/{unit_epc(n)}/reports",
                          content=payload("3.1.0", _at(30))).status_code == 201
    assert maker.post("/software/campaigns", json=CAMPAIGN).json()["by_state"]["offered"] == 2
    seen = stranger.get(f"/software/campaigns/{CAMPAIGN['key']}")
    assert seen.status_code == 200 and LR1 not in seen.text and LR2 not in seen.text
    page = stranger.get(f"/ui/software/{CAMPAIGN['key']}")
    assert page.status_code == 200 and LR1 not in page.text
    assert LR1 in maker.get(f"/software/campaigns/{CAMPAIGN['key']}").text
    # Another party's campaign on the same type is offered to none of the maker's vehicles.
    theirs = stranger.post("/software/campaigns", json={**CAMPAIGN, "key": "FORGED-1"})
    assert theirs.status_code == 201 and theirs.json()["by_state"].get("offered", 0) == 0
    assert [c["campaign"] for c in maker.get(f"/software/vehicles/{LR1}/history").json()["campaigns"]] == [
        CAMPAIGN["key"]]


@pytest.fixture
def recalled(app: Roadpass) -> tuple[Roadpass, str, str, str]:
    """A small fleet with a recall on its largest cell lot; (app, a recalled VIN, the pack in it that carries
    the lot, the lot)."""
    load_fleet(app, FleetSpec(vehicles=12))
    found = app.recalls.largest_lot()
    assert found is not None
    lot = found[0]
    hits = [h for h in app.trace.where_used(lot)[1] if h.vin and h.via and h.current]
    assert hits
    body = {"campaignKey": "RC-SCOPE-1", "title": "Cells may short", "manufacturer": "Lanxing (test)",
            "defect": {"description": "separator fold", "risk": "fire", "determinedOn": "2026-08-25"},
            "remedy": {"description": "replace the pack", "parts": [gtin_of(hits[0].via[0])]},
            "scope": {"lots": [lot]}, "dates": {"dealerNoticeOn": "2026-09-01", "remedyDueOn": "2026-11-30"}}
    app.recalls.create(body, actor="test", owner="lanxing", visibility=None)
    return app, hits[0].vin or "", hits[0].via[0], lot


def _tree_keys(app: Roadpass, identifier: str) -> list[str]:
    keys: list[str] = []
    stack = [app.trace.as_built(identifier)]
    while stack:
        node = stack.pop()
        keys.append(node.key)
        stack.extend(node.children)
    return keys


def _key_of(app: Roadpass, party: str) -> dict[str, str]:
    found = app.access.party(party)
    assert found is not None
    made, _info = app.admin.create_api_key(actor="test", party_id=found.id, name="test", days=1)
    return {"Authorization": f"Bearer {made.token}"}


def _maker_of(app: Roadpass, key: str) -> str:
    party = next(p for p in app.access.parties() if p.gcp and key.startswith(owned_prefixes(p.gcp)))
    return party.key


def test_a_parts_check_withholds_the_vin_in_its_recalls_too(recalled: tuple[Roadpass, str, str, str]) -> None:
    """fittedNow withholds a VIN the caller may not see; the open recalls of the same answer must as well."""
    app, vehicle, pack, _lot = recalled
    client = TestClient(create_app(roadpass=app))
    market = app.trace.unit_market(app.trace.resolve(vehicle).id)
    stranger = "workshop_sa_1" if market != "SA" else "workshop_de_2"  # a repairer of another market
    blind = client.get("/parts/check", params={"id": pack}, headers=_key_of(app, stranger))
    assert blind.status_code == 200, blind.text
    body = blind.json()
    assert body["openRecalls"] and all(f["vin"] is None for f in body["fittedNow"])
    assert vehicle not in blind.text
    maker = client.get("/parts/check", params={"id": pack}, headers=_key_of(app, "lanxing")).json()
    assert maker["openRecalls"][0]["vin"] == vehicle


def _forms(key: str) -> list[str]:
    """A serialised key as Digital Link (any host) and as EPC URN (any company prefix length)."""
    out = [key.removeprefix("https://id.gs1.org")]
    for length in range(6, 13):
        try:
            out.append(to_epc_urn(key, length))
        except (IdentifierError, ValueError):
            continue
    return out


def _answers(client: TestClient, pack: str, lot: str) -> dict[str, Any]:
    """Every new route a supplier may ask about its own pack."""
    return {
        "parts": client.get("/parts/check", params={"id": pack}),
        "recalls-for": client.get(f"/recalls-for/{pack}"),
        "recalls-for-lot": client.get(f"/recalls-for/{lot}"),
        "recalls": client.get("/recalls"),
        "recall": client.get("/recalls/RC-SCOPE-1"),
        "linkset": client.get(f"{pack.removeprefix('https://id.gs1.org')}?linkType=linkset"),
        "item-page": client.get(f"/item{pack.removeprefix('https://id.gs1.org')}"),
        "series": client.get("/telematics/series", params={
            "subject": pack, "path": "Vehicle.Powertrain.TractionBattery.StateOfHealth"}),
        "history": client.get(f"/software/vehicles/{pack}/history"),
        "shells": client.get("/shells"),
        "submodels": client.get("/submodels"),
    }


def test_a_supplier_never_receives_another_suppliers_serial(recalled: tuple[Roadpass, str, str, str]) -> None:
    """Need to know (issue 17, 2b) on the new answers: the pack maker asks about its own pack and reads no
    serial of the modules inside it or of any other supplier's part in the vehicle."""
    app, vehicle, pack, lot = recalled
    supplier = app.access.party(_maker_of(app, pack))
    assert supplier is not None and supplier.role == "supplier" and supplier.gcp
    others = [k for k in _tree_keys(app, vehicle) if "/21/" in k and not k.startswith(owned_prefixes(supplier.gcp))]
    assert any(k in _tree_keys(app, pack) for k in others), "the pack holds another supplier's serials"
    forms = {k: _forms(k) for k in others}
    assert app.passports.issue_from_trace([pack], actor="test").to_json()  # the pack's passport, as AAS too
    with TestClient(create_app(roadpass=app), headers=_key_of(app, supplier.key)) as client:
        for name, answer in _answers(client, pack, lot).items():
            assert answer.status_code < 500, (name, answer.text)
            assert name not in ("shells", "linkset") or pack.split("/21/")[-1] in answer.text, name
            leaked = [k for k, texts in forms.items() if any(t in answer.text for t in texts)]
            assert not leaked, (name, leaked[:3])


def _sermi(app: Roadpass, client: TestClient) -> tuple[str, str]:
    """The operator approves workshop_de_1 and authorises one person; (that person's authorisation, a VIN)."""
    op = api_headers(app, "operator")
    assert client.post("/repairers", headers=op, json={
        "party": "workshop_de_1", "kind": "independent", "brands": ["Lanxing"], "qualifications": [],
        "markets": ["DE"]}).status_code == 201
    assert client.post("/repairers/workshop_de_1/approvals", headers=op, json={
        "assessingBody": "CAB (test)", "country": "DE", "validFrom": "2026-01-01",
        "validUntil": "2030-01-01"}).status_code == 201
    person = client.post("/repairers/workshop_de_1/authorisations", headers=op, json={
        "personName": "Test Person", "identityCheckedBy": "CAB (test)", "identityCheckedAt": "2026-01-02",
        "residenceCountry": "DE", "validFrom": "2026-01-02", "validUntil": "2031-01-01"})
    assert person.status_code == 201
    vehicle = next(h.vin for h in app.trace.where_used(app.recalls.largest_lot()[0])[1]  # type: ignore[index]
                   if h.vin)
    return str(person.json()["authorisation"]), str(vehicle)


def test_a_security_credential_is_used_only_by_the_repairer_it_was_issued_to(app: Roadpass) -> None:
    """events.capture is allowed to every repairer; a SERMI credential is personal to the authorised person's
    employer: another party presenting it is refused (and the refusal kept), the employer's use accepted."""
    load_fleet(app, FleetSpec(vehicles=3))
    client = TestClient(create_app(roadpass=app))
    person, vehicle = _sermi(app, client)
    shop = _key_of(app, "workshop_de_1")
    asked = client.post("/security-access", headers=shop,
                        json={"authorisation": person, "vin": vehicle, "function": "key_programming"})
    assert asked.status_code == 201, asked.text
    use = {"credential": asked.json()["credential"], "vin": vehicle, "function": "key_programming"}
    for other in ("workshop_de_2", "lanxing"):
        taken = client.post("/security-access/use", headers=_key_of(app, other), json=use)
        assert taken.status_code == 403, (other, taken.text)
    assert client.post("/security-access/use", headers=shop, json=use).json()["accepted"]
    maker = client.get("/security-access", headers=_key_of(app, "lanxing")).json()
    assert [u["accepted"] for u in maker[0]["uses"]].count(False) == 2


def test_only_a_party_that_sees_a_part_reports_it_stolen_or_recovered(
        recalled: tuple[Roadpass, str, str, str]) -> None:
    """events.capture is allowed to the role; a stolen (or recovered) report changes every checker's verdict,
    so it comes from a party that sees the part or a vehicle it is or was fitted in (404 otherwise)."""
    app, vehicle, pack, _lot = recalled
    client = TestClient(create_app(roadpass=app))
    market = app.trace.unit_market(app.trace.resolve(vehicle).id)
    stranger = _key_of(app, "workshop_sa_1" if market != "SA" else "workshop_de_2")
    report = {"id": pack, "status": "stolen", "reference": "case 9"}
    assert client.post("/parts/reports", json=report, headers=stranger).status_code == 404
    assert client.post("/parts/reports", json=report, headers=_key_of(app, "changzhou_modules")).status_code == 404
    assert client.get("/parts/check", params={"id": pack}, headers=stranger).json()["stolen"] is None
    assert client.post("/parts/reports", json=report, headers=_key_of(app, "lanxing")).status_code == 201
    maker = _key_of(app, _maker_of(app, pack))
    assert client.post("/parts/reports", json={**report, "status": "recovered"}, headers=maker).status_code == 201


def test_an_authoritys_mandate_mints_no_broker_account(recalled: tuple[Roadpass, str, str, str]) -> None:
    """keys.write is own-party for an authority (its API keys); its market mandate lets it read vehicles, not
    create or revoke a telematics broker account for one (authorities observe, they do not write)."""
    app, vehicle, _pack, _lot = recalled
    market = app.trace.unit_market(app.trace.resolve(vehicle).id)
    authority = api_headers(app, "authority", markets=[str(market)])
    client = TestClient(create_app(roadpass=app))
    assert client.get(f"/vehicles/{vehicle}/due", headers=authority).status_code == 200  # it reads the vehicle
    made = client.post(f"/telematics/units/{vehicle}/credentials", headers=authority)
    assert made.status_code == 404, made.text
    assert client.delete(f"/telematics/units/{vehicle}/credentials", headers=authority).status_code == 404


def test_allowed_writes_on_a_vehicle_reach_only_the_callers_vehicles(recalled: tuple[Roadpass, str, str, str]) -> None:
    """The reported gap, held shut: a service record and a warranty claim (events.capture, allowed to every
    repairer) on a vehicle neither the repairer's nor shared with it are 404, nothing stored, refusals ledgered;
    a stranger reading another party's claim or the vehicle's history is 404 too."""
    app, vehicle, pack, _lot = recalled
    shop = _key_of(app, "workshop_de_1")
    client = TestClient(create_app(roadpass=app))
    order = {"recordKey": "WO-X", "vin": vehicle, "performedAt": "2026-10-01T09:00:00Z", "odometerKm": 1000,
             "technician": "A. Tech", "operations": [{"code": "INSP", "description": "inspect", "hours": 1}]}
    assert client.post("/service-records", json=order, headers=shop).status_code == 404
    assert app.ledger.recent(limit=1)[0].action == "access.denied"
    claim = {"claimKey": "WC-X", "vin": vehicle, "part": pack, "product": "vehicle",
             "claimedAt": "2026-10-01T09:00:00Z", "odometerKm": 1000, "defect": "fails self-test",
             "amountCents": 100}
    assert client.post("/warranty/claims", json=claim, headers=shop).status_code == 404
    assert client.get(f"/vehicles/{vehicle}/service-records", headers=shop).status_code == 404
    assert client.get(f"/software/vehicles/{vehicle}/history", headers=shop).status_code == 404
    maker = _key_of(app, "lanxing")
    assert client.post("/service-records", json=order, headers=maker).status_code == 201
    assert client.get(f"/vehicles/{vehicle}/service-records", headers=shop).status_code == 404
