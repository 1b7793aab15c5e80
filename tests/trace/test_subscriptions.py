"""Subscription rules, without a database: requests, destinations, schedules, signatures, documents, retries."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from roadpass.trace import subscriptions as rules
from roadpass.trace.subscriptions import Subscription, SubscriptionRejected, parse_request
from roadpass.trace.views import EPCIS_CONTEXT, query_document

_LOCAL = "http://127.0.0.1:9999/hook"


def _paths(body: object, hosts: tuple[str, ...] = ()) -> dict[str, str]:
    with pytest.raises(SubscriptionRejected) as caught:
        parse_request(body, allowed_hosts=hosts)
    return {p.path: p.reason for p in caught.value.problems}


def test_stream_request_is_accepted() -> None:
    req = parse_request({"dest": _LOCAL, "signatureToken": "s3cret", "stream": True,
                         "initialRecordTime": "2026-01-01T00:00:00Z"}, allowed_hosts=())
    assert req.stream and req.schedule is None and req.signature_token == "s3cret"
    assert req.initial_record_time == 1_767_225_600_000_000
    assert req.report_if_empty is False


def test_schedule_request_is_accepted() -> None:
    req = parse_request({"dest": _LOCAL, "reportIfEmpty": True, "schedule": {"hour": "1", "minute": "5,[10-20]"}},
                        allowed_hosts=())
    assert not req.stream and req.schedule == {"hour": "1", "minute": "5,[10-20]"} and req.report_if_empty


def test_neither_stream_nor_schedule_is_refused_naming_stream() -> None:
    problems = _paths({"dest": _LOCAL})
    assert "stream" in problems["$.stream"] and "schedule" in problems["$.stream"]
    assert "$.stream" in _paths({"dest": _LOCAL, "stream": False})


def test_both_stream_and_schedule_is_refused() -> None:
    assert "$.stream" in _paths({"dest": _LOCAL, "stream": True, "schedule": {"hour": "1"}})


@pytest.mark.parametrize("dest", ["https://evil.example.com/x", "ftp://127.0.0.1/x", "not a url",
                                  "http://user:pw@127.0.0.1/x", "http://10.0.0.1/x", 5])
def test_forbidden_destinations_are_refused_naming_dest(dest: object) -> None:
    assert "$.dest" in _paths({"dest": dest, "stream": True})


def test_listed_and_loopback_hosts_are_allowed() -> None:
    assert rules.check_dest("https://Hooks.Example.com/in", ["hooks.example.com"]) is None
    assert rules.check_dest("http://localhost:8080/", []) is None
    assert rules.check_dest("http://[::1]:8080/", []) is None
    reason = rules.check_dest("https://hooks.example.com/in", [])
    assert reason is not None and "ROADPASS_SUBSCRIPTION_ALLOWED_HOSTS" in reason


def test_every_problem_is_named_at_once() -> None:
    problems = _paths({"dest": "gopher://x", "reportIfEmpty": "yes", "extra": 1, "signatureToken": 3,
                       "initialRecordTime": "yesterday", "schedule": {"hour": "25", "fortnight": "1"}})
    assert set(problems) == {"$.dest", "$.reportIfEmpty", "$.extra", "$.signatureToken", "$.initialRecordTime",
                             "$.schedule.hour", "$.schedule.fortnight"}
    assert _paths([]) == {"$": "a subscription is a JSON object with dest and either stream or schedule"}


def test_signature_is_hex_hmac_sha256_of_the_body() -> None:
    body = b'{"type":"EPCISQueryDocument"}'
    assert rules.signature(body, "tok") == hmac.new(b"tok", body, hashlib.sha256).hexdigest()
    assert rules.signature(body, "tok") != rules.signature(body + b" ", "tok")


def test_delivery_document_is_a_query_document() -> None:
    doc = query_document([{"eventID": "ni:///a"}], [[{"ex": "https://ex.org/"}]], "MyQuery", 0)
    assert doc["type"] == "EPCISQueryDocument"
    assert doc["@context"] == [EPCIS_CONTEXT, {"ex": "https://ex.org/"}]
    assert doc["creationDate"] == "1970-01-01T00:00:00.000Z"
    assert doc["epcisBody"]["queryResults"] == {"queryName": "MyQuery",
                                                "resultsBody": {"eventList": [{"eventID": "ni:///a"}]}}


def test_retry_backoff_grows_and_is_capped() -> None:
    delays = [rules.retry_delay_us(n) for n in range(40)]
    assert delays[0] == 0 and delays[1] == 1_000_000 and delays[2] == 2_000_000 and delays[3] == 4_000_000
    assert delays == sorted(delays) and max(delays) == 600_000_000


def test_413_halves_the_batch_down_to_one() -> None:
    assert rules.smaller_batch(500) == 250
    assert rules.smaller_batch(1) == 1


def test_subscription_json_hides_the_token_and_shows_state() -> None:
    req = parse_request({"dest": _LOCAL, "signatureToken": "s3cret", "stream": True}, allowed_hosts=())
    sub = Subscription(id="abc", query_name="Q", party_id=3, party="p", request=req, actor="a", created_at=0,
                       last_notified_at=1_000, failures=2)
    shown = sub.as_json()
    assert "signatureToken" not in shown and "s3cret" not in str(shown)
    assert shown["stream"] is True and shown["lastNotifiedAt"] == "1970-01-01T00:00:00.001Z" and shown["failures"] == 2
    assert sub.visible_to(3) and sub.visible_to(None) and not sub.visible_to(4)
