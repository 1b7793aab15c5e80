"""The software report payload: what is kept, what is refused and why (by JSON path); property tests."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.telematics.software.reports import (
    MAX_FUTURE_US,
    ReportRejected,
    parse_report,
    payload_digest,
    report_json,
)
from roadpass.trace.timeutil import parse_time

NOW = parse_time("2026-12-01T08:05:00Z")


def _payload(**extra: object) -> bytes:
    body: dict[str, object] = {
        "reported_at": "2026-12-01T08:00:00Z",
        "ecus": [
            {"ecu": "cockpit", "part_number": "HX-CCU3-101", "software_version": "3.1.0", "rxswin": ["R10SWIN-2"]},
            {"part_number": "SV-VCU-121", "software_version": "1.4", "rxswin": ["R79SWIN-1", "R10SWIN-2"]},
        ],
    }
    body.update(extra)
    return orjson.dumps(body)


def _problems(payload: bytes) -> list[tuple[str, str]]:
    with pytest.raises(ReportRejected) as caught:
        parse_report(payload, NOW)
    return caught.value.problems


def test_a_report_is_parsed_with_the_vehicle_rxswin_set() -> None:
    report = parse_report(_payload(campaign={"id": "C1", "status": "success"}), NOW)
    assert report.reported_at == parse_time("2026-12-01T08:00:00Z")
    assert report.version_of("HX-CCU3-101") == "3.1.0"
    assert report.version_of("absent") is None
    assert report.rxswin == ("R10SWIN-2", "R79SWIN-1")
    assert report.claim is not None and report.claim.status == "success"
    assert report_json(report)["rxswin"] == ["R10SWIN-2", "R79SWIN-1"]


def test_every_problem_is_named_by_its_json_path() -> None:
    bad = orjson.dumps({
        "reported_at": "yesterday",
        "ecus": [{"part_number": "", "software_version": 3}, {"part_number": "A", "software_version": "1",
                                                                "rxswin": "R10"}, "x"],
        "campaign": {"id": "C1", "status": "done"},
        "extra": 1,
    })
    paths = {path for path, _ in _problems(bad)}
    assert paths == {"/extra", "/reported_at", "/ecus/0/part_number", "/ecus/0/software_version", "/ecus/1/rxswin",
                     "/ecus/2", "/campaign/status"}


def test_refusals_not_json_empty_inventory_duplicate_ecu_and_future_time() -> None:
    assert _problems(b"{not json")[0][0] == ""
    assert _problems(b"[]") == [("", "must be a JSON object")]
    assert [p for p, _ in _problems(_payload(ecus=[]))] == ["/ecus"]
    twice = [{"part_number": "A", "software_version": "1"}, {"part_number": "A", "software_version": "2"}]
    assert _problems(_payload(ecus=twice)) == [("/ecus/1/part_number", "'A' is reported twice")]
    with pytest.raises(ReportRejected, match="clock"):
        parse_report(_payload(), parse_time("2026-12-01T08:00:00Z") - MAX_FUTURE_US - 1)


def test_the_digest_is_of_the_bytes_received() -> None:
    assert payload_digest(_payload()) == payload_digest(_payload())
    assert payload_digest(_payload()) != payload_digest(_payload(campaign={"id": "C", "status": "failed"}))


def _outcome(payload: bytes) -> list[tuple[str, str]] | None:
    """None when the payload is kept, else its problems."""
    try:
        parse_report(payload, NOW)
    except ReportRejected as exc:
        return exc.problems
    return None


_text = st.text(min_size=1, max_size=20).filter(lambda s: s.strip() == s and bool(s))


@given(st.lists(st.tuples(_text, _text, st.lists(_text, max_size=3)), min_size=1, max_size=8, unique_by=lambda t: t[0]))
def test_round_trip_of_any_valid_inventory(ecus: list[tuple[str, str, list[str]]]) -> None:
    body = {"reported_at": "2026-12-01T08:00:00+01:00",
            "ecus": [{"part_number": p, "software_version": v, "rxswin": r} for p, v, r in ecus]}
    report = parse_report(orjson.dumps(body), NOW)
    assert [(e.part_number, e.software_version) for e in report.ecus] == [(p, v) for p, v, _ in ecus]
    assert set(report.rxswin) == {r for _, _, rs in ecus for r in rs}


@given(st.binary(max_size=200))
def test_any_bytes_are_kept_or_refused_with_reasons(payload: bytes) -> None:
    problems = _outcome(payload)
    assert problems is None or (problems and all(isinstance(p, str) and r for p, r in problems))


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=12))
def test_any_json_is_kept_or_refused_with_reasons(value: object) -> None:
    problems = _outcome(orjson.dumps(value))
    assert problems is None or problems
