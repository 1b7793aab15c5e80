"""Blocking work runs off the event loop: other requests are answered while a large capture is stored."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from roadpass.api.app import create_app
from roadpass.bootstrap import Roadpass

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]


def _large_document(events: int) -> bytes:
    return orjson.dumps({
        "@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
        "creationDate": "2026-01-05T10:00:00.000Z",
        "epcisBody": {"eventList": [
            {"type": "ObjectEvent", "eventTime": "2026-01-05T10:00:00.000Z", "eventTimeZoneOffset": "+00:00",
             "epcList": [f"urn:epc:id:sgtin:0614141.099999.{i}"], "action": "ADD", "bizStep": "commissioning"}
            for i in range(events)
        ]},
    })


def test_reads_are_answered_while_a_large_capture_is_stored(
    app: Roadpass, auth_headers: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = auth_headers(gcp="0614141")
    body = _large_document(5000)
    # The capture is held at its start until the read has been answered: were it running on the event loop,
    # the read could never be answered and would time out.
    gate = threading.Event()
    capture = app.trace.capture

    def held_capture(*args: Any, **kwargs: Any) -> Any:
        assert gate.wait(30), "the read was not answered while the capture was under way"
        return capture(*args, **kwargs)

    monkeypatch.setattr(app.trace, "capture", held_capture)

    async def scenario() -> None:
        transport = httpx.ASGITransport(app=create_app(roadpass=app))
        async with httpx.AsyncClient(transport=transport, base_url="http://roadpass.test", headers=headers) as client:
            stored = asyncio.create_task(client.post("/capture", content=body,
                                                     headers={"Content-Type": "application/ld+json"}))
            await asyncio.sleep(0.05)  # the capture has reached its worker thread
            me = await asyncio.wait_for(client.get("/auth/me"), timeout=10)
            assert me.status_code == 200
            assert not stored.done()
            gate.set()
            response = await stored
            assert response.status_code == 202, response.text

    asyncio.run(scenario())
