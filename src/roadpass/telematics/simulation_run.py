"""Running the simulated fleet against the broker: wall-clock time onto simulated time, messages out through
a publisher, battery health folded into the passports on the way.

Simulated time ends at the moment the run started (``start = now - minutes x 60 x speedup``), so a run of
``M`` minutes at speedup ``X`` replays the last ``M x X`` minutes of the fleet's life and every sample is in
the past (no sample from the future reaches the store). Each unit gets fresh broker credentials through the
telematics service (a live account is revoked and made again: the password is shown only once), so the
broker's ACL, not the simulator, decides what a unit may publish.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from roadpass.telematics.health_service import HealthUpdate, PackHealthService
from roadpass.telematics.simulation import FleetSim, Outgoing, VehicleSpec

__all__ = ["ACTOR", "Publisher", "SimulationResult", "SimulationRunner", "UnitAccounts"]

ACTOR: Final = "telematics-simulator"
_US: Final = 1_000_000


class Publisher(Protocol):
    """Publishes as telematics units (implemented by :class:`roadpass.broker.publisher.MqttPublisher`)."""

    def connect(self, unit_key: str, username: str, password: str) -> None:
        """Open the unit's own connection with its own credentials."""
        ...

    def publish(self, unit_key: str, topic: str, payload: bytes) -> None:
        """Publish one message as the unit (QoS 1)."""
        ...

    def flush(self, timeout: float) -> int:
        """Wait until the broker has acknowledged what was published; how many were not."""
        ...

    def close(self) -> None:
        """Disconnect every unit."""
        ...


class IssuedLike(Protocol):
    """A new broker account (``TelematicsService.create_credential``'s answer)."""

    @property
    def username(self) -> str:
        """The unit's broker user name."""
        ...

    @property
    def password(self) -> str:
        """The password, shown once."""
        ...


class UnitAccounts(Protocol):
    """The telematics service's credential calls."""

    def create_credential(self, unit: str, *, actor: str) -> IssuedLike:
        """A new account for the unit (ValueError if it has a live one)."""
        ...

    def revoke_credential(self, unit: str, *, actor: str) -> Any:
        """Revoke the unit's live account."""
        ...


@dataclass(slots=True)
class SimulationResult:
    """What a run did."""

    vehicles: int = 0
    messages: int = 0
    unacknowledged: int = 0
    start_us: int = 0
    end_us: int = 0
    health_updates: list[HealthUpdate] = field(default_factory=list)
    health_errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The result as JSON (the CLI prints it)."""
        return {"vehicles": self.vehicles, "messages": self.messages, "unacknowledged": self.unacknowledged,
                "simulatedFrom": self.start_us, "simulatedTo": self.end_us,
                "healthUpdates": [u.as_json() for u in self.health_updates], "healthErrors": self.health_errors}


class SimulationRunner:
    """Drives a :class:`FleetSim` in (sped-up) real time through a publisher."""

    def __init__(
        self, vehicles: Sequence[VehicleSpec], publisher: Publisher, accounts: UnitAccounts, *,
        minutes: float, speedup: float = 60.0, health: PackHealthService[Any] | None = None,
        publish_every_s: float = 120.0, tick_seconds: float = 0.5, health_every_seconds: float = 10.0,
        seed: int = 14, now_us: int | None = None, clock: Callable[[], float] = time.monotonic,
        lag_seconds: float = 3.0,
    ) -> None:
        if minutes <= 0 or speedup <= 0:
            raise ValueError("minutes and speedup must be > 0")
        self.vehicles = list(vehicles)
        self.publisher, self.accounts, self.health = publisher, accounts, health
        self.minutes, self.speedup = minutes, speedup
        self.tick, self.health_every, self.clock = tick_seconds, health_every_seconds, clock
        self.lag_seconds = lag_seconds
        end = time.time_ns() // 1000 if now_us is None else now_us
        self.start_us = end - int(minutes * 60 * speedup * _US)
        self.end_us = end
        self.fleet = FleetSim(self.vehicles, self.start_us, seed=seed, publish_every_s=publish_every_s)

    def _credentials(self) -> None:
        for spec in self.vehicles:
            try:
                issued = self.accounts.create_credential(spec.unit_key, actor=ACTOR)
            except ValueError:  # a live account from an earlier run: its password is gone, make a new one
                self.accounts.revoke_credential(spec.unit_key, actor=ACTOR)
                issued = self.accounts.create_credential(spec.unit_key, actor=ACTOR)
            self.publisher.connect(spec.unit_key, issued.username, issued.password)

    def _publish(self, out: list[Outgoing], result: SimulationResult) -> None:
        for message in out:
            self.publisher.publish(message.unit_key, message.topic, message.payload)
        result.messages += len(out)

    def run(self, stop: threading.Event | None = None, *, drain_seconds: float = 3.0) -> SimulationResult:
        """Run until the simulated clock reaches now (or ``stop`` is set); then let the ingest store the
        last messages (``drain_seconds``) and write every pack's health once more."""
        result = SimulationResult(vehicles=len(self.vehicles), start_us=self.start_us, end_us=self.end_us)
        stop = stop or threading.Event()
        self._credentials()
        wall0 = last_health = self.clock()
        packs = [v.pack.key for v in self.vehicles]
        try:
            while not stop.is_set():
                elapsed = self.clock() - wall0
                sim = min(self.end_us, self.start_us + int(elapsed * self.speedup * _US))
                self._publish(self.fleet.advance(sim), result)
                if sim >= self.end_us:
                    break
                if self.health is not None and self.clock() - last_health >= self.health_every:
                    # leave the ingest's lag behind: a sample folded past is not counted again
                    settled = sim - int(self.lag_seconds * self.speedup * _US)
                    try:
                        result.health_updates += self.health.update_all(packs, until_us=settled)
                    except Exception as exc:  # a busy database: the fleet keeps driving, the next round retries
                        result.health_errors.append(f"{type(exc).__name__}: {exc}")
                    last_health = self.clock()
                stop.wait(self.tick)
            result.unacknowledged = self.publisher.flush(30.0)
        finally:
            self.publisher.close()
        if self.health is not None and not stop.is_set():
            stop.wait(drain_seconds)
            result.health_updates += self.health.update_all(packs, until_us=self.end_us, force=True)
        return result
