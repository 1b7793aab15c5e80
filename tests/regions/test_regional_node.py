"""A regional node on SQLite and PostgreSQL: the residency audit of its own store, ``GET /nodes``, and the
``nodes status`` / ``residency audit`` commands."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from access_helpers import api_headers
from cli_helpers import run_cli
from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.regions.pseudonymise import Pseudonymiser
from roadpass.settings import Settings

MARKER = "OWNER-MARKER-0b7d"
VEHICLE = "https://id.gs1.org/8004/40123451HGCM82633A004352"
PEERS = [{"node": "frankfurt", "region": "eu-central", "url": "http://127.0.0.1:9", "party": "frankfurt-node"}]
KEY = "ab" * 32
FROM_FRANKFURT = "party:frankfurt-node/key:1"


def _event(second: int, parent: str, **extra: Any) -> dict[str, Any]:
    return {"type": "AggregationEvent", "action": "ADD", "bizStep": "repairing",
            "eventTime": f"2026-11-02T10:00:{second:02d}Z", "eventTimeZoneOffset": "+01:00", "parentID": parent,
            "childEPCs": [f"https://id.gs1.org/01/09521234543213/21/P{second}"], **extra}


def _capture(node: Roadpass, events: list[dict[str, Any]], actor: str) -> None:
    node.trace.capture({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
                                     {"example": "https://example.org/owner/"}],
                        "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-02T10:00:00Z",
                        "epcisBody": {"eventList": events}}, actor=actor)


@pytest.fixture
def home(database_url: str) -> Iterator[Roadpass]:
    """The maker's home node (cn-east) with Frankfurt as its peer."""
    node = bootstrap(Settings(database_url=database_url, environment="test", region="cn-east", node_id="home",
                              peers=PEERS, pseudonym_key=KEY))
    yield node
    node.close()


def test_the_audit_finds_what_frankfurt_could_not_have_sent_and_nothing_else(home: Roadpass) -> None:
    pseudonym = Pseudonymiser("eu-central", bytes.fromhex("cd" * 32)).pseudonym(VEHICLE)
    # As Frankfurt's projection sends it: pseudonyms only, no extension.
    proper = _event(1, pseudonym)
    proper["childEPCs"] = [Pseudonymiser("eu-central", bytes.fromhex("cd" * 32)).pseudonym(proper["childEPCs"][0])]
    _capture(home, [proper], FROM_FRANKFURT)
    # A raw VIN and an owner's name that arrived from Frankfurt (say, by hand): findings.
    _capture(home, [_event(2, VEHICLE, **{"example:owner": {"example:name": MARKER}})], FROM_FRANKFURT)
    # The home node's own capture of the same: at home, nothing to find.
    _capture(home, [_event(3, VEHICLE, **{"example:owner": {"example:name": MARKER}})], "test")
    report = home.regions.audit()
    assert report.scanned["epcis_event"] == 3
    found = {(f.field, f.origin, f.data_class) for f in report.findings}
    assert found == {("parentID", "eu-central", "pseudonymous"), ("childEPCs", "eu-central", "pseudonymous"),
                     ("example:owner", "eu-central", "personal")}
    assert {f.row for f in report.findings} == {2}
    owner = next(f for f in report.findings if f.field == "example:owner")
    assert owner.decision == "deny" and owner.basis == "gdpr-art-44"


def test_get_nodes_names_this_node_its_region_and_its_peers(home: Roadpass) -> None:
    with TestClient(create_app(roadpass=home), headers=api_headers(home, "authority", markets=["CN"])) as client:
        answer = client.get("/nodes")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["node"] == "home" and body["region"] == "cn-east" and body["policyVersion"]
        assert body["peers"][0]["node"] == "frankfurt" and body["peers"][0]["outboxDepth"] == 0
    with TestClient(create_app(roadpass=home)) as anonymous:
        assert anonymous.get("/nodes").status_code == 401


@pytest.mark.usefixtures("fresh_cli_state")
def test_nodes_status_and_residency_audit_on_the_command_line(database_url: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"REGION": "cn-east", "NODE_ID": "home", "PEERS": orjson.dumps(PEERS).decode(),
                        "PSEUDONYM_KEY": KEY, "ENVIRONMENT": "test"}.items():
        monkeypatch.setenv(f"ROADPASS_{name}", value)
    code, status = run_cli(database_url, "nodes", "status", "--json")
    assert code == 0 and status["region"] == "cn-east" and status["peers"][0]["region"] == "eu-central"
    code, clean = run_cli(database_url, "residency", "audit", "--json")
    assert code == 0 and clean["findings"] == []
    node = bootstrap(Settings(database_url=database_url, environment="test", region="cn-east", peers=PEERS,
                              pseudonym_key=KEY))
    try:
        _capture(node, [_event(4, VEHICLE)], FROM_FRANKFURT)
    finally:
        node.close()
    code, report = run_cli(database_url, "residency", "audit", "--json")
    assert code == 1 and {f["field"] for f in report["findings"]} == {"parentID", "childEPCs"}
    code, text = run_cli(database_url, "residency", "audit")
    assert code == 1 and "parentID" in str(text) and "cn-east" in str(text)
