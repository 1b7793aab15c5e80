"""A subscription whose destination is no peer, on a node with a region: projected as for a foreign region no
rule names — only non-personal data crosses (GDPR Art. 44: no Chapter V basis can be shown for a destination
in no known region), and the transfer is recorded and ledgered like one to a peer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.regions.model import DataClass, Decision
from roadpass.regions.policy import load_classification, load_policy, load_regions
from roadpass.regions.projection import Border
from roadpass.regions.pseudonymise import Pseudonymiser
from roadpass.regions.transfer import UNKNOWN_REGION, project_page, unknown_destination_policy
from roadpass.settings import Settings
from roadpass.trace.capture_plan import now_us

KEY = "ef" * 32
VEHICLE = "https://id.gs1.org/8004/40123451HGCM82633A004352"
MARKER = "OWNER-MARKER-77c2"
PEERS = [{"node": "home", "region": "cn-east", "url": "http://127.0.0.1:9"}]
ELSEWHERE = "http://127.0.0.1:7/capture"  # no peer's url: a destination in no known region


def _built(second: int) -> dict[str, Any]:
    """A build-record event (non-personal: a pack commissioned at a plant)."""
    return {"type": "ObjectEvent", "action": "ADD", "bizStep": "commissioning",
            "eventTime": f"2026-11-02T09:00:{second:02d}Z", "eventTimeZoneOffset": "+01:00",
            "epcList": [f"https://id.gs1.org/01/09521234543213/21/B{second}"],
            "bizLocation": {"id": "urn:epc:id:sgln:4012345.00001.0"}}


def _in_use(second: int) -> dict[str, Any]:
    """A vehicle in use (repairing): pseudonymous identifiers and its owner's name in a user extension."""
    return {"type": "AggregationEvent", "action": "ADD", "bizStep": "repairing",
            "eventTime": f"2026-11-02T10:00:{second:02d}Z", "eventTimeZoneOffset": "+01:00", "parentID": VEHICLE,
            "childEPCs": [f"https://id.gs1.org/01/09521234543213/21/P{second}"],
            "example:owner": {"example:name": MARKER}}


def _border(origin: str) -> Border:
    regions = load_regions()
    return Border(origin, UNKNOWN_REGION, unknown_destination_policy(load_policy(regions=regions)),
                  load_classification(regions=regions), Pseudonymiser(origin, bytes.fromhex(KEY)))


@pytest.mark.parametrize("origin", ["eu-central", "me-central", "ap-southeast", "na-central", "cn-east"])
def test_only_non_personal_data_goes_to_a_destination_that_is_no_peer(origin: str) -> None:
    policy = _border(origin).policy
    assert policy.decide(origin, UNKNOWN_REGION, DataClass.NON_PERSONAL).decision is Decision.ALLOW
    for data_class in (DataClass.PERSONAL, DataClass.PSEUDONYMOUS, DataClass.IMPORTANT_DATA):
        rule = policy.decide(origin, UNKNOWN_REGION, data_class)
        assert rule.decision is Decision.DENY and rule.basis == "unknown-destination", data_class
        assert "Art. 44" in rule.citation


def test_the_build_record_crosses_and_a_vehicle_in_use_stays_home() -> None:
    sent, summary = project_page([_built(1), _in_use(2)], _border("eu-central"))
    assert [event["bizStep"] for event in sent] == ["commissioning"]
    assert sent[0]["epcList"] == _built(1)["epcList"]  # the build record as it is: no pseudonym needed
    body = summary.as_json()
    assert body["destination"] == UNKNOWN_REGION and body["withheld"] == 1
    assert body["removed"]["example:owner"] == 1 and body["removed"]["parentID"] == 1
    assert body["bases"]["pseudonymous"].startswith("deny: unknown-destination")
    assert MARKER not in orjson.dumps(sent).decode() and VEHICLE not in orjson.dumps(sent).decode()


def test_the_build_record_of_china_crosses_but_a_location_there_is_important_data() -> None:
    located = {**_built(3), "readPoint": {"id": "geo:31.2304,121.4737"}}
    sent, summary = project_page([located], _border("cn-east"))
    assert sent and "readPoint" not in sent[0]
    assert summary.as_json()["bases"]["important_data"].startswith("deny: unknown-destination")


@pytest.fixture
def frankfurt(database_url: str) -> Iterator[Roadpass]:
    """Frankfurt (eu-central) with the home node as its only peer."""
    node = bootstrap(Settings(database_url=database_url, environment="test", region="eu-central",
                              node_id="frankfurt", peers=PEERS, pseudonym_key=KEY))
    yield node
    node.close()


def test_a_subscription_to_no_peer_is_projected_recorded_and_ledgered(frankfurt: Roadpass) -> None:
    posted: list[bytes] = []

    def post(dest: str, body: bytes, headers: dict[str, str]) -> int:
        assert dest == ELSEWHERE
        posted.append(body)
        return 202

    frankfurt.subscriptions.webhook.post = post  # type: ignore[method-assign]
    maker = frankfurt.admin.create_party(actor="test", key="maker", name="Maker Europe", role="manufacturer",
                                         country="DE", gcp="4012345")
    frankfurt.queries.create({"name": "everything", "query": {}}, actor="test", party_id=maker.id)
    frankfurt.subscriptions.create("everything", {"dest": ELSEWHERE, "stream": True}, actor="test",
                                   party_id=maker.id)
    frankfurt.trace.capture({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
                                          {"example": "https://example.org/owner/"}],
                             "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-02T10:00:00Z",
                             "epcisBody": {"eventList": [_built(1), _in_use(2)]}}, actor="test")
    frankfurt.subscriptions.enqueue_streams()
    frankfurt.subscriptions.deliver_due(now_us() + 3_600_000_000)
    assert posted
    delivered = b"".join(posted)
    assert MARKER.encode() not in delivered and VEHICLE.encode() not in delivered
    events = [e for body in posted for e in orjson.loads(body)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]
    assert {e["bizStep"] for e in events} == {"commissioning"}
    transfers = frankfurt.regions.transfers_to("external:127.0.0.1:7")
    assert transfers and transfers[0].destination == UNKNOWN_REGION
    assert sum(t.events for t in transfers) == 2 and sum(t.sent for t in transfers) == 1
    ledgered = frankfurt.ledger.recent(limit=20, actor="node:frankfurt")
    assert ledgered and {e.action for e in ledgered} == {"regions.transfer"}
