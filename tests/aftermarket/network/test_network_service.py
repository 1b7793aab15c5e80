"""The repair network service on both databases: registry, requests, immediate revocation, who sees which
access, the same non-security information for everyone, and every write in the ledger."""

from __future__ import annotations

import time

import pytest

from roadpass.aftermarket.network.service import NetworkError, NotFound, Viewer
from roadpass.bootstrap import Roadpass
from roadpass.demo.fleet import FleetSpec
from roadpass.demo.load import load_fleet
from roadpass.trace.query import parse_event_query

DAY = 86_400_000_000
ACTOR = "test"


def _now() -> int:
    return time.time_ns() // 1000


def a_vin(app: Roadpass) -> tuple[str, str]:
    """(VIN, market) of a vehicle of the fleet."""
    events = app.trace.events(parse_event_query({"eventType": "AggregationEvent", "perPage": "1000"}))[0]
    for event in events:
        unit = app.trace.resolve(event["parentID"]) if event.get("parentID") else None
        if unit is not None and unit.vin:
            return unit.vin, app.trace.unit_market(unit.id) or ""
    raise AssertionError("no vehicle in the fleet")


@pytest.fixture
def fleet(app: Roadpass) -> Roadpass:
    load_fleet(app, FleetSpec(vehicles=4))
    return app


def _independent(app: Roadpass, party: str = "workshop_de_1") -> str:
    """Register ``party`` as an approved independent operator with one authorised person; the person's key."""
    now = _now()
    network = app.repair_network
    network.register_repairer(actor=ACTOR, party_key=party, kind="independent", brands=["Lanxing"], markets=["DE"])
    network.record_approval(actor=ACTOR, party_key=party, assessing_body="CAB (test)", country="DE",
                            valid_from=now - DAY, valid_until=now + 300 * DAY)
    person = network.authorise_person(
        actor=ACTOR, party_key=party, person_name="Test Person", person_email="person@test.example",
        identity_checked_by="CAB (test)", identity_checked_at=now - DAY, residence_country="DE",
        valid_from=now - DAY, valid_until=now + 300 * DAY)
    return person.authorisation_key


def test_a_granted_credential_works_until_its_holder_is_revoked_then_stops_at_once(fleet: Roadpass) -> None:
    network = fleet.repair_network
    key = _independent(fleet)
    vin, market = a_vin(fleet)
    grant = network.request_access(actor=ACTOR, authorisation_key=key, vin=vin, function="key_programming",
                                   caller_party="workshop_de_1", caller_email="person@test.example")
    assert grant.request.granted and grant.credential
    assert grant.request.maker_key == "lanxing" and grant.request.market == market
    assert network.use_credential(actor=ACTOR, token=grant.credential, vin=vin, function="key_programming").accepted
    wrong = network.use_credential(actor=ACTOR, token=grant.credential, vin=vin, function="immobiliser")
    assert not wrong.accepted and "not immobiliser" in wrong.reason
    network.revoke(actor=ACTOR, authorisation_key=key, reason="left the company")
    after = network.use_credential(actor=ACTOR, token=grant.credential, vin=vin, function="key_programming")
    assert not after.accepted and "revoked" in after.reason
    again = network.request_access(actor=ACTOR, authorisation_key=key, vin=vin, function="key_programming",
                                   caller_party="workshop_de_1")
    assert not again.request.granted and again.credential is None
    with pytest.raises(NotFound):
        network.use_credential(actor=ACTOR, token="rpsc_nothing", vin=vin, function="key_programming")
    actions = [e.action for e in fleet.ledger.recent(limit=50)]
    for action in ("sermi.request.granted", "sermi.request.refused", "sermi.use.accepted", "sermi.use.refused",
                   "sermi.authorisation.revoke", "sermi.authorisation.grant", "sermi.approval.active",
                   "repairer.register"):
        assert action in actions, action
    assert fleet.ledger.verify().ok


def test_someone_elses_authorisation_or_email_is_refused(fleet: Roadpass) -> None:
    key = _independent(fleet)
    vin, _ = a_vin(fleet)
    network = fleet.repair_network
    other = network.request_access(actor=ACTOR, authorisation_key=key, vin=vin, function="immobiliser",
                                   caller_party="workshop_de_2")
    assert not other.request.granted and "another repairer" in other.request.reason
    stranger = network.request_access(actor=ACTOR, authorisation_key=key, vin=vin, function="immobiliser",
                                      caller_party="workshop_de_1", caller_email="someone@else.example")
    assert not stranger.request.granted


def test_the_maker_sees_every_access_an_authority_its_market_a_repairer_its_own(fleet: Roadpass) -> None:
    key = _independent(fleet)
    vin, market = a_vin(fleet)
    network = fleet.repair_network
    network.request_access(actor=ACTOR, authorisation_key=key, vin=vin, function="key_programming",
                           caller_party="workshop_de_1")
    seen = {
        "maker": Viewer("lanxing", "manufacturer"), "other maker": Viewer("someone", "manufacturer"),
        "authority here": Viewer("msa", "authority", frozenset({market})),
        "authority elsewhere": Viewer("msa", "authority", frozenset({"ZZ"})),
        "the repairer": Viewer("workshop_de_1", "repairer"), "another repairer": Viewer("workshop_de_2", "repairer"),
        "operator": Viewer(None, "operator", everything=True),
    }
    counts = {name: len(network.accesses(viewer)) for name, viewer in seen.items()}
    assert counts == {"maker": 1, "other maker": 0, "authority here": 1, "authority elsewhere": 0,
                      "the repairer": 1, "another repairer": 0, "operator": 1}


def test_authorised_and_independent_repairers_get_the_same_information(fleet: Roadpass) -> None:
    network = fleet.repair_network
    network.register_repairer(actor=ACTOR, party_key="workshop_de_2", kind="authorised")
    _independent(fleet)
    vin, _ = a_vin(fleet)
    answer = network.rmi(vin)
    assert answer["known"] and answer["information"]
    assert all(item["key"] not in {"key_programming", "immobiliser"} for item in answer["information"])
    # rmi() takes no caller at all: no answer can differ by who asks (Reg. (EU) 2018/858 Art. 61(1)).
    assert "caller" not in network.rmi.__code__.co_varnames


def test_registry_refuses_bad_input_naming_the_field(fleet: Roadpass) -> None:
    network = fleet.repair_network
    bad = {
        "party": lambda: network.register_repairer(actor=ACTOR, party_key="lanxing", kind="authorised"),
        "kind": lambda: network.register_repairer(actor=ACTOR, party_key="workshop_de_1", kind="friendly"),
        "markets": lambda: network.register_repairer(actor=ACTOR, party_key="workshop_de_1", kind="authorised",
                                                     markets=["Germany"]),
        "gln": lambda: network.add_site(actor=ACTOR, party_key="workshop_de_1", gln="4261181000011", name="x"),
    }
    network.register_repairer(actor=ACTOR, party_key="workshop_de_2", kind="authorised")
    bad["party-approval"] = lambda: network.record_approval(
        actor=ACTOR, party_key="workshop_de_2", assessing_body="CAB", country="DE", valid_from=0, valid_until=1)
    for field, call in bad.items():
        with pytest.raises(NetworkError) as caught:
            call()
        assert caught.value.field == field.split("-")[0]


def test_a_new_approval_status_is_a_new_version_and_takes_effect(fleet: Roadpass) -> None:
    key = _independent(fleet)
    vin, _ = a_vin(fleet)
    network = fleet.repair_network
    approval = network.network()[0]["approvals"][0]
    withdrawn = network.record_approval(
        actor=ACTOR, party_key="workshop_de_1", assessing_body=approval.assessing_body, country="DE",
        valid_from=approval.valid_from, valid_until=approval.valid_until, status="withdrawn",
        approval_key=approval.approval_key)
    assert withdrawn.version == 2
    refused = network.request_access(actor=ACTOR, authorisation_key=key, vin=vin, function="door_locks",
                                     caller_party="workshop_de_1")
    assert not refused.request.granted and "withdrawn" in refused.request.reason
    assert fleet.ledger.verify().ok
