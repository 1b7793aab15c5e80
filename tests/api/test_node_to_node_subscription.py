"""One roadpass node subscribes another to its events: the sender's webhook deliveries, signed with a webhook
key of the receiving node, land in the receiver's own ``/capture``, and the receiver stores each event once
however often it is delivered (at-least-once delivery, idempotent capture by eventID)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import text

from roadpass.bootstrap import Roadpass, bootstrap
from roadpass.settings import Settings
from roadpass.trace.subscriptions import signature
from served import served

EXAMPLES = Path(__file__).parents[2].parent / "shared/conformance/epcis/examples"


@pytest.fixture
def receiving_node(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[Roadpass, int]]:
    """A second node (its own database) served by uvicorn on a loopback port."""
    target = tmp_path / "receiver.sqlite3"
    shutil.copy(sqlite_template, target)
    node = bootstrap(Settings(database_url=f"sqlite:///{target}", environment="test"))
    try:
        with served(node) as port:
            yield node, port
    finally:
        node.close()


def _stored(node: Roadpass, event_ids: set[str]) -> list[str]:
    with node.uow.read() as conn:
        rows = conn.execute(text("SELECT event_id FROM epcis_event")).scalars().all()
    return [str(r) for r in rows if r in event_ids]


def test_deliveries_into_another_nodes_capture_are_stored_once(
    sqlite_app: Roadpass, receiving_node: tuple[Roadpass, int]
) -> None:
    sender, (receiver, port) = sqlite_app, receiving_node
    party = receiver.admin.create_party(actor="test", key="maker-eu", name="Maker EU", role="manufacturer",
                                        country="DE", gcp="0614141")
    made, info = receiver.admin.create_api_key(actor="test", party_id=party.id, name="from head office",
                                               webhook=True)
    maker = sender.admin.create_party(actor="test", key="maker", name="Maker", role="manufacturer", country="CN",
                                      gcp="0614141")
    sender.queries.create({"name": "everything", "query": {}}, actor="test", party_id=maker.id)
    body = {"dest": f"http://127.0.0.1:{port}/capture", "signatureToken": made.token, "stream": True}
    for _ in range(2):  # two subscriptions: every event is delivered twice
        sender.subscriptions.create("everything", body, actor="test", party_id=maker.id)
    ids: set[str] = set()
    for name in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.2-ObjectEvent.jsonld"):
        document = orjson.loads((EXAMPLES / name).read_bytes())
        sender.trace.capture(document, actor="test")
        ids |= {e["eventID"] for e in document["epcisBody"]["eventList"]}

    for _ in range(10):
        sender.subscriptions.run_once()
    states = [s.as_json() for s in sender.subscriptions.listing("everything", party_scope=maker.id)]
    assert all("lastNotifiedAt" in s and s["failures"] == 0 for s in states), states

    deadline = time.monotonic() + 20  # the receiver captures asynchronously (capture jobs)
    while len(_stored(receiver, ids)) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.1)
    stored = _stored(receiver, ids)
    assert sorted(stored) == sorted(ids)  # each event once, none lost
    with receiver.uow.read() as conn:
        actors = set(conn.execute(text("SELECT DISTINCT actor FROM capture_job")).scalars())
    assert actors == {f"party:maker-eu/key:{info.key_id}"}


def test_a_delivery_no_webhook_key_signed_is_refused(receiving_node: tuple[Roadpass, int]) -> None:
    receiver, port = receiving_node
    party = receiver.admin.create_party(actor="test", key="maker-eu", name="Maker EU", role="manufacturer",
                                        country="DE", gcp="0614141")
    made, info = receiver.admin.create_api_key(actor="test", party_id=party.id, name="peer", webhook=True)
    plain, _ = receiver.admin.create_api_key(actor="test", party_id=party.id, name="not a webhook key")
    document = (EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_bytes()
    url = f"http://127.0.0.1:{port}/capture"
    headers = {"Content-Type": "application/ld+json"}
    for wrong in (signature(document, plain.token), signature(document + b" ", made.token), "00"):
        refused = httpx.post(url, content=document, headers={**headers, "GS1-Signature": wrong})
        assert refused.status_code == 401 and "GS1-Signature" in refused.json()["title"]
    accepted = httpx.post(url, content=document, headers={**headers, "GS1-Signature": signature(document, made.token)})
    assert accepted.status_code == 202
    receiver.admin.revoke_api_key(actor="test", key_id=info.key_id)
    again = httpx.post(url, content=document, headers={**headers, "GS1-Signature": signature(document, made.token)})
    assert again.status_code == 401
