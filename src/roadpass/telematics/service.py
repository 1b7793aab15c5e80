"""The telematics service: a pack's or vehicle's signal series, units' broker credentials, the status.

Reads resolve the subject through the trace service and apply the caller's :class:`Visibility` (a caller
that may not see the unit gets :class:`~roadpass.trace.service.Hidden`). Credential changes are ledgered
(``telematics.credential.create`` / ``.revoke``) and published to the broker's account files at once.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, NamedTuple

import orjson

from roadpass.ledger.chain import Subject as LedgerSubject
from roadpass.ports import Transactions
from roadpass.telematics.ports import BrokerAccounts, Credential, TelematicsRecords
from roadpass.telematics.rollup import grain_seconds
from roadpass.telematics.topics import topic, unit_segment
from roadpass.telematics.vss import VssTree, vss_tree
from roadpass.trace.query import Visibility
from roadpass.trace.service import TraceService

__all__ = [
    "CREDENTIAL_RULE",
    "CredentialError",
    "IssuedCredential",
    "Point",
    "Rollup",
    "Status",
    "TelematicsService",
    "username_of",
]

#: Under which rule a unit's broker account is created or revoked.
CREDENTIAL_RULE: Final = (
    "one broker account per telematics unit; its ACL lets it publish only under roadpass/units/{unit}/ "
    "(docs/telematics.md)"
)
Grain = Literal["raw", "hour", "day"]


class CredentialError(ValueError):
    """A credential request that cannot be met (the message says why)."""


class Point(NamedTuple):
    """A raw sample: when (UTC µs) and its value."""

    ts: int
    value: Any


class Rollup(NamedTuple):
    """A roll-up bucket: start (UTC µs), samples, mean, minimum, maximum."""

    bucket: int
    samples: int
    mean: float
    min: float
    max: float


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A new broker account; ``password`` is shown once and never stored."""

    unit_key: str
    username: str
    password: str
    topic: str


@dataclass(slots=True)
class Status:
    """Counters since the database was created, and the last batch's lag."""

    counters: dict[str, int] = field(default_factory=dict)

    @property
    def refused(self) -> dict[str, int]:
        """Refusals by reason."""
        return {k.split(".", 1)[1]: v for k, v in sorted(self.counters.items()) if k.startswith("refused.")}

    def as_json(self) -> dict[str, Any]:
        """The status as a JSON object."""
        c = self.counters
        return {"messages": c.get("messages", 0), "stored": c.get("stored", 0),
                "duplicates": c.get("duplicates", 0), "refused": self.refused,
                "lagP50Ms": c.get("lag_p50_us", 0) / 1000, "lagP99Ms": c.get("lag_p99_us", 0) / 1000,
                "lastBatchAt": c.get("last_batch_at")}


def username_of(unit_key: str) -> str:
    """The unit's broker user name: its topic level, with ``:`` escaped (Mosquitto's password file
    separates user and hash with ``:``)."""
    return unit_segment(unit_key).replace(":", "%3A")


def _decode(datatype: str, num: float | None, text: str | None) -> Any:
    if text is not None:
        return orjson.loads(text) if datatype.endswith("[]") else text
    if datatype == "boolean":
        return bool(num)
    if datatype.startswith(("int", "uint")) and num is not None:
        return int(num)
    return num


class TelematicsService:
    """Signal series (raw and rolled up), unit credentials and the ingest status."""

    def __init__(
        self, records: Transactions[TelematicsRecords], trace: TraceService, accounts: BrokerAccounts, *,
        raw_retention_days: int = 90, tree: VssTree | None = None,
    ) -> None:
        self.records = records
        self.trace = trace
        self.accounts = accounts
        self.raw_retention_days = raw_retention_days
        self._tree = tree

    @property
    def tree(self) -> VssTree:
        """The VSS tree (read on first use)."""
        if self._tree is None:
            self._tree = vss_tree()
        return self._tree

    # --- reading ---------------------------------------------------------------------------------------

    def series(
        self, subject: str, paths: Sequence[str], start: int, end: int, grain: Grain = "raw", *,
        visibility: Visibility | None = None,
    ) -> dict[str, list[Point]] | dict[str, list[Rollup]]:
        """Signals of a pack or vehicle (any identifier the trace store resolves) for ``paths`` in
        ``[start, end)`` (UTC µs): raw samples, or hourly / daily roll-ups (by bucket start).
        :class:`~roadpass.trace.service.Hidden` when ``visibility`` does not see the subject; ValueError
        naming the field for an unknown path or grain."""
        unknown = [p for p in paths if p not in self.tree.leaves]
        if unknown:
            raise ValueError(f"path: {unknown[0]!r} is not a VSS 6.0 signal")
        seconds = grain_seconds(grain) if grain != "raw" else 0
        unit_id = self.trace.resolve(subject, visibility=visibility).id
        with self.records.read() as records:
            names = {v: k for k, v in records.known_path_ids(paths).items()}
            if not seconds:
                points: dict[str, list[Point]] = {p: [] for p in paths}
                for row in records.samples(unit_id, list(names), start, end):
                    path = names[row.path_id]
                    value = _decode(self.tree.leaves[path].datatype, row.value_num, row.value_text)
                    points[path].append(Point(row.ts, value))
                return points
            buckets: dict[str, list[Rollup]] = {p: [] for p in paths}
            for b in records.rollups(unit_id, list(names), seconds, start, end):
                buckets[names[b.path_id]].append(Rollup(b.bucket, b.samples, b.total / b.samples, b.low, b.high))
            return buckets

    def prune(self, now: int | None = None) -> int:
        """Delete raw samples and dead letters older than the retention (roll-ups stay); how many samples."""
        now = time.time_ns() // 1000 if now is None else now
        with self.records.write() as records:
            return records.prune_raw(now - self.raw_retention_days * 86_400_000_000)

    def refusals(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest dead-letter rows, for inspection."""
        with self.records.read() as records:
            rows = records.recent_refusals(limit)
        return [{"receivedAt": r.received_us, "topic": r.topic, "unit": r.unit, "reason": r.reason,
                 "path": r.json_path, "detail": r.detail, "payload": r.payload.decode("utf-8", "replace")}
                for r in rows]

    def status(self) -> Status:
        """Messages received, stored, duplicates, refused by reason, the last batch's lag."""
        with self.records.read() as records:
            return Status(records.counters())

    # --- credentials -----------------------------------------------------------------------------------

    def create_credential(self, unit: str, *, actor: str, visibility: Visibility | None = None) -> IssuedCredential:
        """A broker account for a telematics unit the trace store knows (ledgered); the password is
        returned once. :class:`CredentialError` if the unit already has a live one."""
        ref = self.trace.resolve(unit, visibility=visibility)
        password = secrets.token_urlsafe(24)
        username = username_of(ref.key)
        now = time.time_ns() // 1000
        with self.records.write() as records:
            if records.credential(ref.key) is not None:
                raise CredentialError(f"unit: {ref.key} already has broker credentials; revoke them first")
            row_id = records.insert_credential(unit_key=ref.key, username=username, actor=actor, at=now,
                                               password_hash=self.accounts.hash_password(password))
            records.append_ledger(actor, "telematics.credential.create", CREDENTIAL_RULE,
                                  (LedgerSubject("telematics_credential", "id", row_id),))
            live = records.live_credentials()
        self.accounts.publish(live)
        return IssuedCredential(ref.key, username, password, topic(ref.key))

    def revoke_credential(self, unit: str, *, actor: str, visibility: Visibility | None = None) -> Credential:
        """Revoke the unit's broker account (ledgered) and make the running broker drop it at once."""
        ref = self.trace.resolve(unit, visibility=visibility)
        now = time.time_ns() // 1000
        with self.records.write() as records:
            found = records.credential(ref.key)
            if found is None:
                raise CredentialError(f"unit: {ref.key} has no live broker credentials")
            change = records.revoke_credential(found.id, actor=actor, at=now)
            records.append_ledger(actor, "telematics.credential.revoke", CREDENTIAL_RULE,
                                  (LedgerSubject("telematics_credential_change", "id", change),))
            live = records.live_credentials()
        self.accounts.publish(live)
        return found

    def credentials(self) -> list[Credential]:
        """Every live unit account."""
        with self.records.read() as records:
            return records.live_credentials()

    def republish(self) -> None:
        """Write the broker's account files from the stored credentials (at broker start)."""
        self.accounts.publish(self.credentials())
