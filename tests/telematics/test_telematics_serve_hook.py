"""``roadpass serve`` starts the broker and the ingester beside the server (and can be told not to)."""

from __future__ import annotations

from pathlib import Path

import pytest

from roadpass.bootstrap import bootstrap
from roadpass.broker.runner import find_mosquitto, free_port
from roadpass.features import telematics
from roadpass.settings import Settings


def test_broker_off_by_setting(sqlite_url: str) -> None:
    app = bootstrap(Settings(database_url=sqlite_url, environment="test", telematics_broker=False))
    try:
        assert telematics.before_serve(app) == ["telematics: broker off (ROADPASS_TELEMATICS_BROKER=false)"]
    finally:
        app.close()


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed (make broker)")
def test_serve_starts_broker_and_ingester(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    app = bootstrap(Settings(database_url=sqlite_url, environment="test", telematics_dir=tmp_path, mqtt_port=port))
    edge = telematics.start_edge(app)
    try:
        assert edge.broker.running and edge.ingester.connected.is_set()
        config = (tmp_path / "mosquitto.conf").read_text()
        assert f"listener {port} 127.0.0.1" in config and "persistence true" in config
        assert "allow_anonymous false" in config
    finally:
        edge.stop()
        app.close()
    assert not edge.broker.running and not (tmp_path / "broker.pid").exists()
