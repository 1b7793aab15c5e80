"""Battery health across regions on two nodes, each with its own database: Frankfurt (eu-central) folds a pack's
signals into its passport there; the summary goes through Frankfurt's outbox to the maker's home node
(cn-east, served on loopback, on SQLite or PostgreSQL), whose passport of that battery then carries it.

Forged and replayed deliveries are refused or stored once; a home node that was down gets what waited for it;
and no byte of the home node holds the vehicle's VIN, its owner or a time of day of the pack's use."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from regional_nodes import node
from roadpass.bootstrap import Roadpass
from roadpass.passport.domain import BatteryPassport
from roadpass.regions.health_relay import DELIVERED, PENDING
from roadpass.regions.health_relay_service import CHANNEL, IMPORT_ACTION, SUMMARY_ACTION
from roadpass.regions.health_summary import summary_id
from roadpass.telematics.health import CURRENT, SOC, SOH, TEMPERATURE, VOLTAGE
from roadpass.telematics.health_service import PackHealthService
from roadpass.telematics.service import Point
from roadpass.trace.timeutil import parse_time
from served import served

CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]
PACK = "https://id.gs1.org/01/06944120000318/21/P-77"
VIN = "WDB9634031L738277"
VEHICLE = f"https://id.gs1.org/8004/4012345{VIN}"
MARKER = "OWNER-MARKER-5e1d"
PD = "PerformanceAndDurability"
SOCE = "$.batteryCondition.stateOfCertifiedEnergy"
T0 = parse_time("2026-06-01T09:00:00Z")
MIN = 60_000_000


def document(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2026-01-05T10:00:00Z", "epcisBody": {"eventList": events}}


def made() -> dict[str, Any]:
    """The pack's commissioning: the build record both nodes hold (what a passport is issued from)."""
    return {"type": "ObjectEvent", "action": "ADD", "eventTime": "2026-01-05T10:00:00Z",
            "eventTimeZoneOffset": "+00:00", "epcList": [PACK], "bizStep": "commissioning",
            "ilmd": {"https://roadpass.dev/ns/epcis/nominalEnergyKWh": 57.6}}


def fitted_and_sold() -> list[dict[str, Any]]:
    """In Frankfurt only: the pack fitted in a vehicle and the vehicle sold (its owner's name in a user
    extension: personal, it never leaves the region)."""
    return [{"type": "AggregationEvent", "action": "ADD", "eventTime": "2026-02-01T10:00:00Z",
             "eventTimeZoneOffset": "+00:00", "parentID": VEHICLE, "childEPCs": [PACK], "bizStep": "assembling"},
            {"type": "ObjectEvent", "action": "OBSERVE", "eventTime": "2026-03-01T10:00:00Z",
             "eventTimeZoneOffset": "+00:00", "epcList": [VEHICLE], "bizStep": "retail_selling",
             "example:owner": {"example:name": MARKER}}]


class Signals:
    """A pack's stored samples, answered as the telematics reading API answers."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, float]] = []

    def drive(self, start: int, minutes: int, *, soh: float, capacity: float = 130.0, current: float = -60.0) -> int:
        """A discharge from 90 % (a swing the capacity estimate can use), the vehicle reporting ``soh``."""
        for i in range(minutes + 1):
            at = start + i * MIN
            soc = 90.0 + current * i / 60 / capacity * 100
            self.rows += [(at, SOC, soc), (at, CURRENT, current), (at, VOLTAGE, 400.0), (at, TEMPERATURE, 25.0),
                          (at, SOH, soh)]
        return start + minutes * MIN

    def series(self, subject: str, paths: Sequence[str], start: int, end: int,
               grain: str = "raw") -> Mapping[str, Sequence[Point]]:
        out: dict[str, list[Point]] = {p: [] for p in paths}
        for ts, path, value in sorted(self.rows):
            if subject == PACK and start <= ts < end and path in out:
                out[path].append(Point(ts, value))
        return out


@dataclass
class Nodes:
    eu: Roadpass
    home: Roadpass
    home_folder: Path
    eu_folder: Path
    home_url: str
    key: str
    health: PackHealthService[BatteryPassport]
    signals: Signals



def party_key(rp: Roadpass, key: str) -> str:
    made_party = rp.admin.create_party(actor="test", key=key, name=key, role="manufacturer", country="DE")
    return str(rp.admin.create_api_key(actor="test", party_id=made_party.id, name=key)[0].token)


@pytest.fixture
def nodes(tmp_path: Path, sqlite_template: Path, database_url: str) -> Iterator[Nodes]:
    """The home node (served) knows Frankfurt as the peer whose party is ``node-frankfurt``; Frankfurt holds an
    API key of that party (``apiKey`` of its home peer). Both hold the pack's build record and passport."""
    with ExitStack() as stack:
        home = node(tmp_path / "home", sqlite_template, "cn-east", "home", [
            {"node": "frankfurt", "region": "eu-central", "url": "http://127.0.0.1:9", "party": "node-frankfurt"}],
            database_url=database_url)
        stack.callback(home.close)
        key = party_key(home, "node-frankfurt")
        home.trace.capture(document([made()]), actor="plant")
        assert home.passports.issue_from_trace(actor="test").issued
        url = f"http://127.0.0.1:{stack.enter_context(served(home))}"
        eu = node(tmp_path / "eu", sqlite_template, "eu-central", "frankfurt", [
            {"node": "home", "region": "cn-east", "url": url, "apiKey": key}])
        stack.callback(eu.close)
        eu.trace.capture(document([made(), *fitted_and_sold()]), actor="plant")
        assert eu.passports.issue_from_trace(actor="test").issued
        signals = Signals()
        # The health service as bootstrap wires it (its passports are the tap that queues for the home node),
        # reading these signals.
        health: PackHealthService[BatteryPassport] = PackHealthService(eu.health.passports, signals)
        yield Nodes(eu, home, tmp_path / "home", tmp_path / "eu", url, key, health, signals)


def soce(rp: Roadpass) -> Any:
    return rp.passports.get(rp.passports.resolve(PACK)).value_at(PD, SOCE)


def test_a_regional_health_update_reaches_the_home_nodes_passport(nodes: Nodes) -> None:
    end = nodes.signals.drive(T0, 80, soh=91.0)
    assert nodes.health.update(PACK, until_us=end, force=True) is not None
    assert soce(nodes.eu)["stateOfCertifiedEnergyValue"] == 91.0
    [row] = nodes.eu.health_relay.outbox()
    assert row.state == PENDING and row.peer == "home" and row.sequence == 1
    assert row.summary["lastUpdate"] == "2026-06-01" and "vin" not in row.summary
    assert "battery-health" in nodes.eu.relay_worker.names
    nodes.eu.relay_worker.run_once()  # the round the relay worker runs while serving
    assert [r.state for r in nodes.eu.health_relay.outbox()] == [DELIVERED]
    assert soce(nodes.home) == {"stateOfCertifiedEnergyValue": 91.0, "lastUpdate": "2026-06-01T00:00:00Z"}
    passport = nodes.home.passports.get(nodes.home.passports.resolve(PACK))
    imported = [u for u in passport.history if u.source == "urn:roadpass:regions:health:eu-central"]
    assert {u.path for u in imported} >= {SOCE, "$.batteryCondition.numberOfFullCycles"}
    # Ledgered on both sides: the transfer with its basis on Frankfurt, the import on the home node.
    sent = nodes.eu.ledger.recent(limit=5, actor="node:frankfurt")
    assert [e.action for e in sent] == [SUMMARY_ACTION] and "eu-batt-passport" in sent[0].rule
    assert "coarsened to a day: lastUpdate" in sent[0].rule
    [transfer] = [t for t in nodes.eu.regions.transfers_to("home") if t.subscription_id == CHANNEL]
    assert transfer.summary["bases"] == {"battery_passport_health": "allow: eu-batt-passport"}
    taken = [e.action for e in nodes.home.ledger.recent(limit=5, actor="node:frankfurt")]
    assert sorted(taken) == sorted(["passport.dynamic", IMPORT_ACTION])
    assert nodes.eu.ledger.verify().ok and nodes.home.ledger.verify().ok


def _post(nodes: Nodes, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{nodes.home_url}/federation/peer/health", json=body, headers=headers, timeout=10)


def test_forged_and_replayed_deliveries_are_refused_or_stored_once(nodes: Nodes) -> None:
    nodes.health.update(PACK, until_us=nodes.signals.drive(T0, 80, soh=91.0), force=True)
    [row] = nodes.eu.health_relay.outbox()
    body = {"summary": row.summary, "summaryId": row.summary_id}
    assert _post(nodes, body, nodes.key).status_code == 201
    # The same delivery again (a retry, or a replay): answered "had it", stored once.
    again = _post(nodes, body, nodes.key)
    assert again.status_code == 200 and again.json()["stored"] is False
    history = nodes.home.passports.get(nodes.home.passports.resolve(PACK)).history_of(PD, SOCE)
    assert len([u for u in history if u.source and "regions:health" in u.source]) == 1
    assert [e.action for e in nodes.home.ledger.recent(limit=10, actor="node:frankfurt")].count(IMPORT_ACTION) == 1
    # Not a peer's party, or no key at all.
    stranger = party_key(nodes.home, "stranger")
    refused = _post(nodes, body, stranger)
    assert refused.status_code == 403 and refused.json()["parameter"] == "Authorization"
    assert _post(nodes, body).status_code == 401
    # Altered under the original digest; a VIN slipped in; a time of day.
    altered = _post(nodes, {**body, "summary": {**row.summary, "stateOfCertifiedEnergy": 99.0}}, nodes.key)
    assert altered.status_code == 400 and altered.json()["errors"][0]["parameter"] == "$.summaryId"
    with_vin = {**row.summary, "vin": VIN, "lastUpdate": "2026-06-01T10:20:00Z"}
    named = _post(nodes, {"summary": with_vin, "summaryId": summary_id(with_vin)}, nodes.key)
    assert named.status_code == 400
    assert {e["parameter"] for e in named.json()["errors"]} == {"$.summary.vin", "$.summary.lastUpdate"}
    # An older sequence of the same battery with other values (a replayed older delivery): refused.
    older = {**row.summary, "sequence": 1, "stateOfCertifiedEnergy": 95.0}
    replayed = _post(nodes, {"summary": older, "summaryId": summary_id(older)}, nodes.key)
    assert replayed.status_code == 409 and replayed.json()["parameter"] == "$.summary.sequence"
    assert soce(nodes.home)["stateOfCertifiedEnergyValue"] == 91.0
    # The regional node's own delivery of it finds it there: delivered, had already.
    done = nodes.eu.health_relay.deliver_pending()
    assert (done.delivered, done.had) == (1, 1)


def test_a_home_node_that_was_down_catches_up_from_the_outbox(nodes: Nodes) -> None:
    peers = nodes.eu.regions.peers
    nodes.eu.regions.peers = tuple(type(p)(p.node, p.region, "http://127.0.0.1:9", p.party) for p in peers)
    nodes.health.update(PACK, until_us=nodes.signals.drive(T0, 80, soh=91.0), force=True)
    nodes.health.update(PACK, until_us=nodes.signals.drive(T0 + 30 * 24 * 60 * MIN, 80, soh=89.5), force=True)
    done = nodes.eu.health_relay.deliver_pending()
    assert (done.delivered, done.failed, done.peers) == (0, 1, {"home": False})  # the second waits behind it
    rows = nodes.eu.health_relay.outbox()
    assert [(r.state, r.attempts, r.sequence) for r in rows] == [(PENDING, 1, 1), (PENDING, 0, 2)]
    assert rows[0].last_error is not None and "unreachable" in rows[0].last_error
    assert soce(nodes.home)["stateOfCertifiedEnergyValue"] == 100.0  # as issued: nothing arrived
    nodes.eu.regions.peers = peers  # back: the next round delivers both, in order, nothing twice
    done = nodes.eu.health_relay.deliver_pending()
    assert (done.delivered, done.failed) == (2, 0)
    assert soce(nodes.home) == {"stateOfCertifiedEnergyValue": 89.5, "lastUpdate": "2026-07-01T00:00:00Z"}
    assert nodes.eu.health_relay.deliver_pending().delivered == 0


def test_no_byte_of_the_home_node_holds_the_regions_personal_data(nodes: Nodes) -> None:
    nodes.health.update(PACK, until_us=nodes.signals.drive(T0, 80, soh=91.0), force=True)
    nodes.eu.health_relay.deliver_pending()
    assert soce(nodes.home)["stateOfCertifiedEnergyValue"] == 91.0
    nodes.home.close()  # flush SQLite's WAL into the file before reading it
    home_bytes = b"".join(p.read_bytes() for p in sorted(nodes.home_folder.iterdir()) if p.is_file())
    for secret in (MARKER, VIN, "2026-06-01T10:20", "2026-06-01T10:19"):  # owner, VIN, the last sample's time
        assert secret.encode() not in home_bytes
    eu_bytes = b"".join(p.read_bytes() for p in sorted(nodes.eu_folder.iterdir()) if p.is_file())
    assert VIN.encode() in eu_bytes and MARKER.encode() in eu_bytes


def test_a_policy_edit_governs_the_next_summary(nodes: Nodes, tmp_path: Path) -> None:
    shipped = resources.files("roadpass.regions").joinpath("transfer-policies.yaml").read_text("utf-8")
    edited = tmp_path / "transfer-policies.yaml"
    edited.write_text(shipped.replace(
        "    - {from: eu-central, to: cn-east, decision: allow, basis: eu-batt-passport}\n", ""), encoding="utf-8")
    nodes.eu.regions.policy_path = edited
    nodes.health.update(PACK, until_us=nodes.signals.drive(T0, 80, soh=91.0), force=True)
    assert soce(nodes.eu)["stateOfCertifiedEnergyValue"] == 91.0 and nodes.eu.health_relay.outbox() == []
    # A broken edit stops the relay (as it stops every transfer); the passport here is written all the same.
    edited.write_text(shipped.replace("basis: eu-batt-passport}", "basis: nowhere}"), encoding="utf-8")
    nodes.health.update(PACK, until_us=nodes.signals.drive(T0 + 24 * 60 * MIN, 80, soh=90.0), force=True)
    assert soce(nodes.eu)["stateOfCertifiedEnergyValue"] == 90.0 and nodes.eu.health_relay.outbox() == []
    edited.write_text(shipped, encoding="utf-8")  # fixed: the next update crosses again
    nodes.health.update(PACK, until_us=nodes.signals.drive(T0 + 48 * 60 * MIN, 80, soh=89.0), force=True)
    assert [r.summary["stateOfCertifiedEnergy"] for r in nodes.eu.health_relay.outbox()] == [89.0]
