"""The command line as a user runs it: every command with --json, against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import run_cli

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis"


pytestmark = pytest.mark.usefixtures("fresh_cli_state")




def test_capture_query_trace_and_verify(sqlite_url: str) -> None:
    example = str(EXAMPLES / "examples/Example_9.6.3-AggregationEvent.jsonld")
    code, out = run_cli(sqlite_url, "capture", example, "--json")
    assert code == 0 and out[0]["stored"] >= 1
    code, out = run_cli(sqlite_url, "capture", example, "--json")
    assert code == 0 and out[0]["stored"] == 0 and out[0]["duplicates"] >= 1
    code, out = run_cli(sqlite_url, "events", "--type", "AggregationEvent", "--json")
    assert code == 0 and out["events"]
    parent = out["events"][0]["parentID"]
    code, out = run_cli(sqlite_url, "trace", "as-built", parent, "--json")
    assert code == 0 and out["nodes"] >= 2
    child = out["tree"]["children"][0]["id"]
    code, out = run_cli(sqlite_url, "trace", "where-used", child, "--json")
    assert code == 0 and out["hits"]
    code, out = run_cli(sqlite_url, "ledger", "verify", "--json")
    assert code == 0 and out["ok"] is True
    code, out = run_cli(sqlite_url, "ledger", "show", "--json")
    assert code == 0 and out[0]["action"] == "epcis.capture"


def test_validate_names_event_and_path(sqlite_url: str) -> None:
    bad = str(EXAMPLES / "invalid-examples/Example-TransactionEvents-2020_07_03y.jsonld")
    code, out = run_cli(sqlite_url, "epcis", "validate", bad, "--json")
    assert code == 1
    assert out["valid"] is False and out["problems"][0]["eventIndex"] == 1


def test_hash_prints_one_hash_per_event(sqlite_url: str) -> None:
    source = EXAMPLES / "event-hash/epcisDocWithShippingAndTransportingEvent.jsonld"
    code, out = run_cli(sqlite_url, "epcis", "hash", str(source), "--json")
    assert code == 0
    assert out == source.with_suffix(".hashes").read_text().split()


def test_unknown_unit_and_bad_time_are_clear(sqlite_url: str) -> None:
    code, out = run_cli(sqlite_url, "trace", "as-built", "urn:epc:id:sgtin:0614141.107346.404", "--json")
    assert code == 2 and "no unit" in out["error"]
    code, out = run_cli(sqlite_url, "trace", "where-used", "LNXAB1234", "--at", "yesterday", "--json")
    assert code == 1 and "--at" in out["error"]


def test_demo_generates_a_fleet_once(sqlite_url: str) -> None:
    code, out = run_cli(sqlite_url, "demo", "--vehicles", "30", "--json")
    assert code == 0 and out["stored"] > 200
    code, out = run_cli(sqlite_url, "demo", "--if-empty", "--json")
    assert code == 0 and out["skipped"] is True
