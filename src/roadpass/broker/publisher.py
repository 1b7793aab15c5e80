"""Publishing as telematics units: one paho-mqtt client per unit, each with the unit's own broker account.

The simulator publishes the way a fleet does: every unit opens its own MQTT 3.1.1 connection with its own
user name and password, so the broker's ACL (a unit may write only under ``roadpass/units/{its unit}/``)
applies to it exactly as to a real unit. Messages go out with QoS 1 (MQTT 3.1.1 §4.3.2: at least once;
the broker acknowledges with PUBACK), and :meth:`MqttPublisher.flush` waits for those acknowledgements.
A connection the broker refuses (its account files are reloaded a moment after a credential is created)
is retried by paho's network thread until ``connect_timeout``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from roadpass.broker import paho_poll

__all__ = ["MqttPublisher", "PublisherError"]


class PublisherError(ConnectionError):
    """A unit could not connect to the broker (the message says which and why)."""


class _Unit:
    def __init__(self, client: mqtt.Client) -> None:
        self.client = client
        self.connected = threading.Event()
        self.refused: str | None = None
        self.pending: list[mqtt.MQTTMessageInfo] = []


class MqttPublisher:
    """:class:`roadpass.telematics.simulation_run.Publisher` over paho-mqtt."""

    def __init__(self, host: str, port: int, *, qos: int = 1, connect_timeout: float = 10.0) -> None:
        self.host, self.port, self.qos = host, port, qos
        self.connect_timeout = connect_timeout
        self._units: dict[str, _Unit] = {}

    def connect(self, unit_key: str, username: str, password: str) -> None:
        """Connect as the unit (retrying while the broker refuses, up to ``connect_timeout``)."""
        paho_poll.install()  # paho's select() cannot watch descriptors >= 1024
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sim-{username}"[:64], clean_session=True,
                             protocol=mqtt.MQTTv311)
        client.username_pw_set(username, password)
        client.max_inflight_messages_set(100)
        unit = _Unit(client)

        def on_connect(_c: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
            if reason.is_failure:
                unit.refused = str(reason)
            else:
                unit.refused = None
                unit.connected.set()

        def on_disconnect(_c: mqtt.Client, _ud: Any, _flags: Any, _reason: Any, _props: Any) -> None:
            unit.connected.clear()

        client.on_connect, client.on_disconnect = on_connect, on_disconnect
        # paho's network thread connects and, after a refusal or a drop, reconnects by itself
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.connect_async(self.host, self.port, keepalive=30)
        client.loop_start()
        if not unit.connected.wait(self.connect_timeout):
            client.disconnect()
            client.loop_stop()
            raise PublisherError(f"unit {unit_key}: broker {self.host}:{self.port} did not accept the connection "
                                 f"within {self.connect_timeout:g} s ({unit.refused or 'no answer'})")
        self._units[unit_key] = unit

    def publish(self, unit_key: str, topic: str, payload: bytes) -> None:
        """Publish as the unit (QoS 1); KeyError if the unit never connected."""
        unit = self._units[unit_key]
        info = unit.client.publish(topic, payload, qos=self.qos)
        unit.pending = [p for p in unit.pending if not p.is_published()]
        unit.pending.append(info)

    def flush(self, timeout: float) -> int:
        """Wait up to ``timeout`` s for the broker's acknowledgements; how many are still missing."""
        deadline = time.monotonic() + timeout
        missing = 0
        for unit in self._units.values():
            for info in unit.pending:
                left = deadline - time.monotonic()
                if not info.is_published() and left > 0:
                    with contextlib.suppress(RuntimeError, ValueError):  # dropped (disconnected): counted below
                        info.wait_for_publish(left)
                missing += 0 if info.is_published() else 1
            unit.pending = []
        return missing

    def close(self) -> None:
        """Disconnect every unit."""
        for unit in self._units.values():
            unit.client.disconnect()
            unit.client.loop_stop()
        self._units.clear()
