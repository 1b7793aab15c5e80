"""roadpass's subscriber: paho-mqtt, MQTT 3.1.1, QoS 1, a persistent session, acknowledgement after storage.

MQTT 3.1.1 §3.1.2.4: with ``CleanSession = 0`` and a fixed client id the broker keeps the subscription and
queues QoS 1 messages while roadpass is away, and resends the unacknowledged ones on reconnect (§4.4). The
subscriber acknowledges (PUBACK, §4.3.2) a message only once the batch holding it is committed (paho's
manual acknowledgement), so a broker or roadpass that stops between receipt and storage loses nothing
acknowledged; the redelivery is a duplicate the store keeps once. §4.6: PUBACKs go out in receipt order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Final, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from roadpass.broker import paho_poll
from roadpass.telematics.ingest import BatchOutcome, Inbound, IngestService

__all__ = ["CLIENT_ID", "MqttIngester"]

#: The fixed client id of roadpass's persistent session.
CLIENT_ID: Final = "roadpass-ingest"
#: A batch closes when no message has come for this long (seconds).
IDLE_GAP: Final = 0.02
_log = logging.getLogger(__name__)


class _Received(NamedTuple):
    inbound: Inbound
    mid: int
    qos: int


class MqttIngester:
    """Receives ``roadpass/units/#`` and hands batches to the ingest service, acknowledging after storage."""

    def __init__(
        self, ingest: IngestService, *, host: str, port: int, username: str, password: str,
        client_id: str = CLIENT_ID, batch_max: int = 5000, batch_wait: float = 0.1,
        on_batch: Callable[[BatchOutcome], None] | None = None,
    ) -> None:
        self.ingest = ingest
        self.host, self.port = host, port
        self.batch_max, self.batch_wait = batch_max, batch_wait
        self.on_batch = on_batch
        self._pending: deque[_Received] = deque()  # appended by the network thread, taken by the worker
        self._ready = threading.Event()
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._worker: threading.Thread | None = None
        paho_poll.install()  # paho's select() cannot watch descriptors >= 1024
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  protocol=mqtt.MQTTv311, manual_ack=True)
        self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def _on_connect(self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            _log.warning("MQTT connect refused: %s", reason)
            return
        client.subscribe("roadpass/units/#", qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _ud: Any, _mid: int, _codes: Any, _props: Any) -> None:
        # Ready once the broker has the subscription (SUBACK, MQTT 3.1.1 §3.9): from then on nothing published
        # is missed, even on the very first connection, before a persistent session exists.
        self.connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _ud: Any, _flags: Any, _reason: Any, _props: Any) -> None:
        self.connected.clear()

    def _on_message(self, _c: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        inbound = Inbound(msg.topic, bytes(msg.payload), time.time_ns() // 1000)
        self._pending.append(_Received(inbound, msg.mid, msg.qos))
        if not self._ready.is_set():
            self._ready.set()

    def start(self, *, wait: float = 10.0) -> None:
        """Connect (retrying in the background) and start the batch worker; wait up to ``wait`` s for the
        subscription."""
        self._stop.clear()
        self._worker = threading.Thread(target=self._run, name="telematics-ingest", daemon=True)
        self._worker.start()
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        self.connected.wait(wait)

    def stop(self) -> None:
        """Store what was received, acknowledge it, and disconnect (the session stays on the broker)."""
        self._stop.set()
        if self._worker is not None:
            self._worker.join(30)
            self._worker = None
        self.client.disconnect()
        self.client.loop_stop()

    def _take(self) -> list[_Received]:
        """A batch: what arrives within ``batch_wait`` of the first message, closed early when nothing came
        for :data:`IDLE_GAP` s (the broker's in-flight window may be full of this very batch). The worker
        sleeps while the network thread fills the deque and then takes it whole, instead of waking (and
        taking the GIL back) once per message."""
        if not self._ready.wait(0.2):
            return []
        pending = self._pending
        deadline = time.monotonic() + self.batch_wait
        while len(pending) < self.batch_max and time.monotonic() < deadline:
            before = len(pending)
            time.sleep(IDLE_GAP)
            if len(pending) == before:
                break
        self._ready.clear()  # set again by any message that arrives from here on
        batch = [pending.popleft() for _ in range(min(len(pending), self.batch_max))]
        if pending:
            self._ready.set()
        return batch

    def _store(self, batch: list[_Received]) -> BatchOutcome | None:
        while True:
            try:
                return self.ingest.ingest([r.inbound for r in batch])
            except Exception:  # database unavailable: keep the batch unacknowledged and retry
                _log.exception("telematics batch not stored; retrying")
                if self._stop.wait(1.0):
                    return None

    def _run(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                if self._stop.is_set():
                    return
                continue
            outcome = self._store(batch)
            if outcome is None:  # stopping with the database away: the broker redelivers it later
                return
            for received in batch:
                if received.qos:
                    self.client.ack(received.mid, received.qos)
            if self.on_batch is not None:
                self.on_batch(outcome)
