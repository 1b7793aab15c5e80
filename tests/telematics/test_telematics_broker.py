"""Through a real Mosquitto on a free port: units' own accounts and ACLs, QoS 1 with a persistent session,
a broker restart, a roadpass restart, a revocation, a flood of bad messages."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from mqtt_helpers import Unit, wait_for
from telematics_world import SPEED, build, message, unit_epc, vin, vss_topic

from roadpass.bootstrap import Roadpass
from roadpass.broker.accounts import MosquittoAccounts
from roadpass.broker.edge import TelematicsEdge
from roadpass.broker.runner import find_mosquitto, free_port
from roadpass.broker.subscriber import MqttIngester
from roadpass.trace.timeutil import FOREVER

pytestmark = pytest.mark.skipif(find_mosquitto() is None,
                                reason="mosquitto is not installed (make broker, or apt-get install mosquitto)")
T0_MS = 1_772_352_000_000 + 3_600_000  # 2026-03-01T09:00:00Z
_ids = itertools.count()


@dataclass
class World:
    app: Roadpass
    edge: TelematicsEdge
    port: int

    def unit(self, n: int) -> Unit:
        issued = self.app.telematics.create_credential(unit_epc(n), actor="test")
        return Unit(self.port, issued.username, issued.password, f"unit-{n}-{next(_ids)}")

    def stored(self) -> int:
        return self.app.telematics.status().counters.get("stored", 0)

    def speeds(self, vehicle: int) -> list[float]:
        return [p.value for p in self.app.telematics.series(vin(vehicle), [SPEED], 0, FOREVER)[SPEED]]


@pytest.fixture
def world(sqlite_app: Roadpass, tmp_path: Path) -> Iterator[World]:
    build(sqlite_app, 3)
    directory = tmp_path / "mosquitto"
    sqlite_app.telematics.accounts = MosquittoAccounts(directory)
    port = free_port()
    edge = TelematicsEdge(sqlite_app.telematics, sqlite_app.telematics_ingest, directory, host="127.0.0.1",
                          port=port, client_id=f"roadpass-test-{next(_ids)}")
    edge.start()
    yield World(sqlite_app, edge, port)
    edge.stop()


def test_units_publish_only_under_their_own_topic(world: World) -> None:
    one = world.unit(1)
    assert one.connected.wait(5)
    one.publish(vss_topic(2), message({SPEED: 99.0}, T0_MS)).wait_for_publish(5)  # the ACL drops it
    for i in range(20):
        one.publish(vss_topic(1), message({SPEED: float(i)}, T0_MS + i))
    assert wait_for(lambda: world.stored() == 20)
    assert world.speeds(1) == [float(i) for i in range(20)] and world.speeds(2) == []
    one.close()


def test_broker_restart_mid_stream_loses_nothing_acknowledged(world: World) -> None:
    one = world.unit(1)
    assert one.connected.wait(5)
    infos = []
    for i in range(400):
        infos.append((i, one.publish(vss_topic(1), message({SPEED: float(i)}, T0_MS + i))))
        if i == 200:
            world.edge.broker.restart()
    wait_for(lambda: len(one.acked) == len(infos), 30)  # queued while the broker was down: resent after
    acknowledged = {float(i) for i, info in infos if info.mid in one.acked}
    assert len(acknowledged) > 300
    assert wait_for(lambda: acknowledged <= set(world.speeds(1)), 30)
    one.close()


def test_roadpass_restart_resumes_from_its_persistent_session(world: World) -> None:
    one = world.unit(1)
    assert one.connected.wait(5)
    one.publish(vss_topic(1), message({SPEED: 0.0}, T0_MS)).wait_for_publish(5)
    assert wait_for(lambda: world.stored() == 1)
    world.edge.ingester.stop()  # roadpass goes away; the broker keeps its session and queues
    for i in range(1, 51):
        one.publish(vss_topic(1), message({SPEED: float(i)}, T0_MS + i)).wait_for_publish(5)
    again = MqttIngester(world.app.telematics_ingest, host="127.0.0.1", port=world.port, username="roadpass",
                         password=world.edge.broker.accounts.roadpass_password(),
                         client_id=world.edge.ingester.client._client_id.decode())
    again.start()
    try:
        assert wait_for(lambda: world.stored() == 51)
    finally:
        again.stop()
    one.close()


def test_revoked_credentials_stop_a_unit_at_once(world: World) -> None:
    one, two = world.unit(1), world.unit(2)
    assert one.connected.wait(5) and two.connected.wait(5)
    one.publish(vss_topic(1), message({SPEED: 1.0}, T0_MS)).wait_for_publish(5)
    assert wait_for(lambda: world.speeds(1) == [1.0])
    world.app.telematics.revoke_credential(unit_epc(1), actor="test")
    assert wait_for(lambda: one.disconnects >= 1, 5), "the broker did not drop the revoked unit"
    one.publish(vss_topic(1), message({SPEED: 2.0}, T0_MS + 1))
    two.publish(vss_topic(2), message({SPEED: 5.0}, T0_MS)).wait_for_publish(5)
    assert wait_for(lambda: world.speeds(2) == [5.0])
    assert not wait_for(lambda: world.speeds(1) != [1.0], 2.5)
    assert not one.connected.is_set()
    one.close()
    two.close()


def test_a_flood_of_bad_messages_does_not_stop_good_ones(world: World) -> None:
    bad, good = world.unit(1), world.unit(2)
    assert bad.connected.wait(5) and good.connected.wait(5)
    for i in range(3000):
        bad.publish(vss_topic(1), b"{not json" if i % 2 else message({SPEED: "fast"}, T0_MS + i))
        if i % 60 == 0:
            good.publish(vss_topic(2), message({SPEED: float(i)}, T0_MS + i))
    assert wait_for(lambda: len(world.speeds(2)) == 50, 30)
    refused = world.app.telematics.status().refused
    assert wait_for(lambda: sum(world.app.telematics.status().refused.values()) == 3000, 30), refused
    bad.close()
    good.close()
