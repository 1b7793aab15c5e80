"""Subscription persistence: the :class:`roadpass.trace.subscription_ports.SubscriptionRecords` of one
transaction.

Rows only: who may see a subscription, what is delivered and when an attempt is retried are decided in
:mod:`roadpass.trace.subscriptions` and the service. Helpers take the caller's open connection and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, func, literal, select

from roadpass.ledger import LedgerDraft, Subject
from roadpass.store import ledger as ledger_store
from roadpass.store import tables as t
from roadpass.trace.subscription_ports import DeliveryState, OutboxItem
from roadpass.trace.subscriptions import Subscription, SubscriptionRequest

__all__ = ["SqlSubscriptionRecords"]

_S = t.subscription
_O = t.outbox


class SqlSubscriptionRecords:
    """Subscriptions and their outbox on SQLAlchemy Core (SQLite and PostgreSQL)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @staticmethod
    def _columns() -> list[Any]:
        return [_S.c.id, _S.c.subscription_id, _S.c.query_name, _S.c.party_id, t.party.c.key.label("party_key"),
                _S.c.dest, _S.c.signature_token, _S.c.report_if_empty, _S.c.initial_record_time, _S.c.schedule,
                _S.c.actor, _S.c.created_at, _S.c.last_notified_at, _S.c.failures]

    def _select(self) -> Any:
        return (select(*self._columns()).select_from(_S.outerjoin(t.party, t.party.c.id == _S.c.party_id))
                .where(_S.c.deleted_at.is_(None)))

    @staticmethod
    def _model(row: Any) -> Subscription:
        schedule = None if row.schedule is None else orjson.loads(row.schedule)
        request = SubscriptionRequest(
            dest=row.dest, signature_token=row.signature_token, report_if_empty=bool(row.report_if_empty),
            initial_record_time=None if row.initial_record_time is None else int(row.initial_record_time),
            stream=schedule is None, schedule=schedule,
        )
        return Subscription(
            id=row.subscription_id, query_name=row.query_name,
            party_id=None if row.party_id is None else int(row.party_id), party=row.party_key, request=request,
            actor=row.actor, created_at=int(row.created_at),
            last_notified_at=None if row.last_notified_at is None else int(row.last_notified_at),
            failures=int(row.failures), pk=int(row.id),
        )

    def live(self, subscription_id: str) -> Subscription | None:
        """The subscription with this REST ``subscriptionID`` that is not deleted."""
        row = self.conn.execute(self._select().where(_S.c.subscription_id == subscription_id)).first()
        return None if row is None else self._model(row)

    def listing(self, query_name: str, *, party_id: int | None) -> list[Subscription]:
        """Live subscriptions to ``query_name`` by creation (of party ``party_id`` only, unless None)."""
        query = self._select().where(_S.c.query_name == query_name)
        if party_id is not None:
            query = query.where(_S.c.party_id == party_id)
        return [self._model(row) for row in self.conn.execute(query.order_by(_S.c.id))]

    def overview(self, *, party_id: int | None) -> list[DeliveryState]:
        """Every live subscription (of party ``party_id`` only, unless None) with its delivery state."""
        query = (self._select().add_columns(
            _O.c.first_event, _O.c.last_event, _O.c.attempts, _O.c.next_try_at, _O.c.last_error,
            _S.c.next_run_at).outerjoin(_O, _O.c.subscription_pk == _S.c.id)
            .order_by(_S.c.query_name, _S.c.id))
        if party_id is not None:
            query = query.where(_S.c.party_id == party_id)
        return [DeliveryState(
            subscription=self._model(row), pending_first=row.first_event, pending_last=row.last_event,
            attempts=int(row.attempts or 0), next_try_at=row.next_try_at, next_run_at=row.next_run_at,
            last_error=row.last_error) for row in self.conn.execute(query)]

    def insert(self, *, subscription_id: str, query_name: str, request: SubscriptionRequest, party_id: int | None,
               actor: str, at: int, cursor: int, next_run_at: int | None) -> int:
        """Store a new subscription; its row id."""
        result = self.conn.execute(_S.insert().values(
            subscription_id=subscription_id, query_name=query_name, party_id=party_id, dest=request.dest,
            signature_token=request.signature_token, report_if_empty=int(request.report_if_empty),
            initial_record_time=request.initial_record_time,
            schedule=None if request.schedule is None else orjson.dumps(request.schedule).decode(),
            created_at=at, actor=actor, failures=0, stream_cursor=cursor, next_run_at=next_run_at,
        ))
        key = result.inserted_primary_key
        if key is None:  # pragma: no cover - an insert of one row always has its key
            raise LookupError("subscription row not stored")
        return int(key[0])

    def mark_deleted(self, pk: int, *, actor: str, at: int) -> None:
        """Mark a subscription deleted and drop its pending deliveries (its row stays for the ledger)."""
        self.conn.execute(_O.delete().where(_O.c.subscription_pk == pk))
        self.conn.execute(_S.update().where(_S.c.id == pk, _S.c.deleted_at.is_(None))
                          .values(deleted_at=at, deleted_by=actor))

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[Subject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        content = ledger_store.rows_hash(self.conn, subjects)
        return ledger_store.append(self.conn, LedgerDraft(actor, action, rule, tuple(subjects), content)).seq

    def latest_event(self) -> int:
        """The largest ``epcis_event.id`` stored (0 when none is)."""
        return int(self.conn.execute(select(func.coalesce(func.max(t.epcis_event.c.id), 0))).scalar_one())

    def stream_cursors(self) -> dict[int, int]:
        """Live stream subscriptions (row id) and the last event id each has put in the outbox."""
        rows = self.conn.execute(select(_S.c.id, _S.c.stream_cursor).where(
            _S.c.deleted_at.is_(None), _S.c.schedule.is_(None)))
        return {int(row.id): int(row.stream_cursor or 0) for row in rows}

    def enqueue_streams(self, *, batch_size: int, at: int) -> int:
        """Add every stored event past each live stream subscription's cursor to its pending delivery and
        advance the cursors: four statements, however many subscriptions there are."""
        latest = self.latest_event()
        behind = (select(_S.c.id).where(_S.c.deleted_at.is_(None), _S.c.schedule.is_(None),
                                        func.coalesce(_S.c.stream_cursor, 0) < latest))
        pks = [int(pk) for pk in self.conn.execute(behind).scalars()]
        if not pks:
            return 0
        self.conn.execute(_O.update().where(_O.c.subscription_pk.in_(pks), _O.c.last_event < latest)
                          .values(last_event=latest))
        pending = select(_O.c.id).where(_O.c.subscription_pk == _S.c.id).exists()
        self.conn.execute(_O.insert().from_select(
            ["subscription_pk", "first_event", "last_event", "batch_size", "attempts", "next_try_at", "created_at"],
            select(_S.c.id, func.coalesce(_S.c.stream_cursor, 0) + 1, literal(latest), literal(batch_size),
                   literal(0), literal(at), literal(at)).where(_S.c.id.in_(pks), ~pending)))
        self.conn.execute(_S.update().where(_S.c.id.in_(pks)).values(stream_cursor=latest))
        return len(pks)

    def scheduled_due(self, now: int) -> list[tuple[Subscription, int]]:
        """Live scheduled subscriptions whose next run is due, with their cursors."""
        rows = self.conn.execute(self._select().add_columns(_S.c.stream_cursor)
                                 .where(_S.c.next_run_at <= now).order_by(_S.c.next_run_at))
        return [(self._model(row), int(row.stream_cursor or 0)) for row in rows]

    def enqueue(self, pk: int, *, first_event: int, last_event: int, batch_size: int, at: int,
                next_run_at: int | None = None) -> None:
        """Add events ``first_event``..``last_event`` to the subscription's pending delivery and advance its
        cursor to ``last_event`` (a scheduled one's next run to ``next_run_at``)."""
        pending = self.conn.execute(select(_O.c.id, _O.c.last_event).where(_O.c.subscription_pk == pk)).first()
        if pending is None:
            self.conn.execute(_O.insert().values(
                subscription_pk=pk, first_event=first_event, last_event=last_event, batch_size=batch_size,
                attempts=0, next_try_at=at, created_at=at))
        elif last_event > pending.last_event:
            self.conn.execute(_O.update().where(_O.c.id == pending.id).values(last_event=last_event))
        values: dict[str, int] = {"stream_cursor": last_event}
        if next_run_at is not None:
            values["next_run_at"] = next_run_at
        self.conn.execute(_S.update().where(_S.c.id == pk).values(**values))

    def enqueue_nothing(self, pk: int, *, next_run_at: int) -> None:
        """A scheduled run found nothing to report: only its next run moves."""
        self.conn.execute(_S.update().where(_S.c.id == pk).values(next_run_at=next_run_at))

    def claim(self, now: int, limit: int, lease_until: int) -> list[OutboxItem]:
        """Pending deliveries whose next attempt is due, oldest first, leased to the caller until
        ``lease_until`` (another worker leaves them alone meanwhile; a worker that dies loses its lease)."""
        items = self._due(now, limit)
        if items:
            self.conn.execute(_O.update().where(_O.c.id.in_([i.id for i in items]), _O.c.next_try_at <= now)
                              .values(next_try_at=lease_until))
        return items

    def has_due(self, now: int) -> bool:
        """Whether any pending delivery is due."""
        return self.conn.execute(select(_O.c.id).where(_O.c.next_try_at <= now).limit(1)).first() is not None

    def _due(self, now: int, limit: int) -> list[OutboxItem]:
        query = (select(*self._columns(), _O.c.id.label("item_id"), _O.c.first_event, _O.c.last_event,
                        _O.c.batch_size, _O.c.attempts, _O.c.next_try_at)
                 .select_from(_O.join(_S, _S.c.id == _O.c.subscription_pk)
                              .outerjoin(t.party, t.party.c.id == _S.c.party_id))
                 .where(_O.c.next_try_at <= now, _S.c.deleted_at.is_(None))
                 .order_by(_O.c.next_try_at, _O.c.id).limit(limit))
        return [OutboxItem(id=int(row.item_id), subscription=self._model(row), first_event=int(row.first_event),
                           last_event=int(row.last_event), batch_size=int(row.batch_size),
                           attempts=int(row.attempts), next_try_at=int(row.next_try_at))
                for row in self.conn.execute(query)]

    def _subscription_of(self, item_id: int) -> Any:
        return select(_O.c.subscription_pk).where(_O.c.id == item_id).scalar_subquery()

    def delivered(self, done: Sequence[tuple[OutboxItem, int]], *, at: int, notified: bool) -> None:
        """Each item is done up to its event id: deleted when that is its end (it may have grown meanwhile),
        else it goes on after it; when ``notified`` the receivers acknowledged, so their subscriptions'
        ``last_notified_at`` is ``at`` and their failures are reset. Three statements for a whole round (the
        worker holds the single writer meanwhile, and captures wait for it)."""
        if not done:
            return
        if notified:
            self.conn.execute(
                _S.update().where(_S.c.id == bindparam("sub_pk")).values(last_notified_at=at, failures=0),
                [{"sub_pk": pk} for pk in sorted({item.subscription.pk for item, _ in done})])
        rows = [{"item_id": item.id, "through": through} for item, through in done]
        self.conn.execute(_O.delete().where(_O.c.id == bindparam("item_id"), _O.c.last_event <= bindparam("through")),
                          rows)
        self.conn.execute(_O.update().where(_O.c.id == bindparam("item_id")).values(
            first_event=bindparam("through") + 1, attempts=0, next_try_at=at, last_error=None), rows)

    def failed(self, item_id: int, *, next_try_at: int, batch_size: int, error: str) -> None:
        """An attempt failed: count it on the item and its subscription, and set the next try."""
        self.conn.execute(_S.update().where(_S.c.id == self._subscription_of(item_id))
                          .values(failures=_S.c.failures + 1))
        self.conn.execute(_O.update().where(_O.c.id == item_id).values(
            attempts=_O.c.attempts + 1, next_try_at=next_try_at, batch_size=batch_size, last_error=error[:500]))
