"""Query subscriptions (EPCIS 2.0 §8.2.5 subscribe, REST bindings ``/queries/{queryName}/subscriptions``): the
model and its rules, pure.

A subscription asks the repository to push the events a named query selects to a webhook (``dest``): either
every newly captured matching event (``stream: true``) or the query's results on a cron-like ``schedule``
(``epcis/rest/query-schedule.json``). The rules here:

* :func:`parse_request` — a ``POST …/subscriptions`` body is accepted whole or refused whole, every problem
  named by its JSON path: the REST bindings make a subscription that names neither ``stream`` nor
  ``schedule`` invalid ("the server won't know when to notify a client"), and a ``dest`` the node's settings
  do not allow is refused (:func:`check_dest`: ``http(s)`` to loopback or to a listed host only, so that a
  subscription cannot make the node call into networks it should not reach);
* a ``schedule``'s members, values and when it fires are in :mod:`roadpass.trace.query_schedule`;
* :func:`signature` — the ``GS1-Signature`` header value: the REST bindings leave its form to the
  implementation ("HMAC with SHA-256 directly" is their first example); roadpass sends the lower-case hex
  HMAC-SHA256 of the exact body bytes keyed with the subscription's ``signatureToken``;
* what one delivery carries is :func:`roadpass.trace.views.query_document`, an ``EPCISQueryDocument`` as ``GET /events``
  answers (the callback's request body in the REST bindings);
* :func:`retry_delay_us` and :func:`smaller_batch` — at-least-once delivery: an unacknowledged delivery is
  retried with exponential backoff, and a ``413`` answer (the callback's "send EPCIS events in smaller
  batches") halves the batch;
* ownership: a subscription belongs to the party that made it (:meth:`Subscription.visible_to`);
* :func:`create_ledger` / :func:`delete_ledger` — what each write's ledger entry records.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from roadpass.ledger.chain import Subject
from roadpass.trace.named_queries import DefinitionProblem, DefinitionRejected
from roadpass.trace.query_schedule import FIELDS, check_schedule
from roadpass.trace.timeutil import iso_utc, parse_time

__all__ = [
    "LIVE_PARAMETERS",
    "MAX_BATCH",
    "NEVER",
    "SUBSCRIPTION_RULE",
    "Subscription",
    "SubscriptionRejected",
    "SubscriptionRequest",
    "check_dest",
    "create_ledger",
    "delete_ledger",
    "end_ledger",
    "parse_live_request",
    "parse_request",
    "retry_delay_us",
    "signature",
    "smaller_batch",
]

SUBSCRIPTION_RULE = (
    "EPCIS 2.0 REST bindings /queries/{queryName}/subscriptions (§8.2.5 subscribe); owned by the creating "
    "party (roadpass.access.policy queries.write)"
)

#: ``next_run_at`` of a schedule that will not fire again.
NEVER = 2**62

#: Most events one delivery carries before a receiver has asked for less (REST bindings: "group EPCIS
#: events in manageable batches").
MAX_BATCH = 500

# Backoff: 1 s, 2 s, 4 s, … at most 10 minutes between attempts; an attempt never stops for good, so a
# receiver that is down for hours still gets every event once it is back (at-least-once).
_FIRST_RETRY_US = 1_000_000
_LONGEST_RETRY_US = 600_000_000

_MEMBERS = ("dest", "signatureToken", "reportIfEmpty", "initialRecordTime", "stream", "schedule")

class SubscriptionRejected(DefinitionRejected):
    """A subscription request was refused whole; ``problems`` name each JSON path and reason (REST bindings:
    400SubscriptionIssues, ``epcisException:SubscriptionControlsException``)."""


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """An accepted ``POST …/subscriptions`` body: where to deliver, how to sign, and when (``stream`` or
    ``schedule``); ``initial_record_time`` in UTC µs (None: from the moment of subscribing)."""

    dest: str
    signature_token: str | None
    report_if_empty: bool
    initial_record_time: int | None
    stream: bool
    schedule: dict[str, str] | None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A stored subscription to the named query ``query_name``: its row ``pk`` and ``id`` (the REST
    ``subscriptionID``),
    the owning party (``party_id``, ``party`` its key; None when made with authorisation switched off), the
    request, when it was made (UTC µs), and its delivery state: when the receiver last acknowledged a
    delivery (``last_notified_at``) and how many attempts failed since (``failures``)."""

    id: str
    query_name: str
    party_id: int | None
    party: str | None
    request: SubscriptionRequest
    actor: str
    created_at: int
    last_notified_at: int | None
    failures: int
    pk: int = 0

    def visible_to(self, party_scope: int | None) -> bool:
        """True when a caller limited to party ``party_scope``'s objects (None: every party's) may see it."""
        return party_scope is None or self.party_id == party_scope

    def as_json(self) -> dict[str, Any]:
        """The subscription as the REST bindings show it (AbstractQuerySubscriptionResponse with the stream or
        schedule member); the ``signatureToken`` is never shown ("for security reasons the response should not
        return the secret")."""
        req = self.request
        out: dict[str, Any] = {
            "subscriptionID": self.id, "queryName": self.query_name, "dest": req.dest,
            "createdAt": iso_utc(self.created_at), "reportIfEmpty": req.report_if_empty,
            "failures": self.failures,
        }
        if req.initial_record_time is not None:
            out["initialRecordTime"] = iso_utc(req.initial_record_time)
        if self.last_notified_at is not None:
            out["lastNotifiedAt"] = iso_utc(self.last_notified_at)
        if req.schedule is not None:
            out["schedule"] = dict(req.schedule)
        else:
            out["stream"] = True
        return out


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_dest(dest: Any, allowed_hosts: Iterable[str]) -> str | None:
    """Why ``dest`` may not receive deliveries from this node, or None when it may: an absolute ``http`` or
    ``https`` URL whose host is loopback or one of ``allowed_hosts`` (ROADPASS_SUBSCRIPTION_ALLOWED_HOSTS)."""
    if not isinstance(dest, str) or not dest:
        return "dest is a URL (string)"
    try:
        parts = urlsplit(dest)
        host = (parts.hostname or "").lower()
        _ = parts.port  # a port that is not a number is refused here
    except ValueError:
        return "dest is not a URL"
    if parts.scheme not in ("http", "https"):
        return "dest is an http or https URL (webhook subscriptions)"
    if not host:
        return "dest names no host"
    if parts.username or parts.password:
        return "dest may not carry credentials; the signatureToken authenticates deliveries"
    if _is_loopback(host) or host in {h.lower() for h in allowed_hosts}:
        return None
    return (f"host {host!r} is not a destination this node may deliver to (loopback or "
            "ROADPASS_SUBSCRIPTION_ALLOWED_HOSTS)")


def _member_problems(body: Mapping[str, Any], allowed_hosts: Iterable[str]) -> list[DefinitionProblem]:
    problems = [DefinitionProblem(f"$.{key}", f"not a member of a subscription ({', '.join(_MEMBERS)})")
                for key in body if key not in _MEMBERS]
    if "dest" not in body:
        problems.append(DefinitionProblem("$.dest", "required: the webhook URL deliveries are posted to"))
    elif (reason := check_dest(body["dest"], allowed_hosts)) is not None:
        problems.append(DefinitionProblem("$.dest", reason))
    token = body.get("signatureToken")
    if token is not None and (not isinstance(token, str) or not token):
        problems.append(DefinitionProblem("$.signatureToken", "a non-empty string"))
    if "reportIfEmpty" in body and not isinstance(body["reportIfEmpty"], bool):
        problems.append(DefinitionProblem("$.reportIfEmpty", "true or false"))
    if "initialRecordTime" in body:
        try:
            parse_time(body["initialRecordTime"], "initialRecordTime")
        except ValueError as exc:
            problems.append(DefinitionProblem("$.initialRecordTime", str(exc)))
    return problems


def parse_request(body: Any, *, allowed_hosts: Iterable[str]) -> SubscriptionRequest:
    """A ``POST /queries/{queryName}/subscriptions`` body as a :class:`SubscriptionRequest`, or
    :class:`SubscriptionRejected` naming every problem by JSON path."""
    if not isinstance(body, dict):
        raise SubscriptionRejected([DefinitionProblem("$", "a subscription is a JSON object with dest and "
                                                           "either stream or schedule")])
    problems = _member_problems(body, allowed_hosts)
    stream, schedule = body.get("stream"), body.get("schedule")
    if "stream" in body and not isinstance(stream, bool):
        problems.append(DefinitionProblem("$.stream", "true or false"))
    if schedule is not None:
        problems += check_schedule(schedule)
        if stream is True:
            problems.append(DefinitionProblem("$.stream", "a subscription is either a stream or a schedule"))
    elif stream is not True:
        # REST bindings, POST /queries/{queryName}/subscriptions: "If these are missing the query subscription
        # is invalid because the server won't know when to notify a client."
        problems.append(DefinitionProblem("$.stream", "set stream to true or give a schedule (EPCIS 2.0 REST "
                                                      "bindings: a subscription must say when to notify)"))
    if problems:
        raise SubscriptionRejected(problems)
    initial = body.get("initialRecordTime")
    return SubscriptionRequest(
        dest=str(body["dest"]), signature_token=body.get("signatureToken"),
        report_if_empty=bool(body.get("reportIfEmpty", False)),
        initial_record_time=None if initial is None else parse_time(initial, "initialRecordTime"),
        stream=schedule is None,
        schedule=None if schedule is None else {str(k): str(v) for k, v in schedule.items()},
    )


#: The query-string parameters of a WebSocket subscription (REST bindings ``GET /queries/{queryName}/events``
#: with ``Upgrade: websocket``): ``stream`` or the schedule's fields, ``reportIfEmpty``, ``initialRecordTime``.
LIVE_PARAMETERS = ("stream", "reportIfEmpty", "initialRecordTime", *FIELDS)


def parse_live_request(params: Mapping[str, str]) -> SubscriptionRequest:
    """A WebSocket subscription's query-string parameters as a :class:`SubscriptionRequest` (its ``dest`` is
    the connection itself), or :class:`SubscriptionRejected` naming each parameter by ``$.<name>``."""
    problems = [DefinitionProblem(f"$.{key}", "not a parameter of a WebSocket subscription "
                                              f"({', '.join(LIVE_PARAMETERS)}, perPage)")
                for key in params if key not in (*LIVE_PARAMETERS, "perPage")]
    body: dict[str, Any] = {"dest": "http://localhost/"}
    flags = {"true": True, "false": False}
    for key in ("stream", "reportIfEmpty"):
        if key in params:
            body[key] = flags.get(params[key].lower(), params[key])
    if "initialRecordTime" in params:
        body["initialRecordTime"] = params["initialRecordTime"]
    schedule = {key: params[key] for key in FIELDS if key in params}
    if schedule:
        body["schedule"] = schedule
    try:
        request = parse_request(body, allowed_hosts=())
    except SubscriptionRejected as exc:
        problems += exc.problems
    if problems:
        raise SubscriptionRejected(problems)
    return dataclasses.replace(request, dest="websocket")


def signature(body: bytes, token: str) -> str:
    """The ``GS1-Signature`` header value of a delivery: hex HMAC-SHA256 of ``body`` keyed with ``token``."""
    return hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def retry_delay_us(failures: int) -> int:
    """How long to wait before the next attempt after ``failures`` failed ones (exponential, capped)."""
    if failures <= 0:
        return 0
    return min(_FIRST_RETRY_US << min(failures - 1, 30), _LONGEST_RETRY_US)


def smaller_batch(size: int) -> int:
    """The batch size after a receiver answered ``413`` to ``size`` events (REST bindings, the callback's
    413: "asks the server to send EPCIS events in smaller batches"): half, and never below one event."""
    return max(1, size // 2)


def create_ledger(row_id: int) -> tuple[str, str, tuple[Subject, ...]]:
    """(action, rule, subjects) of the ledger entry of a new subscription."""
    return "subscription.create", SUBSCRIPTION_RULE, (Subject("subscription", "id", row_id),)


def end_ledger(row_id: int) -> tuple[str, str, tuple[Subject, ...]]:
    """(action, rule, subjects) of the ledger entry that ends a subscription whose named query is gone (deleted,
    or no longer its party's): there is nothing left for it to run."""
    return ("subscription.end", "a subscription ends with its named query (EPCIS 2.0 REST bindings "
            "DELETE /queries/{queryName})", (Subject("subscription", "id", row_id),))


def delete_ledger(row_id: int) -> tuple[str, str, tuple[Subject, ...]]:
    """(action, rule, subjects) of the ledger entry of an unsubscription (the row is kept, marked deleted, so
    that the entry that created it still verifies)."""
    return "subscription.delete", SUBSCRIPTION_RULE, (Subject("subscription", "id", row_id),)
