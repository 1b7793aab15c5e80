"""The capture hot path memoises identifiers, renderings and clock times: its results must not depend on
what the memos hold (cold, warm, cleared mid-way) nor on which documents came before."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roadpass.demo.fleet import FleetSpec, generate_fleet
from roadpass.trace import identifiers
from roadpass.trace.capture import ParsedCapture, parse_capture, parse_for_storage
from roadpass.trace.epcis import _prehash, _values
from roadpass.trace.epcis.event_hash import prehash_string
from roadpass.trace.identifiers import IdentifierError, canonical_id, canonical_memo, hash_canonical_id

CONTEXT: list[Any] = [
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    {"rp": "https://roadpass.dev/ns/epcis/"},
]


def _clear_memos() -> None:
    identifiers._CANONICAL.clear()
    identifiers._SGTIN_HEADS.clear()
    _prehash._ctx_memo = None
    _values._utc_clock.cache_clear()
    _values._shifted_date.cache_clear()


def _snapshot(parsed: ParsedCapture) -> Any:
    events = [[(f.name, getattr(e, f.name)) for f in dataclasses.fields(e)] for e in parsed.events]
    return events, list(parsed.units.items()), parsed.problems, parsed.master_data, parsed.context


@pytest.fixture(scope="module")
def bodies() -> list[bytes]:
    return [orjson.dumps(doc) for doc in generate_fleet(FleetSpec(vehicles=40))]


@pytest.fixture
def cold() -> Iterator[None]:
    _clear_memos()
    yield
    _clear_memos()


def _parse_all(bodies: list[bytes]) -> list[Any]:
    out = []
    for body in bodies:
        parsed = parse_for_storage(body, 10000)
        assert isinstance(parsed, ParsedCapture)
        out.append(_snapshot(parsed))
    return out


@pytest.mark.usefixtures("cold")
def test_cold_warm_and_tiny_memos_parse_alike(bodies: list[bytes], monkeypatch: pytest.MonkeyPatch) -> None:
    cold = _parse_all(bodies)
    assert _parse_all(bodies) == cold  # every memo warm
    # Memos so small that they are cleared every few entries, in the middle of documents and events.
    monkeypatch.setattr(identifiers, "_MEMO_LIMIT", 3)
    monkeypatch.setattr(_prehash, "_EPC_LIMIT", 2)
    monkeypatch.setattr(_prehash, "_MEMO_LIMIT", 2)
    _clear_memos()
    assert _parse_all(bodies) == cold


@pytest.mark.usefixtures("cold")
def test_documents_with_other_prefixes_do_not_share_renderings() -> None:
    event = {
        "type": "ObjectEvent",
        "eventTime": "2025-01-01T00:30:00.000+01:00",
        "eventTimeZoneOffset": "+01:00",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017", "rp:unit-1"],
        "action": "OBSERVE",
        "rp:note": "rp:x",
    }
    other = [CONTEXT[0], {"rp": "https://other.example/"}]
    first = prehash_string(event, CONTEXT)
    assert "{https://roadpass.dev/ns/epcis/}note=https://roadpass.dev/ns/epcis/x" in first
    assert "epc=https://roadpass.dev/ns/epcis/unit-1" in first
    second = prehash_string(event, other)
    assert "{https://other.example/}note=https://other.example/x" in second
    assert "epc=https://other.example/unit-1" in second
    # Back to the first prefixes in a new (equal) context object: the same string as the first time.
    assert prehash_string(event, copy.deepcopy(CONTEXT)) == first
    assert prehash_string(event, None) == prehash_string(copy.deepcopy(event), None)


@pytest.mark.usefixtures("cold")
def test_only_accepted_identifiers_are_remembered() -> None:
    bad = "https://id.gs1.org/01/09506000134353/21/1"  # wrong GTIN check digit
    for _ in range(2):
        with pytest.raises(IdentifierError, match="check digit"):
            canonical_id(bad)
        # The event hash does not verify Digital Link check digits (as the reference).
        assert hash_canonical_id(bad) == bad
    assert bad not in canonical_memo()
    good = "urn:epc:id:sgtin:0614141.107346.2017"
    assert hash_canonical_id(good) == canonical_id(good) == "https://id.gs1.org/01/10614141073464/21/2017"
    assert canonical_memo()[good] == "https://id.gs1.org/01/10614141073464/21/2017"


@pytest.mark.usefixtures("cold")
def test_bad_identifier_is_reported_at_its_path_with_a_warm_memo() -> None:
    good = "urn:epc:id:sgtin:0614141.107346.2017"
    events = [
        {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
         "epcList": [good], "action": "OBSERVE"},
        {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
         "epcList": [good, "https://id.gs1.org/01/09506000134353/21/1"], "action": "OBSERVE"},
        {"type": "ObjectEvent", "eventTime": "2025-01-01T00:00:00", "eventTimeZoneOffset": "+00:00",
         "epcList": [good], "action": "OBSERVE"},
    ]  # fmt: skip
    document = {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
                "creationDate": "2025-01-01T00:00:00Z", "epcisBody": {"eventList": events}}  # fmt: skip
    parsed = parse_capture(document)
    assert [e.index for e in parsed.events] == [0]
    assert [(p.event_index, p.path) for p in parsed.problems] == [
        (1, "$.epcisBody.eventList[1].epcList[1]"),
        (2, "$.epcisBody.eventList[2].eventTime"),
    ]
    assert "check digit" in parsed.problems[0].reason
    assert "no time-zone offset" in parsed.problems[1].reason


def _reference_time(text: str) -> str:
    # Rules 8-9 straight from datetime: to UTC, microseconds rounded half-to-even to milliseconds.
    moment = datetime.fromisoformat(text)
    offset = moment.utcoffset()
    naive = moment.replace(tzinfo=None)
    micro = round(naive.microsecond, -3)
    if micro == 1_000_000:
        naive = naive.replace(microsecond=0) + timedelta(seconds=1)
    else:
        naive = naive.replace(microsecond=micro)
    if offset:
        naive -= offset
    return naive.isoformat(timespec="milliseconds") + "Z"


@given(
    moment=st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30)),
    minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    precision=st.sampled_from(["seconds", "milliseconds", "microseconds"]),
    zulu=st.booleans(),
)
@settings(max_examples=500, deadline=None)
def test_time_fast_path_matches_datetime(moment: datetime, minutes: int, precision: str, zulu: bool) -> None:
    local = moment.replace(tzinfo=timezone(timedelta(minutes=minutes)))
    text = local.isoformat(timespec=precision)
    if zulu:
        text = moment.replace(tzinfo=UTC).isoformat(timespec=precision).replace("+00:00", "Z")
    assert _values._fix_time(text) == _reference_time(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-02-24T07:00:00.000+08:00", "2025-02-23T23:00:00.000Z"),  # back across midnight
        ("2025-02-28T23:30:00-01:00", "2025-03-01T00:30:00.000Z"),  # forward across a month end
        ("2024-12-31T23:59:59.9995Z", "2025-01-01T00:00:00.000Z"),  # rounded up into a new year
        ("2025-02-29T10:00:00Z", "2025-02-29T10:00:00Z"),  # no such date: unchanged
        ("0001-01-01T00:10:00+01:00", "0001-01-01T00:10:00+01:00"),  # before year 1: unchanged
    ],
)
def test_time_edge_cases(text: str, expected: str) -> None:
    assert _values._fix_time(text) == expected


_digits = st.text("0123456789", min_size=0, max_size=14)
_serials = st.text("0123456789AZaz'-.;=_/%:!", min_size=0, max_size=22)


@given(cp=_digits, item=_digits, serial=_serials, dots=st.sampled_from([".", ""]))
@settings(max_examples=500, deadline=None)
def test_sgtin_fast_path_agrees_with_the_parser(cp: str, item: str, serial: str, dots: str) -> None:
    urn = f"urn:epc:id:sgtin:{cp}.{item}{dots}{serial}"
    fast = identifiers._fast_canonical(urn)
    if fast is not None:
        key = identifiers._parse(urn, True)
        assert key is not None and identifiers._dl_string(key) == fast
