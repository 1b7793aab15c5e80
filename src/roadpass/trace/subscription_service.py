"""The subscription service: subscribe, list, read and unsubscribe, and deliver stream subscriptions' events
to their webhooks, at least once, from a durable outbox.

The rules (a request's validity, allowed destinations, the signature, the delivery document, backoff, batch
sizes) are in :mod:`roadpass.trace.subscriptions`; the rows in the store.

Durability (stream subscriptions): each stream subscription keeps a cursor, the last ``epcis_event.id`` it
has put in the outbox. After a capture commits, the capture path wakes the worker (:meth:`notify`), which
moves every event past each cursor into the outbox and advances the cursor in ONE follow-up write
transaction (:meth:`enqueue_streams`). The capture transaction is left alone (it stays as fast with a
hundred subscriptions as with none), and nothing is lost if the process stops between the two transactions:
the cursor did not move, so the next :meth:`enqueue_streams` (at the worker's start, its next tick, or the
next capture, in any process) enqueues the same events. An outbox row is deleted only once the receiver
answered 2xx, so a delivery survives restarts of roadpass and of the receiver (at-least-once; receivers
dedupe by eventID). Which events a delivery carries is decided when it is sent, under the subscriber party's
visibility as it stands then (a share revoked stops the flow at once).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from roadpass.trace import subscriptions as rules
from roadpass.trace.capture_plan import now_us
from roadpass.trace.named_queries import query_parameters
from roadpass.trace.named_query_service import NamedQueryNotFound, NamedQueryService
from roadpass.trace.query import PageToken, QueryError, Visibility, parse_event_query
from roadpass.trace.query_schedule import next_run
from roadpass.trace.service import Hidden, TraceService
from roadpass.trace.subscription_ports import (
    DeliveryState,
    OutboxItem,
    SubscriptionRecords,
    SubscriptionStore,
    Webhook,
)
from roadpass.trace.subscriptions import Subscription
from roadpass.trace.views import query_document
from roadpass.trace.webhook_client import HttpWebhook

__all__ = ["SubscriptionNotFound", "SubscriptionService"]

_log = logging.getLogger(__name__)
#: ``projector(subscription, events) -> (events as they may go, what was done)``.
Projector = Callable[[Subscription, list[dict[str, Any]]], tuple[list[dict[str, Any]], dict[str, Any]]]
_POLL_SECONDS = 1.0  # the worker's tick when no capture wakes it (retries fall due, other processes capture)
# A worker in a process of its own (``roadpass subscriptions worker``) sees other processes' captures by
# looking at the largest committed event id this often (one indexed read; no capture can wake it directly).
_WATCH_SECONDS = 0.01
_DUE_PER_ROUND = 200
_SENDERS = 8
# How long a worker holds the deliveries it took (longer than one attempt's HTTP timeout): another worker
# takes them over only once this passed, e.g. after the first one died mid-attempt.
_LEASE_US = 60_000_000


@dataclass(slots=True)
class _Round:
    """What one round attempted, to be recorded: subscriptions whose query is gone, deliveries with nothing
    to send (done up to an event id), and the answers of the posts (item, through, status, error)."""

    ended: list[OutboxItem] = field(default_factory=list)
    skipped: list[tuple[OutboxItem, int]] = field(default_factory=list)
    answers: list[tuple[OutboxItem, int, int, str]] = field(default_factory=list)


class SubscriptionNotFound(LookupError):
    """No live subscription has this subscriptionID under this query (EPCIS REST: 404)."""


class SubscriptionService:
    """Query subscriptions (REST bindings ``/queries/{queryName}/subscriptions``), owned by the party that
    made them, and their webhook delivery."""

    def __init__(
        self, store: SubscriptionStore, trace: TraceService, queries: NamedQueryService, *,
        allowed_hosts: list[str], visibility_of: Callable[[str], Visibility], webhook: Webhook | None = None,
        projector: Projector | None = None,
    ) -> None:
        self.store = store
        # What may go to a subscription's destination (a node of another region: its transfer policy), applied
        # to each page before its document is built; None: every page goes as the subscriber may see it.
        self.projector = projector
        self.trace = trace
        self.queries = queries
        self.allowed_hosts = list(allowed_hosts)
        self.visibility_of = visibility_of
        self.webhook: Webhook = webhook or HttpWebhook()
        # Deliveries of one round go out in parallel (a slow receiver does not hold up the others).
        self._senders = ThreadPoolExecutor(max_workers=_SENDERS, thread_name_prefix="roadpass-webhook")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._listeners: set[Callable[[], None]] = set()
        trace.after_capture_commit.append(self.notify)
        queries.after_delete.append(self._query_deleted)

    # --- the resource ---------------------------------------------------------------------------------

    def create(self, query_name: str, body: Any, *, actor: str, party_id: int | None) -> Subscription:
        """Subscribe party ``party_id`` to its query ``query_name`` (ledgered). Raises
        :class:`~roadpass.trace.subscriptions.SubscriptionRejected` (every problem, by JSON path),
        :class:`NamedQueryNotFound` or :class:`Hidden`."""
        self.queries.get(query_name, party_scope=party_id)
        request = rules.parse_request(body, allowed_hosts=self.allowed_hosts)
        subscription_id = str(uuid.uuid4())
        at = now_us()
        with self.store.write() as records:
            # Deliveries start after the events stored now, unless initialRecordTime asks for older ones too
            # (GS1-Query-InitialRecordTime: "If omitted, the default value is the current time").
            cursor = 0 if request.initial_record_time is not None else records.latest_event()
            first_run = None if request.schedule is None else next_run(request.schedule, at)
            pk = records.insert(subscription_id=subscription_id, query_name=query_name, request=request,
                                party_id=party_id, actor=actor, at=at, cursor=cursor, next_run_at=first_run)
            records.append_ledger(actor, *rules.create_ledger(pk))
            made = records.live(subscription_id)
        if made is None:  # pragma: no cover - the row was written in this transaction
            raise SubscriptionNotFound(subscription_id)
        self.notify()
        return made

    def listing(self, query_name: str, *, party_scope: int | None) -> list[Subscription]:
        """The live subscriptions to ``query_name`` the caller may see (the query must be visible to it)."""
        self.queries.get(query_name, party_scope=party_scope)
        with self.store.read() as records:
            return records.listing(query_name, party_id=party_scope)

    def overview(self, *, party_scope: int | None) -> list[DeliveryState]:
        """Every subscription the caller may see (its party's; every party's for the operator) with where its
        deliveries stand: the web UI's subscriptions page."""
        with self.store.read() as records:
            return records.overview(party_id=party_scope)

    def get(self, query_name: str, subscription_id: str, *, party_scope: int | None) -> Subscription:
        """One subscription; :class:`SubscriptionNotFound`, or :class:`Hidden` when it is another party's."""
        with self.store.read() as records:
            found = records.live(subscription_id)
        return _visible(found, query_name, subscription_id, party_scope)

    def delete(self, query_name: str, subscription_id: str, *, actor: str, party_scope: int | None) -> None:
        """Unsubscribe (its owner's party only; ledgered); its pending deliveries are dropped."""
        with self.store.write() as records:
            found = _visible(records.live(subscription_id), query_name, subscription_id, party_scope)
            records.mark_deleted(found.pk, actor=actor, at=now_us())
            records.append_ledger(actor, *rules.delete_ledger(found.pk))

    # --- delivery -------------------------------------------------------------------------------------

    def notify(self) -> None:
        """A capture committed (or a query was deleted): wake the worker and every live (WebSocket)
        subscription (the capture path's after-commit hook; never blocks)."""
        self._wake.set()
        for wake in list(self._listeners):
            wake()

    def listen(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake`` (thread-safe, non-blocking) after each capture; returns the function that stops it."""
        self._listeners.add(wake)
        return lambda: self._listeners.discard(wake)

    def latest_event(self) -> int:
        """The largest stored event id (a live subscription's starting point)."""
        with self.store.read() as records:
            return records.latest_event()

    def enqueue_streams(self) -> int:
        """Put every event stored past each stream subscription's cursor into its outbox, in one write
        transaction; how many subscriptions got new events."""
        with self.store.read() as records:  # the worker's idle tick writes nothing
            if all(cursor >= records.latest_event() for cursor in records.stream_cursors().values()):
                return 0
        # Event ids are allocated under the single writer (SQLite BEGIN IMMEDIATE, the PostgreSQL writer lock)
        # and committed in that order, so every id up to the largest committed one is final: a cursor never
        # skips an event that commits later.
        with self.store.write() as records:
            return records.enqueue_streams(batch_size=rules.MAX_BATCH, at=now_us())

    def run_schedules(self, now: int | None = None) -> int:
        """Run every scheduled subscription that is due at ``now`` (UTC µs; default: now): the events stored
        since its previous run go into its outbox (EPCIS 1.2 §8.2.5.3: each run reports what was recorded
        since the last one), or, when there are none and it asked for ``reportIfEmpty``, an empty report;
        how many ran."""
        at = now_us() if now is None else now
        with self.store.read() as records:
            if not records.scheduled_due(at):
                return 0
        with self.store.write() as records:
            return _run_schedules(records, at)

    def deliver_due(self, now: int | None = None) -> int:
        """Attempt every delivery due at ``now`` (UTC µs; default: now) once; how many the receivers
        acknowledged. Each attempt is leased to this worker, so several workers (API processes) never send
        the same delivery at once."""
        at = now_us() if now is None else now
        with self.store.read() as records:
            if not records.has_due(at):
                return 0
        with self.store.write() as records:
            due = records.claim(at, _DUE_PER_ROUND, lease_until=at + _LEASE_US)
        return self._deliver(due)

    def _deliver(self, due: list[OutboxItem]) -> int:
        """Attempt ``due`` and record every outcome in one write; how many were acknowledged."""
        attempted = self._attempt(due)
        with self.store.write() as records:
            return _record(records, attempted)

    def _attempt(self, due: list[OutboxItem]) -> _Round:
        """Build each distinct page once (subscriptions of one party to one query at the same place in the
        event stream get the same document) and post them in parallel; the outcomes, not yet recorded."""
        groups: dict[tuple[Any, ...], list[OutboxItem]] = {}
        for item in due:
            sub = item.subscription
            groups.setdefault((sub.query_name, sub.party_id, sub.party, sub.request.initial_record_time,
                               item.first_event, item.last_event, item.batch_size,
                               sub.request.dest if self.projector else None), []).append(item)
        attempted = _Round()
        sends: list[tuple[OutboxItem, bytes, int, str | None]] = []
        for items in groups.values():
            first = items[0]
            page = self.document(first.subscription, first.first_event, first.last_event, first.batch_size)
            signed: dict[str, str] = {}  # one page, one signature per token (a party's subscriptions share one)
            for item in items:
                token = item.subscription.request.signature_token
                if page is None:
                    attempted.ended.append(item)
                elif not page[2] and not item.subscription.request.report_if_empty:
                    attempted.skipped.append((item, page[1]))  # nothing this party may see now: nothing to send
                elif token is None:
                    sends.append((item, page[0], page[1], None))
                else:
                    if token not in signed:
                        signed[token] = rules.signature(page[0], token)
                    sends.append((item, page[0], page[1], signed[token]))
        for (item, _body, through, _signature), (status, error) in zip(
                sends, self._senders.map(self._post, sends), strict=True):
            attempted.answers.append((item, through, status, error))
        return attempted

    def _post(self, send: tuple[OutboxItem, bytes, int, str | None]) -> tuple[int, str]:
        """POST one delivery (in a sender thread): the status (0: no answer) and the error."""
        item, body, _through, signature = send
        headers = {"Content-Type": "application/json", "GS1-EPCIS-Version": "2.0"}
        if signature is not None:
            headers["GS1-Signature"] = signature
        try:
            return self.webhook.post(item.subscription.request.dest, body, headers), ""
        except OSError as exc:
            return 0, f"no answer: {exc}"

    def document(self, sub: Subscription, first_event: int, last_event: int,
                 batch_size: int) -> tuple[bytes, int, bool] | None:
        """The body of a delivery to ``sub`` of its query's events with ids from ``first_event`` to
        ``last_event`` (at most ``batch_size``), the event id it ends at, and whether it carries events; None
        when the subscription's query is gone."""
        try:
            # The subscriber's own query: a name deleted and taken again by another party is not its query.
            stored = self.queries.get(sub.query_name, party_scope=sub.party_id)
            query = parse_event_query(query_parameters(stored.query))
        except (NamedQueryNotFound, Hidden, QueryError):
            return None
        bounds = [b for b in (query.ge_record_time, sub.request.initial_record_time) if b is not None]
        query = dataclasses.replace(
            query, order_by="id", descending=False, per_page=batch_size,
            after=PageToken(first_event - 1, first_event - 1, query.fingerprint),
            last_row=last_event, ge_record_time=max(bounds) if bounds else None,
            # Evaluated now, at delivery, not when the event was captured (issue: a revoked share stops
            # the flow at once).
            visibility=None if sub.party is None else self.visibility_of(sub.party),
        )
        events, contexts, token = self.trace.events(query)
        if self.projector is not None:
            events, _done = self.projector(sub, events)
        document = query_document(events, contexts, sub.query_name, now_us())
        return orjson.dumps(document), last_event if token is None else token.row, bool(events)

    def _query_deleted(self, name: str, party_id: int | None, actor: str) -> None:
        with self.store.read() as records:
            ended = records.listing(name, party_id=party_id)
        with self.store.write() as records:
            for sub in ended:
                _end(records, sub, actor)
        self.notify()  # live subscriptions to the query find it gone and close

    def run_once(self) -> int:
        """One round of the worker, recorded at once (the serving worker records it with the next round's
        write instead): how many deliveries were acknowledged."""
        attempted = self._round(None)
        if attempted is None:
            return 0
        with self.store.write() as records:
            return _record(records, attempted)

    def start(self, *, watch_commits: bool = False) -> None:
        """Start the delivery worker thread (when serving); it resumes from the outbox. ``watch_commits``:
        the captures happen in other processes (a delivery worker of its own), so wait for them by watching
        the largest committed event id rather than for this process's capture hook."""
        if self._worker is not None:
            return
        self._stop.clear()
        self._worker = threading.Thread(target=self._run, args=(watch_commits,), name="roadpass-subscriptions",
                                        daemon=True)
        self._worker.start()

    def serve_forever(self, *, parent: int | None = None) -> None:
        """Deliver in this process's foreground (``roadpass subscriptions worker``) until :meth:`close` or,
        when ``parent`` (a process id) is given, until that process is gone: a worker started by a server
        never outlives it."""
        self.start(watch_commits=True)
        while self._worker is not None and not self._stop.wait(0.5):
            if parent is not None and os.getppid() != parent:
                _log.warning("the process that started this delivery worker is gone: stopping")
                break
        self.close()

    def _run(self, watch_commits: bool) -> None:
        attempted: _Round | None = None
        while not self._stop.is_set():
            self._wake.clear()
            try:
                attempted = self._round(attempted)
            except Exception:  # a failing round (database busy, …) is retried next tick; the outbox keeps it
                _log.exception("subscription delivery round failed")
                attempted = None  # unrecorded outcomes: their leases run out and they are sent again
            if attempted is None:
                self._idle(watch_commits)
        if attempted is not None:  # stopping: what was attempted is recorded, not sent again
            with self.store.write() as records:
                _record(records, attempted)

    def _idle(self, watch_commits: bool) -> None:
        """Wait for work: this process's capture hook, the tick, or (``watch_commits``) a new committed event."""
        if not watch_commits:
            self._wake.wait(_POLL_SECONDS)
            return
        seen = self.latest_event()
        deadline = time.monotonic() + _POLL_SECONDS
        while not self._wake.wait(_WATCH_SECONDS) and time.monotonic() < deadline:
            if self.latest_event() != seen:
                return

    def _round(self, previous: _Round | None) -> _Round | None:
        """One round of the serving worker, pipelined: the previous round's outcomes are recorded in the same
        write that enqueues new events and takes the next due deliveries (one wait for the single writer per
        round, not two); the attempted round, or None when there is nothing to do (then it was recorded)."""
        at = now_us()
        if previous is None:
            with self.store.read() as records:  # an idle round writes nothing
                latest = records.latest_event()
                if (all(cursor >= latest for cursor in records.stream_cursors().values())
                        and not records.scheduled_due(at) and not records.has_due(at)):
                    return None
        with self.store.write() as records:
            if previous is not None:
                _record(records, previous)
                at = now_us()  # what the outcomes made due (a halved batch) is taken in this same write
            records.enqueue_streams(batch_size=rules.MAX_BATCH, at=at)
            _run_schedules(records, at)
            due = records.claim(at, _DUE_PER_ROUND, lease_until=at + _LEASE_US)
        return self._attempt(due) if due else None

    def close(self) -> None:
        """Stop the worker (what it has not delivered stays in the outbox)."""
        worker, self._worker = self._worker, None
        if worker is not None:
            self._stop.set()
            self._wake.set()
            worker.join(timeout=10)
        self._senders.shutdown(wait=False)


def _visible(found: Subscription | None, query_name: str, subscription_id: str,
             party_scope: int | None) -> Subscription:
    if found is None or found.query_name != query_name:
        raise SubscriptionNotFound(subscription_id)
    if not found.visible_to(party_scope):
        raise Hidden(subscription_id)
    return found


def _end(records: SubscriptionRecords, sub: Subscription, actor: str) -> None:
    """End a subscription whose named query is gone (ledgered; its pending deliveries are dropped)."""
    if records.live(sub.id) is not None:
        records.mark_deleted(sub.pk, actor=actor, at=now_us())
        records.append_ledger(actor, *rules.end_ledger(sub.pk))


def _run_schedules(records: SubscriptionRecords, at: int) -> int:
    """Run the scheduled subscriptions due at ``at``: their events since the last run into the outbox, or an
    empty report for ``reportIfEmpty``; how many ran."""
    latest = records.latest_event()
    due = records.scheduled_due(at)
    for sub, cursor in due:
        following = next_run(sub.request.schedule or {}, at) or rules.NEVER
        if cursor < latest or sub.request.report_if_empty:
            records.enqueue(sub.pk, first_event=cursor + 1, last_event=max(cursor, latest),
                            batch_size=rules.MAX_BATCH, at=at, next_run_at=following)
        else:
            records.enqueue_nothing(sub.pk, next_run_at=following)
    return len(due)


def _record(records: SubscriptionRecords, attempted: _Round) -> int:
    """Record a round's outcomes; how many deliveries the receivers acknowledged."""
    for item in attempted.ended:
        _end(records, item.subscription, "roadpass")
    records.delivered(attempted.skipped, at=now_us(), notified=False)
    acknowledged = [(item, through) for item, through, status, _error in attempted.answers if 200 <= status < 300]
    records.delivered(acknowledged, at=now_us(), notified=True)
    for item, _through, status, error in attempted.answers:
        if 200 <= status < 300:
            continue
        batch = item.batch_size
        if status == 413 and batch > 1:
            # REST bindings, the callback's 413: "asks the server to send EPCIS events in smaller batches":
            # halve and try again at once.
            batch, wait = rules.smaller_batch(batch), 0
        else:
            wait = rules.retry_delay_us(item.attempts + 1)
        records.failed(item.id, next_try_at=now_us() + wait, batch_size=batch, error=error or f"HTTP {status}")
    return len(acknowledged)
