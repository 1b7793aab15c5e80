"""MQTT helpers for the broker tests: a unit that publishes with its own account, and waiting for storage."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from roadpass.broker import paho_poll


class Unit:
    """A telematics unit's MQTT client: its own account, a persistent session, QoS 1."""

    def __init__(self, port: int, username: str, password: str, client_id: str) -> None:
        self.connected = threading.Event()
        self.disconnects = 0
        self.acked: set[int] = set()  # mids the broker acknowledged (PUBACK)
        paho_poll.install()  # a long test run holds many descriptors: select() stops at 1024
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(1, 1)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.connect_async("127.0.0.1", port, keepalive=10)
        self.client.loop_start()

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if not reason.is_failure:
            self.connected.set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, _reason: Any, _p: Any) -> None:
        self.acked.add(mid)

    def _on_disconnect(self, *_args: Any) -> None:
        self.connected.clear()
        self.disconnects += 1

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        """Publish with QoS 1 (queued while disconnected, resent on reconnect)."""
        return self.client.publish(topic, payload, qos=1)

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``check`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()
