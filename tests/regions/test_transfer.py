"""The node-to-node pieces without a database: peers as configured, a page projected for a peer with its
summary, the region's key, the settings that refuse an unsafe node, the policy read again on change, and the
audit of master data."""

from __future__ import annotations

import json
import os
import stat
from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from roadpass.regions.audit import audit_item, origin_of
from roadpass.regions.keys import node_directory, region_key
from roadpass.regions.policy import PolicyError, load_classification, load_policy, load_regions
from roadpass.regions.ports import StoredItem, TransferRecords
from roadpass.regions.projection import Border
from roadpass.regions.pseudonymise import Pseudonymiser
from roadpass.regions.service import RegionService
from roadpass.regions.transfer import Peer, parse_peers, project_page
from roadpass.settings import Settings

REGIONS = load_regions()
POLICY = load_policy(regions=REGIONS)
CLASSES = load_classification(regions=REGIONS)
VIN = "https://id.gs1.org/8004/40123451HGCM82633A004352"
MARKER = "OWNER-MARKER-91aa"


def _border(origin: str, destination: str) -> Border:
    return Border(origin, destination, POLICY, CLASSES, Pseudonymiser(origin, b"k" * 32))


def _event(step: str, i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": "ObjectEvent", "action": "OBSERVE", "bizStep": step, "eventTime": "2026-11-02T10:00:00Z",
            "eventID": f"urn:uuid:00000000-0000-4000-8000-{i:012d}", "epcList": [VIN], **extra}


class _NoStore:
    """Transactions the tests here never open."""

    def read(self) -> AbstractContextManager[TransferRecords]:
        raise AssertionError("no store here")

    def write(self) -> AbstractContextManager[TransferRecords]:
        raise AssertionError("no store here")


def test_peers_are_checked_and_a_mistake_names_its_path() -> None:
    peers = parse_peers([{"node": "home", "region": "cn-east", "url": "https://home.example", "party": "eu"}], REGIONS)
    assert peers[0].serves("https://home.example/capture") and not peers[0].serves("https://home.example.evil/x")
    for wrong, path in (([{"node": "x", "region": "mars", "url": "https://x"}], "peers[0].region"),
                        ([{"node": "x", "region": "cn-east", "url": "ftp://x"}], "peers[0].url"),
                        ([{"region": "cn-east", "url": "https://x"}], "peers[0].node"),
                        ([{"node": "x", "region": "cn-east", "url": "https://x"}] * 2, "peers[1].node")):
        with pytest.raises(PolicyError) as raised:
            parse_peers(wrong, REGIONS)
        assert raised.value.path == path


def test_a_page_for_the_home_node_is_pseudonymised_and_summarised() -> None:
    page = [_event("retail_selling", 1, **{"example:owner": MARKER}), _event("assembling", 2)]
    sent, summary = project_page(page, _border("eu-central", "cn-east"))
    assert len(sent) == 2 and MARKER not in json.dumps(sent) and VIN not in json.dumps(sent[0])
    assert sent[1]["epcList"] == [VIN]  # the build record crosses as it is
    body = summary.as_json()
    assert body["events"] == 2 and body["sent"] == 2 and body["withheld"] == 0
    assert body["removed"] == {"example:owner": 1} and body["pseudonymised"] == {"epcList": 1}
    assert body["bases"]["pseudonymous"] == "allow_pseudonymised: eu-scc"


def test_for_riyadh_only_counts_remain() -> None:
    sent, summary = project_page([_event("repairing", i) for i in range(3)], _border("eu-central", "me-central"))
    assert sent == [] and summary.as_json()["aggregatesByBizStep"] == {"repairing": 3}


@given(steps=st.lists(st.sampled_from(["repairing", "assembling", "shipping", "recycling"]), max_size=6),
       destination=st.sampled_from(sorted(REGIONS)))
def test_a_page_never_grows_and_its_summary_adds_up(steps: list[str], destination: str) -> None:
    page = [_event(step, i, **{"example:x": MARKER}) for i, step in enumerate(steps)]
    sent, summary = project_page(page, _border("eu-central", destination))
    body = summary.as_json()
    assert body["sent"] == len(sent) <= len(page) and body["sent"] + body["withheld"] == len(page)
    assert body["withheld"] == sum(body["aggregatesByBizStep"].values())
    if destination != "eu-central":
        assert MARKER not in json.dumps(sent)


def test_the_region_key_is_made_once_kept_private_and_never_the_configured_one(tmp_path: Path) -> None:
    made = region_key(None, directory=tmp_path / "node", region="eu-central")
    assert len(made) == 32 and region_key(None, directory=tmp_path / "node", region="eu-central") == made
    key_file = tmp_path / "node" / "pseudonym-key-eu-central.hex"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "node").iterdir()) == [key_file.name]
    assert region_key("ab" * 32, directory=tmp_path / "other", region="eu-central") == b"\xab" * 32
    for wrong in ("zz" * 32, "ab" * 8):
        with pytest.raises(ValueError, match="ROADPASS_PSEUDONYM_KEY"):
            region_key(wrong, directory=tmp_path, region="eu-central")
    assert node_directory(f"sqlite:///{tmp_path}/n.sqlite3") == tmp_path


def test_a_production_node_with_a_region_needs_its_key() -> None:
    with pytest.raises(ValidationError, match="ROADPASS_PSEUDONYM_KEY"):
        Settings(environment="production", secret_key="s" * 40, region="eu-central")
    assert Settings(environment="production", secret_key="s" * 40, region="eu-central", pseudonym_key="ab" * 32)


def test_an_unknown_region_or_a_missing_key_refuses_to_start() -> None:
    with pytest.raises(PolicyError, match="ROADPASS_REGION"):
        RegionService(_NoStore(), region="atlantis", node_id=None, key=b"k" * 32, policy_path=None, peers=[])
    with pytest.raises(PolicyError, match="ROADPASS_PSEUDONYM_KEY"):
        RegionService(_NoStore(), region="eu-central", node_id=None, key=None, policy_path=None, peers=[])


def test_a_policy_edit_is_read_for_the_next_transfer(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    shipped = resources.files("roadpass.regions").joinpath("transfer-policies.yaml").read_text("utf-8")
    path.write_text(shipped, encoding="utf-8")
    service = RegionService(_NoStore(), region="eu-central", node_id="fra", key=b"k" * 32, policy_path=path,
                            peers=[{"node": "home", "region": "cn-east", "url": "https://home.example"}])
    assert service.policy().version == "2026-12-06"
    path.write_text(shipped.replace("version: 2026-12-06", "version: 2027-01-01-suspended"), encoding="utf-8")
    assert service.policy().version == "2027-01-01-suspended"
    assert service.border(service.peer("home")).policy.version == "2027-01-01-suspended"
    path.write_text("borders: [{from: eu-central, to: mars}]", encoding="utf-8")
    for _ in range(2):  # a broken policy stops transfers until it is fixed; it does not let anything through
        with pytest.raises(PolicyError):
            service.policy()


def test_master_data_of_a_person_from_another_region_is_a_finding() -> None:
    peers = (Peer("fra", "eu-central", "https://fra.example", party="fra-node"),)
    assert origin_of("party:fra-node/key:7", peers, "cn-east") == "eu-central"
    assert origin_of("party:maker/key:1", peers, "cn-east") == "cn-east"
    site = StoredItem("master_data", 1, "party:fra-node/key:7", {
        "type": "urn:epcglobal:epcis:vtype:BusinessLocation", "id": "urn:epc:id:sgln:4012345.00001.0",
        "attributes": {"urn:epcglobal:cbv:mda#name": "Workshop", "example:contactEmail": "a@b.example"}})
    findings = audit_item(site, origin="eu-central", here="cn-east", policy=POLICY, classification=CLASSES)
    assert [(f.field, f.data_class, f.decision) for f in findings] == [
        ("contact:example:contactEmail", "personal", "deny")]
    assert audit_item(site, origin="cn-east", here="cn-east", policy=POLICY, classification=CLASSES) == []
