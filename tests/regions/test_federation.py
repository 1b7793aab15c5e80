"""Where-used across regions on nodes served on loopback, each with its own database: Frankfurt (eu-central)
and Riyadh (me-central) each hold the vehicles sold in their markets; the maker's home node (cn-east, on
SQLite or PostgreSQL) asks both through their API with its party's API keys.

Per region what its policy allows: pseudonymous vehicle ids from Frankfurt (standard contractual clauses),
ids from Riyadh too (the SDAIA clauses); counts by market always; a region down or too slow makes the answer
partial, and says which. Authorities see their market's vehicles on their region's node, and the home node
holds no VIN of them."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from regional_nodes import node
from roadpass.aftermarket.recalls.model import Viewer
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass
from roadpass.cli import common
from roadpass.cli.main import app as cli_app
from roadpass.regions.federation_service import WHERE_USED_ACTION
from roadpass.regions.pseudonymise import Pseudonymiser
from served import served

MDA = "urn:epcglobal:cbv:mda#"
LOT_URN = "urn:epc:class:lgtin:9521234.054321.L7"
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
MARKER = "OWNER-MARKER-77f3"


def vin(i: int) -> str:
    return f"WDB9634031L7382{i:02d}"


def vehicle(i: int) -> str:
    return f"https://id.gs1.org/8004/4012345{vin(i)}"


def shop(country: str) -> str:
    return f"urn:epc:id:sgln:4012345.{ {'DE': '00001', 'FR': '00002', 'SA': '00003'}[country]}.0"


def document(events: list[dict[str, Any]], countries: list[str]) -> dict[str, Any]:
    """The lot's modules, packs and vehicles of this region, and the sale of each vehicle in its market."""
    sites = [{"id": shop(c), "attributes": [{"id": MDA + "countryCode", "attribute": c}]} for c in countries]
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-11-02T10:00:00Z",
            "epcisHeader": {"epcisMasterData": {"vocabularyList": [
                {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": sites}]}},
            "epcisBody": {"eventList": events}}


def built_and_sold(cars: dict[int, str]) -> list[dict[str, Any]]:
    """Modules from the cell lot, each into a pack, each pack into a vehicle, each vehicle sold (an owner's
    name in a user extension of the sale: personal, it must never leave the region)."""
    module = "https://id.gs1.org/01/09521234543213/21/M-{}".format
    pack = "https://id.gs1.org/01/09521234543220/21/P-{}".format
    at = "2026-10-0{}T10:00:00Z".format
    out: list[dict[str, Any]] = [
        {"type": "TransformationEvent", "eventTime": at(1), "eventTimeZoneOffset": "+00:00",
         "inputQuantityList": [{"epcClass": LOT_URN, "quantity": len(cars), "uom": "H87"}],
         "outputEPCList": [module(i) for i in cars], "bizStep": "commissioning"}]
    for i, country in cars.items():
        out += [
            {"type": "AggregationEvent", "action": "ADD", "eventTime": at(2), "eventTimeZoneOffset": "+00:00",
             "parentID": pack(i), "childEPCs": [module(i)], "bizStep": "assembling"},
            {"type": "AggregationEvent", "action": "ADD", "eventTime": at(3), "eventTimeZoneOffset": "+00:00",
             "parentID": vehicle(i), "childEPCs": [pack(i)], "bizStep": "assembling"},
            {"type": "ObjectEvent", "action": "OBSERVE", "eventTime": at(4), "eventTimeZoneOffset": "+00:00",
             "epcList": [vehicle(i)], "bizStep": "retail_selling", "bizLocation": {"id": shop(country)},
             "example:owner": {"example:name": MARKER}}]
    return out



def party_key(rp: Roadpass, key: str, role: str, country: str, gcp: str | None = None) -> str:
    """A party on ``rp`` and an API key of it (the token)."""
    made = rp.admin.create_party(actor="test", key=key, name=key, role=role, country=country, gcp=gcp)
    token, _info = rp.admin.create_api_key(actor="test", party_id=made.id, name=key)
    return str(token.token)


@dataclass
class World:
    eu: Roadpass
    riyadh: Roadpass
    home: Roadpass
    eu_folder: Path
    home_folder: Path
    eu_url: str


HOME_PARTY = "home-node"


@pytest.fixture
def world(tmp_path: Path, sqlite_template: Path, database_url: str) -> Iterator[World]:
    """Frankfurt and Riyadh served on loopback with their vehicles; the home node knows both as peers and
    holds an API key of its party on each (the peers know that party as the home node's)."""
    home_peer = {"node": "home", "region": "cn-east", "url": "http://127.0.0.1:9", "party": HOME_PARTY}
    with ExitStack() as stack:
        eu = node(tmp_path / "eu", sqlite_template, "eu-central", "frankfurt", [home_peer])
        riyadh = node(tmp_path / "riyadh", sqlite_template, "me-central", "riyadh", [home_peer])
        for rp in (eu, riyadh):
            stack.callback(rp.close)
        eu.trace.capture(document(built_and_sold({1: "DE", 2: "DE", 3: "FR"}), ["DE", "FR"]), actor="test")
        riyadh.trace.capture(document(built_and_sold({4: "SA", 5: "SA"}), ["SA"]), actor="test")
        keys = {name: party_key(rp, HOME_PARTY, "manufacturer", "CN", gcp="9521234")
                for name, rp in (("frankfurt", eu), ("riyadh", riyadh))}
        eu_port = stack.enter_context(served(eu))
        riyadh_port = stack.enter_context(served(riyadh))
        home_folder = tmp_path / "home"
        home = node(home_folder, sqlite_template, "cn-east", "home", [
            {"node": "frankfurt", "region": "eu-central", "url": f"http://127.0.0.1:{eu_port}",
             "apiKey": keys["frankfurt"]},
            {"node": "riyadh", "region": "me-central", "url": f"http://127.0.0.1:{riyadh_port}",
             "apiKey": keys["riyadh"]}], database_url=database_url)
        stack.callback(home.close)
        # The non-personal build record (the cell lot made into modules) is the home node's too.
        home.trace.capture(document(built_and_sold(dict.fromkeys(range(1, 6), "DE"))[:1], []), actor="test")
        yield World(eu, riyadh, home, tmp_path / "eu", home_folder, f"http://127.0.0.1:{eu_port}")


def _region(body: dict[str, Any], region: str) -> dict[str, Any]:
    return next(r for r in body["regions"] if r["region"] == region)


def test_each_region_answers_what_its_policy_allows_and_the_answer_is_whole(world: World) -> None:
    found = world.home.federation.where_used(LOT_URN, visibility=None).as_json()
    assert found["partial"] is False and sorted(found["answered"]) == ["cn-east", "eu-central", "me-central"]
    assert found["totals"]["vehicles"] == 5
    assert found["totals"]["byMarket"] == {"DE": 2, "SA": 2, "FR": 1}
    eu = _region(found, "eu-central")["answer"]
    assert eu["byMarket"] == {"DE": 2, "FR": 1} and len(eu["hits"]) == 3
    assert all(h["id"].startswith("urn:roadpass:pseudonym:eu-central:") and "vin" not in h for h in eu["hits"])
    assert eu["projection"]["pseudonymised"] == ["hits"]
    riyadh = _region(found, "me-central")["answer"]
    assert riyadh["byMarket"] == {"SA": 2} and all(Pseudonymiser.is_pseudonym(h["id"]) for h in riyadh["hits"])
    text = str(found)
    for secret in [MARKER, *(vin(i) for i in range(1, 6))]:
        assert secret not in text
    # Each answer to another region is a transfer: recorded with its basis and ledgered on the answering node.
    transfers = world.eu.regions.transfers_to("home")
    assert transfers and transfers[0].sent == 3 and "pseudonymous" in str(transfers[0].summary["bases"])
    ledgered = world.eu.ledger.recent(limit=10, actor="node:frankfurt")
    assert [e.action for e in ledgered] == [WHERE_USED_ACTION] and world.eu.ledger.verify().ok


def test_under_a_policy_of_counts_only_no_vehicle_id_crosses(world: World, tmp_path: Path) -> None:
    world.home.federation.api_keys.pop("riyadh")
    # Frankfurt -> home as counts only (the clauses suspended): an edit of the policy file governs the next
    # answer, as it governs the next transfer.
    shipped = resources.files("roadpass.regions").joinpath("transfer-policies.yaml").read_text("utf-8")
    edited = tmp_path / "transfer-policies.yaml"
    edited.write_text(shipped.replace(
        "{from: eu-central, to: cn-east, class: pseudonymous, decision: allow_pseudonymised, basis: eu-scc}",
        "{from: eu-central, to: cn-east, class: pseudonymous, decision: allow_aggregated, basis: gdpr-anonymous}"),
        encoding="utf-8")
    world.eu.regions.policy_path = edited
    found = world.home.federation.where_used(LOT_URN, visibility=None).as_json()
    eu = _region(found, "eu-central")["answer"]
    assert "hits" not in eu and eu["byMarket"] == {"DE": 2, "FR": 1}
    assert found["partial"] is True  # Riyadh refused: no key for it on the home node
    assert found["notAnswered"] == [{"node": "riyadh", "region": "me-central", "status": "refused",
                                     "reason": "no API key for this peer (apiKey)"}]


def _silent_listener() -> tuple[socket.socket, int, list[socket.socket]]:
    """A socket that accepts connections and never answers (a node hung); the accepted ones are kept open."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(sock.accept()[0]), daemon=True).start()
    return sock, int(sock.getsockname()[1]), accepted


def test_a_region_down_or_too_slow_makes_the_answer_partial_and_named(world: World) -> None:
    sock, port, accepted = _silent_listener()
    try:
        peers = world.home.regions.peers
        riyadh = next(p for p in peers if p.node == "riyadh")
        slow = type(riyadh)(riyadh.node, riyadh.region, f"http://127.0.0.1:{port}", riyadh.party)
        world.home.regions.peers = tuple(slow if p.node == "riyadh" else p for p in peers)
        world.home.federation.timeout = 3.0
        found = world.home.federation.where_used(LOT_URN, visibility=None).as_json()
    finally:
        for held in [sock, *accepted]:
            held.close()
    assert found["partial"] is True and found["answered"] == ["cn-east", "eu-central"], found["notAnswered"]
    assert found["notAnswered"][0]["region"] == "me-central" and found["notAnswered"][0]["status"] == "timeout", found
    assert found["totals"]["vehicles"] == 3  # short by Riyadh's vehicles, and said so
    down = type(riyadh)(riyadh.node, riyadh.region, "http://127.0.0.1:9", riyadh.party)
    world.home.regions.peers = tuple(down if p.node == "riyadh" else p for p in peers)
    found = world.home.federation.where_used(LOT_URN, visibility=None).as_json()
    assert found["partial"] is True and found["notAnswered"][0]["status"] == "unreachable"


def test_the_api_and_the_cli_on_the_home_node(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    maker = party_key(world.home, "maker", "manufacturer", "CN", gcp="9521234")
    with TestClient(create_app(roadpass=world.home)) as client:
        answered = client.get("/federation/where-used", params={"id": LOT_URN},
                              headers={"Authorization": f"Bearer {maker}"})
        assert answered.status_code == 200 and answered.json()["totals"]["vehicles"] == 5
        assert client.get("/federation/where-used", params={"id": LOT_URN}).status_code == 401
        # A party that does not own the lot gets this node's answer as far as it sees, the others withheld.
        other = party_key(world.home, "other-maker", "manufacturer", "CN", gcp="7654321")
        narrow = client.get("/federation/where-used", params={"id": LOT_URN},
                            headers={"Authorization": f"Bearer {other}"}).json()
        assert narrow["partial"] is True and narrow["totals"]["vehicles"] == 0
        assert {r["status"] for r in narrow["notAnswered"]} == {"withheld"}
    monkeypatch.setattr(common.state, "app", world.home)
    result = CliRunner().invoke(cli_app, ["nodes", "where-used", LOT_URN])
    assert result.exit_code == 0, result.output
    assert "complete" in result.output and "eu-central" in result.output
    world.home.federation.api_keys.pop("riyadh")
    result = CliRunner().invoke(cli_app, ["nodes", "where-used", LOT_URN, "--json"])
    assert result.exit_code == 2 and '"partial": true' in result.output


def test_the_peer_side_answers_only_a_peer_nodes_party(world: World) -> None:
    stranger = party_key(world.eu, "stranger", "manufacturer", "DE", gcp="9521234")
    with TestClient(create_app(roadpass=world.eu)) as client:
        refused = client.get("/federation/peer/where-used", params={"id": LOT_URN},
                             headers={"Authorization": f"Bearer {stranger}"})
        assert refused.status_code == 403 and refused.json()["parameter"] == "Authorization"
        assert client.get("/federation/peer/where-used", params={"id": LOT_URN}).status_code == 401


def test_an_authority_sees_its_market_on_its_regions_node_and_the_home_node_holds_no_vin(world: World) -> None:
    made = world.eu.admin.create_party(actor="test", key="kba", name="KBA", role="authority", country="DE")
    world.eu.admin.set_mandate(actor="test", party_key="kba", markets=["DE"])
    kba = world.eu.admin.create_api_key(actor="test", party_id=made.id, name="kba")[0].token
    with TestClient(create_app(roadpass=world.eu)) as client:
        seen = client.get(f"/trace/where-used/{LOT_URN}", headers={"Authorization": f"Bearer {kba}"})
    assert seen.status_code == 200
    body = seen.json()
    assert sorted(h["vin"] for h in body["hits"]) == [vin(1), vin(2)]  # its market's vehicles, not France's
    # The home node answered its where-used with pseudonyms and counts only: no VIN, no owner, no EU unit
    # key is stored there (its files hold none), while Frankfurt's do.
    world.home.federation.where_used(LOT_URN, visibility=None)
    home_bytes = b"".join(p.read_bytes() for p in sorted(world.home_folder.iterdir()) if p.is_file())
    for secret in [MARKER, vin(1), vin(2), vin(3)]:
        assert secret.encode() not in home_bytes
    eu_bytes = b"".join(p.read_bytes() for p in sorted(world.eu_folder.iterdir()) if p.is_file())
    assert vin(1).encode() in eu_bytes


# --- recalls across regions -----------------------------------------------------------------------------------


def campaign(key: str) -> dict[str, Any]:
    return {"campaignKey": key, "title": "Cells may short", "manufacturer": "Maker (test)",
            "defect": {"description": "separator fold", "risk": "fire"},
            "remedy": {"description": "replace the pack", "parts": ["09521234543220"]},
            "scope": {"lots": [LOT_URN]}, "dates": {"remedyDueOn": "2026-12-31"},
            "contact": {"name": "A. Person", "email": "a.person@example.org"}}


def test_a_campaign_defined_at_home_is_carried_out_in_each_region_and_reported_as_counts(world: World) -> None:
    for rp, country in ((world.eu, "DE"), (world.riyadh, "SA")):
        rp.admin.create_party(actor="test", key=f"dealer-{country.lower()}", name="Dealer", role="dealer",
                              country=country)
    world.home.recalls.create(campaign("RC-1"), actor="test", owner="maker")
    status = world.home.recall_relay.relay("RC-1", actor="test").as_json()
    assert status["complete"] is True and status["notReported"] == []
    regions = {r["region"]: r for r in status["regions"]}
    assert regions["eu-central"]["byMarket"] == {"DE": {"affected": 2, "remedied": 0, "open": 2, "noLongerFitted": 0},
                                                 "FR": {"affected": 1, "remedied": 0, "open": 1, "noLongerFitted": 0}}
    assert regions["me-central"]["byMarket"]["SA"]["affected"] == 2
    assert status["totals"]["affected"] == 5
    assert not any(vin(i) in str(status) for i in range(1, 6))
    # Each region resolved its own vehicles and notified its own market's dealers; the contact (a person)
    # stayed at home.
    eu_status = world.eu.recalls.status("RC-1", Viewer())
    assert sorted(s.vin for s in eu_status.states) == [vin(1), vin(2), vin(3)]
    assert eu_status.campaign.draft.contact == {} and eu_status.campaign.created_by == "node:home"
    assert [n.vehicles for n in world.eu.recalls.notices("dealer-de")] == [2]
    assert [n.vehicles for n in world.riyadh.recalls.notices("dealer-sa")] == [2]
    # Relaying again changes nothing: once per peer, and a repeated delivery is answered "had it".
    again = world.home.recall_relay.relay("RC-1", actor="test").as_json()
    assert [r["state"] for r in again["regions"]] == ["delivered"] * 3
    ledgered = world.eu.ledger.recent(limit=20, actor="node:frankfurt")
    assert "regions.recall.report" in {e.action for e in ledgered}
    assert world.home.ledger.verify().ok and world.eu.ledger.verify().ok


def test_a_region_down_stays_in_the_outbox_marked_not_reported_until_it_is_back(world: World) -> None:
    peers = world.home.regions.peers
    riyadh = next(p for p in peers if p.node == "riyadh")
    world.home.regions.peers = tuple(
        type(p)(p.node, p.region, "http://127.0.0.1:9", p.party) if p is riyadh else p for p in peers)
    world.home.recalls.create(campaign("RC-2"), actor="test", owner="maker")
    status = world.home.recall_relay.relay("RC-2", actor="test").as_json()
    assert status["complete"] is False and status["notReported"] == ["me-central"]
    down = next(r for r in status["regions"] if r["region"] == "me-central")
    assert down["state"] == "pending" and down["attempts"] == 1 and "unreachable" in down["lastError"]
    world.home.regions.peers = peers  # Riyadh is back: the next status read delivers from the outbox
    status = world.home.recall_relay.status("RC-2").as_json()
    assert status["complete"] is True
    assert next(r for r in status["regions"] if r["region"] == "me-central")["byMarket"]["SA"]["affected"] == 2


def test_recalls_across_regions_over_the_api_and_the_cli(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    maker = party_key(world.home, "maker", "manufacturer", "CN", gcp="9521234")
    auth = {"Authorization": f"Bearer {maker}"}
    with TestClient(create_app(roadpass=world.home)) as client:
        assert client.post("/recalls", json=campaign("RC-3"), headers=auth).status_code == 201
        relayed = client.post("/federation/recalls/RC-3/relay", headers=auth)
        assert relayed.status_code == 200 and relayed.json()["complete"] is True
        assert client.get("/federation/recalls/RC-3", headers=auth).json()["totals"]["affected"] == 5
        assert client.get("/federation/recalls/NOPE", headers=auth).status_code == 404
    stranger = party_key(world.eu, "stranger", "manufacturer", "DE", gcp="9521234")
    with TestClient(create_app(roadpass=world.eu)) as client:
        refused = client.post("/federation/peer/recalls", json=campaign("RC-9"),
                              headers={"Authorization": f"Bearer {stranger}"})
        assert refused.status_code == 403 and refused.json()["parameter"] == "Authorization"
    monkeypatch.setattr(common.state, "app", world.home)
    result = CliRunner().invoke(cli_app, ["nodes", "recall-status", "RC-3", "--json"])
    assert result.exit_code == 0, result.output
    assert '"complete": true' in result.output
    result = CliRunner().invoke(cli_app, ["nodes", "recall-relay", "NOPE"])
    assert result.exit_code == 1
