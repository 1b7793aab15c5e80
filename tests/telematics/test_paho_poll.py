"""paho-mqtt connects even when its socket's descriptor is numbered past select()'s limit (FD_SETSIZE 1024),
as in a server process that holds many connections."""

from __future__ import annotations

import resource
import select
import socket
from pathlib import Path

import pytest

from roadpass.bootstrap import Roadpass
from roadpass.broker import paho_poll
from roadpass.broker.accounts import ROADPASS_USER, broker_directory
from roadpass.broker.runner import MosquittoBroker, find_mosquitto, free_port
from roadpass.broker.subscriber import MqttIngester


def test_poll_select_answers_as_select_does() -> None:
    left, right = socket.socketpair()
    try:
        assert paho_poll.poll_select([left], [], [], 0) == ([], [], [])
        assert paho_poll.poll_select([left], [right], [], 0) == ([], [right], [])
        right.send(b"x")
        assert paho_poll.poll_select([left], [], [], 1) == ([left], [], [])
        if left.fileno() < 1024:  # select() itself refuses a descriptor past FD_SETSIZE: poll_select's reason
            assert select.select([left], [], [], 0)[0] == [left]
        left.close()
        with pytest.raises(ValueError, match="negative"):
            paho_poll.poll_select([left], [], [], 0)
    finally:
        right.close()


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed (make broker)")
def test_the_ingester_connects_with_a_descriptor_past_1024(sqlite_app: Roadpass, tmp_path: Path) -> None:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        pytest.skip(f"the open-files limit ({soft}) is below what the test needs")
    broker = MosquittoBroker(broker_directory(tmp_path / "mqtt"), port=free_port())
    broker.start()
    held = [open(__file__, "rb") for _ in range(1100)]  # the next socket's descriptor is past 1024  # noqa: SIM115
    try:
        ingester = MqttIngester(sqlite_app.telematics_ingest, host=broker.host, port=broker.port,
                                username=ROADPASS_USER, password=broker.accounts.roadpass_password())
        ingester.start()
        try:
            assert ingester.connected.is_set()
        finally:
            ingester.stop()
    finally:
        for handle in held:
            handle.close()
        broker.stop()
