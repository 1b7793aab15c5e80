"""A WebSocket query subscription (EPCIS 2.0 REST bindings ``GET /queries/{queryName}/events`` with
``Upgrade: websocket``): the query's events pushed over the open connection, as a stream (``stream=true``:
every capture's matching events) or on a schedule (``second``, ``minute``, … as query parameters).

Unlike a webhook subscription it lives only as long as its connection: nothing is stored, so nothing is
retried after the client goes away (a client that must not miss events uses a webhook, or reconnects with
``initialRecordTime``). What it sends is decided as for a webhook delivery: the subscriber's own query, under
its party's visibility at the moment of sending (:meth:`SubscriptionService.document`); a query that is
deleted (REST bindings: "forcibly unsubscribes all active subscriptions, whether by WebSockets or Webhooks")
or no longer the party's ends it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from roadpass.trace import subscriptions as rules
from roadpass.trace.capture_plan import now_us
from roadpass.trace.named_query_service import NamedQueryNotFound
from roadpass.trace.query_schedule import next_run
from roadpass.trace.service import Hidden
from roadpass.trace.subscription_service import SubscriptionService
from roadpass.trace.subscriptions import Subscription
from roadpass.trace.timeutil import iso_utc

__all__ = ["LiveSubscription", "open_live"]

# A stream also looks by itself this often, for captures made by other processes (which do not wake it).
_IDLE_SECONDS = 1.0


class LiveSubscription:
    """One WebSocket subscription: where it stands (the last event id sent) and when a schedule runs next."""

    def __init__(self, service: SubscriptionService, subscription: Subscription, cursor: int, at: int) -> None:
        self.service = service
        self.subscription = subscription
        self.cursor = cursor
        request = subscription.request
        self.next_run = None if request.schedule is None else next_run(request.schedule, at)
        #: ``GS1-Query-Min-Record-Time`` of the handshake: initialRecordTime, else the time of subscribing.
        self.min_record_time = iso_utc(request.initial_record_time if request.initial_record_time is not None
                                       else at)

    def wait_seconds(self, now: int) -> float:
        """How long the connection may sleep before :meth:`poll` has something to do (unless woken)."""
        if self.next_run is None:
            return _IDLE_SECONDS
        return max(0.0, min(_IDLE_SECONDS, (self.next_run - now) / 1_000_000))

    def poll(self, now: int | None = None) -> list[bytes] | None:
        """The EPCIS query documents to send now (none: nothing to send); None when the query is gone and the
        subscription ends."""
        at = now_us() if now is None else now
        request = self.subscription.request
        if self.next_run is not None:
            if at < self.next_run:
                return []
            self.next_run = next_run(request.schedule or {}, at) or rules.NEVER
        latest = self.service.latest_event()
        if latest <= self.cursor and self.next_run is None:  # a stream woken with nothing new stored
            return [] if self._query_stands() else None
        out: list[bytes] = []
        while True:
            page = self.service.document(self.subscription, self.cursor + 1, latest, rules.MAX_BATCH)
            if page is None:
                return None
            body, through, has_events = page
            if has_events or (request.report_if_empty and request.schedule is not None and not out):
                out.append(body)
            self.cursor = max(self.cursor, through)
            if through >= latest:
                return out


    def _query_stands(self) -> bool:
        """Whether the subscriber's query still exists and is still its party's."""
        sub = self.subscription
        try:
            self.service.queries.get(sub.query_name, party_scope=sub.party_id)
        except (NamedQueryNotFound, Hidden):
            return False
        return True


def open_live(service: SubscriptionService, query_name: str, params: Mapping[str, str], *, actor: str,
              party_id: int | None, party: str | None) -> LiveSubscription:
    """Open a WebSocket subscription of party ``party_id`` (``party`` its key) to its query ``query_name``.
    Raises :class:`~roadpass.trace.subscriptions.SubscriptionRejected`,
    :class:`~roadpass.trace.named_query_service.NamedQueryNotFound` or
    :class:`~roadpass.trace.service.Hidden`."""
    service.queries.get(query_name, party_scope=party_id)
    request = rules.parse_live_request(params)
    at = now_us()
    subscription = Subscription(
        id=f"ws-{uuid.uuid4()}", query_name=query_name, party_id=party_id, party=party, request=request,
        actor=actor, created_at=at, last_notified_at=None, failures=0)
    cursor = 0 if request.initial_record_time is not None else service.latest_event()
    return LiveSubscription(service, subscription, cursor, at)
