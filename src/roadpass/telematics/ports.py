"""What telematics needs from outside: persistence (implemented by :mod:`roadpass.store.telematics`), the
as-built genealogy (answered by the trace service, see :mod:`roadpass.telematics.attribution`) and the
broker's account files (written by :mod:`roadpass.broker.accounts`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from roadpass.ledger.chain import Subject as LedgerSubject

__all__ = [
    "BrokerAccounts",
    "Credential",
    "Genealogy",
    "Holding",
    "RefusalRow",
    "RollupDelta",
    "RollupRow",
    "SampleRow",
    "Subject",
    "TelematicsRecords",
]


class Subject(NamedTuple):
    """A unit as the trace store knows it: its row id and canonical key."""

    id: int
    key: str


class Holding(NamedTuple):
    """``subject`` held (or was fitted) during ``[start, end)`` (UTC µs)."""

    subject: Subject
    start: int
    end: int


class SampleRow(NamedTuple):
    """One stored sample: whose (vehicle or pack), which signal, when sampled, value, reported by, received."""

    subject_id: int
    path_id: int
    ts: int
    value_num: float | None
    value_text: str | None
    unit_id: int
    received_us: int


class RollupDelta(NamedTuple):
    """What new samples add to one roll-up bucket."""

    subject_id: int
    path_id: int
    grain: int
    bucket: int
    samples: int
    total: float
    low: float
    high: float


class RollupRow(NamedTuple):
    """A stored roll-up bucket (``grain`` seconds from ``bucket``, UTC µs)."""

    path_id: int
    bucket: int
    samples: int
    total: float
    low: float
    high: float


class RefusalRow(NamedTuple):
    """A dead-letter row: what was refused, why, where (JSON path), from which topic, with the payload."""

    received_us: int
    topic: str
    unit: str | None
    reason: str
    json_path: str
    detail: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Credential:
    """A telematics unit's broker account (the password itself is never stored, only Mosquitto's hash)."""

    id: int
    unit_key: str
    username: str
    password_hash: str
    created_at: int
    revoked_at: int | None = None


class Genealogy(Protocol):
    """The as-built answers attribution needs."""

    def unit_holders(self, key: str) -> tuple[Subject, list[Holding]] | None:
        """The unit and each interval a vehicle held it; None when the unit is unknown."""
        ...

    def pack_at(self, vehicle_key: str, ts: int) -> Holding | None:
        """The traction pack fitted in the vehicle at ``ts`` and its fitted interval; None if none."""
        ...


class BrokerAccounts(Protocol):
    """The broker's password and ACL files."""

    def hash_password(self, password: str) -> str:
        """The password in the broker's own hash format."""
        ...

    def publish(self, credentials: Sequence[Credential]) -> None:
        """Write the live accounts and make a running broker reload them (dropping revoked clients)."""
        ...


class TelematicsRecords(Protocol):
    """The telematics tables inside one transaction."""

    def path_ids(self, paths: Collection[str]) -> dict[str, int]:
        """Row ids of VSS paths, creating the missing ones."""
        ...

    def known_path_ids(self, paths: Collection[str]) -> dict[str, int]:
        """Row ids of those VSS paths that are stored (creating none)."""
        ...

    def insert_samples(self, rows: Sequence[SampleRow]) -> list[SampleRow]:
        """Insert samples, skipping those whose (subject, path, ts) is stored; the rows inserted."""
        ...

    def add_rollups(self, deltas: Sequence[RollupDelta]) -> None:
        """Add to roll-up buckets, creating the missing ones."""
        ...

    def add_refusals(self, rows: Sequence[RefusalRow]) -> None:
        """Keep refused input in the dead-letter table."""
        ...

    def add_counters(self, deltas: Mapping[str, int]) -> None:
        """Add to named counters (creating missing ones)."""
        ...

    def set_gauges(self, values: Mapping[str, int]) -> None:
        """Set named gauges (last lag figures, last batch time)."""
        ...

    def counters(self) -> dict[str, int]:
        """Every counter and gauge."""
        ...

    def insert_batch(self, **fields: Any) -> int:
        """Record an ingest batch (what the ledger entry names); its row id."""
        ...

    def append_ledger(self, actor: str, action: str, rule: str, subjects: Sequence[LedgerSubject]) -> int:
        """Append a ledger entry on the rows ``subjects`` name; its sequence number."""
        ...

    def prune_raw(self, before: int) -> int:
        """Delete raw samples taken, and dead letters received, before ``before``; how many samples."""
        ...

    def samples(self, subject_id: int, path_ids: Collection[int], start: int, end: int) -> list[SampleRow]:
        """Raw samples of a subject in ``[start, end)``, by path then time."""
        ...

    def rollups(self, subject_id: int, path_ids: Collection[int], grain: int, start: int, end: int) -> list[RollupRow]:
        """Roll-up buckets of a subject starting in ``[start, end)``, by path then bucket."""
        ...

    def recent_refusals(self, limit: int) -> list[RefusalRow]:
        """The newest dead-letter rows."""
        ...

    def credential(self, unit_key: str) -> Credential | None:
        """The unit's live (unrevoked) credential."""
        ...

    def live_credentials(self) -> list[Credential]:
        """Every unrevoked credential."""
        ...

    def insert_credential(self, *, unit_key: str, username: str, password_hash: str, actor: str, at: int) -> int:
        """Store a new credential; its row id."""
        ...

    def revoke_credential(self, credential_id: int, *, actor: str, at: int) -> int:
        """Mark a credential revoked and record the change; the change row's id."""
        ...
