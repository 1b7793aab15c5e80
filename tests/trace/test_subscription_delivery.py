"""Stream subscriptions delivered to a real webhook on 127.0.0.1 from the durable outbox, on SQLite and
PostgreSQL: signatures, a receiver that is down and then up, 413 answers, restarts, visibility."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings
from roadpass.trace.capture_plan import now_us
from webhooks import TOKEN, Receiver, free_port

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"
LATER = 10**6 * 3600  # an hour on: every backoff has elapsed


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    started: list[Receiver] = []
    yield started
    for receiver in started:
        receiver.stop()


def _party(app: Roadpass, key: str, gcp: str | None = "0614141") -> int:
    return app.admin.create_party(actor="test", key=key, name=key, role="manufacturer", country="DE", gcp=gcp).id


def _subscribe(app: Roadpass, party_id: int, port: int, query: dict[str, Any], **extra: Any) -> str:
    app.queries.create({"name": f"q{party_id}", "query": query}, actor="test", party_id=party_id)
    body = {"dest": f"http://127.0.0.1:{port}/hook", "signatureToken": TOKEN, "stream": True, **extra}
    return app.subscriptions.create(f"q{party_id}", body, actor="test", party_id=party_id).id


def _capture(app: Roadpass, *names: str) -> list[str]:
    ids: list[str] = []
    for name in names:
        document = orjson.loads((EXAMPLES / name).read_bytes())
        app.trace.capture(document, actor="test")
        ids += [e["eventID"] for e in document["epcisBody"]["eventList"]]
    return ids


def _drain(app: Roadpass, rounds: int = 40) -> None:
    for _ in range(rounds):
        app.subscriptions.run_once()
        app.subscriptions.deliver_due(now_us() + LATER)


def test_receiver_down_then_up_loses_nothing(app: Roadpass, port: int, receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    sid = _subscribe(app, party, port, {"EQ_bizStep": ["shipping"]})
    document = orjson.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes())
    app.trace.capture(document, actor="test")
    shipped = {e["eventID"] for e in document["epcisBody"]["eventList"] if e.get("bizStep") == "shipping"}
    assert len(shipped) == 1

    assert app.subscriptions.enqueue_streams() == 1
    assert app.subscriptions.deliver_due() == 0  # nobody listens: refused connection, kept in the outbox
    state = app.subscriptions.get(f"q{party}", sid, party_scope=party).as_json()
    assert state["failures"] == 1 and "lastNotifiedAt" not in state
    assert app.subscriptions.deliver_due() == 0  # backoff: not due yet

    receivers.append(Receiver(port))
    assert app.subscriptions.deliver_due(now_us() + LATER) == 1
    assert receivers[0].received == shipped and receivers[0].bad_signatures == 0
    state = app.subscriptions.get(f"q{party}", sid, party_scope=party).as_json()
    assert state["failures"] == 0 and "lastNotifiedAt" in state
    _drain(app, 2)
    assert len(receivers[0].batches) == 1  # acknowledged: never sent again


def test_an_undelivered_item_survives_a_restart(app: Roadpass, database_url: str, port: int,
                                                receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    _subscribe(app, party, port, {})
    ids = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld"))
    app.subscriptions.enqueue_streams()
    assert app.subscriptions.deliver_due() == 0  # receiver down
    app.close()
    again = bootstrap(Settings(database_url=database_url, environment="test"))
    try:
        receivers.append(Receiver(port))
        assert again.subscriptions.deliver_due(now_us() + LATER) == 1
    finally:
        again.close()
    assert receivers[0].received == ids


def test_a_capture_after_a_crash_before_enqueueing_is_still_delivered(app: Roadpass, port: int,
                                                                      receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    _subscribe(app, party, port, {})
    # The capture committed but no enqueue ran (the process stopped in between): the cursor did not move.
    first = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld"))
    second = set(_capture(app, "Example_9.6.2-ObjectEvent.jsonld"))
    receivers.append(Receiver(port))
    _drain(app)
    assert receivers[0].received == first | second


def test_413_halves_the_batch_until_the_receiver_takes_it(app: Roadpass, port: int,
                                                         receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    _subscribe(app, party, port, {})
    ids = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.2-ObjectEvent.jsonld"))
    receivers.append(Receiver(port, limit=1))
    _drain(app)
    assert receivers[0].received == ids
    assert all(len(batch) == 1 for batch in receivers[0].batches)


def test_initial_record_time_streams_older_events_too(app: Roadpass, port: int, receivers: list[Receiver]) -> None:
    party, late = _party(app, "maker"), _party(app, "late")
    ids = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld"))
    _subscribe(app, party, port, {}, initialRecordTime="2000-01-01T00:00:00Z")
    receivers.append(Receiver(port))
    _drain(app)
    assert receivers[0].received == ids
    # Without initialRecordTime a stream starts after the events stored when subscribing.
    other = free_port()
    _subscribe(app, late, other, {})
    receivers.append(Receiver(other))
    _drain(app)
    assert receivers[1].batches == []


def test_a_party_receives_only_what_it_may_see_at_delivery(app: Roadpass, port: int,
                                                          receivers: list[Receiver]) -> None:
    stranger = _party(app, "stranger", gcp="4012345")
    sid = _subscribe(app, stranger, port, {})
    _capture(app, "Example_9.6.1-ObjectEvent.jsonld")
    receivers.append(Receiver(port))
    _drain(app)
    assert receivers[0].batches == []  # nothing it may see: nothing posted, nothing left pending
    assert app.subscriptions.get(f"q{stranger}", sid, party_scope=stranger).failures == 0


def test_unsubscribing_drops_pending_deliveries(app: Roadpass, port: int, receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    sid = _subscribe(app, party, port, {})
    _capture(app, "Example_9.6.1-ObjectEvent.jsonld")
    app.subscriptions.enqueue_streams()
    app.subscriptions.delete(f"q{party}", sid, actor="test", party_scope=party)
    receivers.append(Receiver(port))
    _drain(app)
    assert receivers[0].batches == []


def test_a_query_name_taken_by_another_party_is_not_the_subscribers(app: Roadpass, port: int,
                                                                    receivers: list[Receiver]) -> None:
    party, rival = _party(app, "maker"), _party(app, "rival")
    _subscribe(app, party, port, {})
    _capture(app, "Example_9.6.1-ObjectEvent.jsonld")
    app.subscriptions.enqueue_streams()
    app.queries.delete(f"q{party}", actor="test", party_scope=party)
    app.queries.create({"name": f"q{party}", "query": {}}, actor="test", party_id=rival)
    receivers.append(Receiver(port))
    _drain(app)
    assert receivers[0].batches == []


def _scheduled(app: Roadpass, party_id: int, port: int, name: str, **extra: Any) -> str:
    app.queries.create({"name": name, "query": {}}, actor="test", party_id=party_id)
    body = {"dest": f"http://127.0.0.1:{port}/hook", "signatureToken": TOKEN, "schedule": {"second": "0"},
            **extra}
    return app.subscriptions.create(name, body, actor="test", party_id=party_id).id


def test_a_schedule_reports_what_was_recorded_since_its_last_run(app: Roadpass, port: int,
                                                                 receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    ids = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld"))
    _scheduled(app, party, port, "every-minute", reportIfEmpty=True)
    quiet = free_port()
    _scheduled(app, party, quiet, "quiet-minute")
    receivers += [Receiver(port), Receiver(quiet)]
    start = now_us()
    assert app.subscriptions.run_schedules(start) == 0  # not yet: the next full minute
    minute = (start // 60_000_000 + 1) * 60_000_000
    assert app.subscriptions.run_schedules(minute) == 2
    app.subscriptions.deliver_due(minute + LATER)
    # Subscribed after the capture: the first run has nothing (an empty report for reportIfEmpty).
    assert receivers[0].batches == [[]] and receivers[1].batches == []
    later = set(_capture(app, "Example_9.6.2-ObjectEvent.jsonld"))
    assert app.subscriptions.run_schedules(minute + 60_000_000) == 2
    app.subscriptions.deliver_due(minute + LATER)
    assert receivers[0].received == later and receivers[1].received == later and not ids & later
    # Nothing new: reportIfEmpty sends an empty report, the other stays silent.
    assert app.subscriptions.run_schedules(minute + 120_000_000) == 2
    app.subscriptions.deliver_due(minute + LATER)
    assert receivers[0].batches[-1] == [] and len(receivers[0].batches) == 3 and len(receivers[1].batches) == 1


def test_deleting_a_named_query_ends_its_subscriptions(app: Roadpass, port: int) -> None:
    party = _party(app, "maker")
    sid = _subscribe(app, party, port, {})
    app.queries.delete(f"q{party}", actor="maker-admin", party_scope=party)
    with app.subscriptions.store.read() as records:
        assert records.live(sid) is None
    entries = app.ledger.recent(limit=5)
    assert any(e.action == "subscription.end" and e.actor == "maker-admin" for e in entries)


def test_a_delivery_leased_by_one_worker_is_not_sent_by_another(app: Roadpass, database_url: str, port: int,
                                                                receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    _subscribe(app, party, port, {})
    ids = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld"))
    app.subscriptions.enqueue_streams()
    receivers.append(Receiver(port))
    now = now_us()
    with app.subscriptions.store.write() as records:  # the first worker takes the delivery, then stalls
        assert len(records.claim(now, 10, lease_until=now + 60_000_000)) == 1
    other = bootstrap(Settings(database_url=database_url, environment="test"))
    try:
        assert other.subscriptions.deliver_due(now + 1_000_000) == 0
        assert receivers[0].batches == []
        # The first worker died: once its lease ran out the other worker delivers, exactly once.
        assert other.subscriptions.deliver_due(now + 61_000_000) == 1
        assert other.subscriptions.deliver_due(now + LATER) == 0
    finally:
        other.close()
    assert len(receivers[0].batches) == 1 and receivers[0].received == ids


def test_events_added_to_a_delivery_in_flight_are_not_lost(app: Roadpass, port: int,
                                                           receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    _subscribe(app, party, port, {})
    first = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld"))
    app.subscriptions.enqueue_streams()
    now = now_us()
    with app.subscriptions.store.write() as records:
        (item,) = records.claim(now, 10, lease_until=now + 60_000_000)
    # Another process captures and enqueues while this delivery is in flight: the pending row grows.
    second = set(_capture(app, "Example_9.6.2-ObjectEvent.jsonld"))
    app.subscriptions.enqueue_streams()
    receivers.append(Receiver(port))
    assert app.subscriptions._deliver([item]) == 1
    assert receivers[0].received == first
    _drain(app)
    assert receivers[0].received == first | second


def test_subscriptions_at_the_same_place_share_one_page(app: Roadpass, port: int,
                                                        receivers: list[Receiver]) -> None:
    party = _party(app, "maker")
    app.queries.create({"name": "shared", "query": {}}, actor="test", party_id=party)
    body = {"dest": f"http://127.0.0.1:{port}/hook", "signatureToken": TOKEN, "stream": True}
    for _ in range(3):
        app.subscriptions.create("shared", body, actor="test", party_id=party)
    ids = set(_capture(app, "Example_9.6.1-ObjectEvent.jsonld"))
    receivers.append(Receiver(port))
    built: list[str] = []
    document = app.subscriptions.document

    def counted(*args: Any) -> Any:
        built.append(args[0].id)
        return document(*args)

    app.subscriptions.document = counted  # type: ignore[method-assign]
    app.subscriptions.enqueue_streams()
    assert app.subscriptions.deliver_due() == 3
    assert len(built) == 1 and len(receivers[0].batches) == 3
    assert all(set(batch) == ids for batch in receivers[0].batches)
