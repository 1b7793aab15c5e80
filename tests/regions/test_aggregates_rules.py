"""The aggregates' rules without a database: threshold suppression (no delivered group below k, delivered plus
suppressed equal to what was withheld), batches that count each event once, the policy's section checked,
what a receiving node accepts, and the relay worker's back-off."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from roadpass.regions.aggregates import (
    AggregateInvalid,
    AggregateRules,
    GroupKey,
    build_batch,
    due,
    load_aggregate_rules,
    parse_delivery,
    threshold,
)
from roadpass.regions.policy import PolicyError, load_classification, load_policy, load_regions
from roadpass.regions.ports import TransferRow
from roadpass.regions.projection import Border
from roadpass.regions.pseudonymise import Pseudonymiser
from roadpass.regions.relay_worker import Backoff, RelayWorker
from roadpass.regions.transfer import project_page

RULES = AggregateRules(min_group_size=5, window_seconds=0, citation="test")
SHOP = "urn:epc:id:sgln:4012345.00001.0"


def transfer(groups: list[dict[str, Any]], *, id_: int = 1, at: int = 0) -> TransferRow:
    summary = {"aggregatesByBizStep": {g["bizStep"]: g["count"] for g in groups}, "aggregateGroups": groups,
               "bases": {"pseudonymous": "allow_aggregated: gdpr-anonymous"}}
    return TransferRow("riyadh", "eu-central", "me-central", "sub", "maker", "v1", 0, 0, summary, at, id_)


def group(step: str, day: str, n: int, *, prefix: str = "e", location: str | None = SHOP) -> dict[str, Any]:
    return {"bizStep": step, "day": day, "bizLocation": location, "count": n,
            "eventIDs": [f"{prefix}-{step}-{day}-{i}" for i in range(n)]}


def test_small_groups_are_suppressed_and_only_counted() -> None:
    kept, events, groups = threshold({"a": 7, "b": 1, "c": 4, "d": 5}, 5)
    assert kept == {"a": 7, "d": 5} and (events, groups) == (5, 2)


@given(st.dictionaries(st.text(max_size=3), st.integers(min_value=0, max_value=50), max_size=30),
       st.integers(min_value=2, max_value=20))
def test_no_delivered_group_is_below_k_and_nothing_is_lost(counts: dict[str, int], k: int) -> None:
    kept, suppressed_events, suppressed_groups = threshold(counts, k)
    assert all(n >= k for n in kept.values())
    assert sum(kept.values()) + suppressed_events == sum(counts.values())
    assert suppressed_groups == sum(1 for n in counts.values() if 0 < n < k)


_GROUPS = st.lists(st.tuples(st.sampled_from(["repairing", "retail_selling", "recycling"]),
                             st.sampled_from(["2026-11-01", "2026-11-02"]), st.integers(min_value=1, max_value=12),
                             st.sampled_from([SHOP, None])), max_size=12)


@given(st.lists(_GROUPS, min_size=1, max_size=5), st.integers(min_value=2, max_value=9))
def test_a_batch_delivers_no_group_below_k_and_accounts_for_every_withheld_event(
        pages: list[list[tuple[str, str, int, str | None]]], k: int) -> None:
    transfers = [transfer([group(s, d, n, prefix=f"t{t}g{g}", location=loc) for g, (s, d, n, loc) in enumerate(page)],
                          id_=t + 1) for t, page in enumerate(pages)]
    batch = build_batch(transfers, rules=AggregateRules(k, 0, "test"), policy_version="v1",
                        markets={SHOP: "DE"}, market_allowed=True)
    body = batch.as_json()
    assert all(g["count"] >= k for g in body["groups"])
    withheld = sum(n for page in pages for _s, _d, n, _l in page)
    assert sum(g["count"] for g in body["groups"]) + body["suppressed"]["events"] == withheld == body["withheld"]
    assert {g["market"] for g in body["groups"]} <= {"DE", None}


def test_an_event_counted_twice_by_retried_transfers_or_an_earlier_batch_is_counted_once() -> None:
    first = transfer([group("repairing", "2026-11-02", 6)], id_=1)
    retried = transfer([group("repairing", "2026-11-02", 6)], id_=2)  # the same events, projected again
    batch = build_batch([first, retried], rules=RULES, policy_version="v1", markets={SHOP: "DE"}, market_allowed=True)
    assert batch.groups == {GroupKey("DE", "repairing", "2026-11-02"): 6} and len(batch.event_ids) == 6
    later = build_batch([retried], rules=RULES, policy_version="v1", markets={}, market_allowed=True,
                        counted=batch.event_ids)
    assert later.groups == {} and later.withheld == 0


def test_the_market_goes_only_where_the_location_may_cross() -> None:
    rows = [transfer([group("repairing", "2026-11-02", 5)])]
    hidden = build_batch(rows, rules=RULES, policy_version="v1", markets={SHOP: "DE"}, market_allowed=False)
    assert hidden.as_json()["groups"] == [{"market": None, "bizStep": "repairing", "day": "2026-11-02", "count": 5}]


def test_a_batch_is_due_once_the_oldest_withheld_transfer_is_older_than_the_window() -> None:
    rows = [transfer([group("repairing", "2026-11-02", 1)], at=1_000_000)]
    day = AggregateRules(5, 86_400, "test")
    assert not due(rows, day, 1_000_000 + 3_600_000_000)
    assert due(rows, day, 1_000_000 + 86_400_000_000)
    assert not due([transfer([], at=0)], RULES, 10**12)


def test_the_transfer_summary_counts_withheld_events_by_step_day_and_site() -> None:
    regions = load_regions()
    border = Border("eu-central", "me-central", load_policy(regions=regions),
                    load_classification(regions=regions), Pseudonymiser("eu-central", b"k" * 32))
    events = [{"eventID": f"ni:///sha-256;{i}", "type": "ObjectEvent", "action": "OBSERVE", "bizStep": "repairing",
               "eventTime": "2026-11-02T23:30:00-02:00", "epcList": ["urn:epc:id:giai:4012345.V1"],
               "bizLocation": {"id": SHOP if i else "geo:52.5,13.4"}} for i in range(3)]
    sent, summary = project_page(events, border)
    body = summary.as_json()
    assert sent == [] and body["aggregatesByBizStep"] == {"repairing": 3}
    # 23:30 at UTC-2 is the next day in UTC; a geo: location (personal) is not even kept for the count.
    assert body["aggregateGroups"] == [
        {"bizStep": "repairing", "day": "2026-11-03", "bizLocation": None, "count": 1,
         "eventIDs": ["ni:///sha-256;0"]},
        {"bizStep": "repairing", "day": "2026-11-03", "bizLocation": SHOP, "count": 2,
         "eventIDs": ["ni:///sha-256;1", "ni:///sha-256;2"]}]


def test_the_policy_section_is_checked_and_named() -> None:
    shipped = load_aggregate_rules()
    assert shipped is not None and shipped.min_group_size == 5 and shipped.window_seconds == 86_400
    assert load_aggregate_rules({"version": "x"}) is None  # no section: no aggregate leaves
    with pytest.raises(PolicyError) as found:
        load_aggregate_rules({"aggregates": {"min_group_size": 1, "cite": "x"}})
    assert found.value.path == "aggregates.min_group_size"
    with pytest.raises(PolicyError) as found:
        load_aggregate_rules({"aggregates": {"min_group_size": 5}})
    assert found.value.path == "aggregates.cite"


def test_a_receiving_node_refuses_a_group_below_k_and_names_every_fault() -> None:
    good = {"batch": 3, "minGroupSize": 5, "policyVersion": "v1", "suppressed": {"events": 2, "groups": 1},
            "groups": [{"market": "DE", "bizStep": "repairing", "day": "2026-11-02", "count": 6}]}
    assert parse_delivery(good)[0] == 3
    # Only the known fields are stored: what else a sender adds stays out (personal until classified).
    extra = parse_delivery({**good, "owner": "A. Person", "groups": [{**good["groups"][0], "vin": "WDB1"}]})[1]
    assert "owner" not in extra and "vin" not in str(extra) and extra["groups"][0]["count"] == 6
    bad = {**good, "batch": 0, "groups": [{**good["groups"][0], "count": 1}], "suppressed": {}}
    with pytest.raises(AggregateInvalid) as found:
        parse_delivery(bad)
    assert [path for path, _reason in found.value.problems] == ["$.batch", "$.groups[0].count", "$.suppressed"]
    with pytest.raises(AggregateInvalid):
        parse_delivery([good])


def test_back_off_doubles_up_to_its_cap_and_a_success_clears_it() -> None:
    backoff = Backoff(base=5, cap=30)
    assert [backoff.delay(n) for n in range(6)] == [0, 5, 10, 20, 30, 30]
    backoff.record({"riyadh": False}, now=100)
    assert backoff.waiting(104) == {"riyadh"} and backoff.waiting(105) == set()
    backoff.record({"riyadh": False}, now=105)
    assert backoff.not_before["riyadh"] == 115
    backoff.record({"riyadh": True}, now=116)
    assert backoff.waiting(116) == set() and "riyadh" not in backoff.failures


def test_the_worker_skips_a_peer_backing_off_and_survives_a_broken_round() -> None:
    now = [0.0]
    asked: list[set[str]] = []

    def relay(skip: Any) -> dict[str, bool]:
        asked.append(set(skip))
        return {} if "riyadh" in skip else {"riyadh": False, "home": True}

    def broken(_skip: Any) -> dict[str, bool]:
        raise RuntimeError("a policy edit that does not parse")

    worker = RelayWorker(rounds={"relay": relay, "broken": broken}, backoff_base=10, clock=lambda: now[0])
    worker.register("health", lambda _skip: {})  # another feature adds its round with one line
    assert worker.names == ["relay", "broken", "health"]
    assert worker.run_once()["relay"] == {"riyadh": False, "home": True}
    now[0] = 5
    worker.run_once()
    now[0] = 10
    worker.run_once()
    assert asked == [set(), {"riyadh"}, set()]
    assert worker.rounds_run == 3
