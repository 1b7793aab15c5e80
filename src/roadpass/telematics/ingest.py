"""The ingester: a batch of MQTT messages → checked, attributed samples stored in one transaction.

Each message is taken apart on its own (:func:`roadpass.telematics.messages.parse_vss`); a refused part is
counted and dead-lettered with its reason and JSON path, its good neighbours are stored, and nothing a
unit sends can stop the ingester. ``software`` messages go to the handler given at construction. One batch
is one write transaction with one ledger entry (``telematics.ingest``), whose batch row carries a digest of
the samples stored; only then are the messages acknowledged to the broker (QoS 1: nothing acknowledged is
lost, and a redelivered duplicate is stored once by its key).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import orjson

from roadpass.ledger.chain import Subject as LedgerSubject
from roadpass.ports import Transactions
from roadpass.telematics.attribution import Attributor
from roadpass.telematics.messages import parse_vss
from roadpass.telematics.ports import RefusalRow, SampleRow, TelematicsRecords
from roadpass.telematics.rollup import rollup_deltas
from roadpass.telematics.topics import TopicError, parse_topic, unit_key
from roadpass.telematics.vss import Leaf, Refusal, VssTree, vss_tree

__all__ = ["INGEST_RULE", "BatchOutcome", "Inbound", "IngestService", "SoftwareHandler"]

#: The rule an ingest batch is ledgered under.
INGEST_RULE: Final = (
    "COVESA VSS 6.0 leaf, datatype, unit, min/max and allowed values checked; attributed through the as-built "
    "genealogy (Reg. (EU) 2023/1542 Art. 77(1), Annex XIII(4): battery data to the pack fitted at the time)"
)
#: Largest payload excerpt kept in the dead-letter table.
DEAD_LETTER_BYTES: Final = 4096
#: Dead letters kept per unit and reason in one batch (every refusal is counted).
DEAD_LETTERS_PER_BATCH: Final = 20

#: ``handler(unit key, payload, received µs)`` for ``roadpass/units/{unit}/software``; raising refuses it.
SoftwareHandler = Callable[[str, bytes, int], None]


class Inbound(NamedTuple):
    """A message as the subscriber received it."""

    topic: str
    payload: bytes
    received_us: int


@dataclass(slots=True)
class BatchOutcome:
    """What a batch did: messages, good samples attributed, stored, duplicates skipped, refusals by reason,
    lags (µs)."""

    messages: int = 0
    accepted: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    lags: list[int] = field(default_factory=list)


#: A datum waiting for its transaction: leaf, value, reporting unit id, received µs.
_Pending = tuple[Leaf, Any, int, int]


def _value(value: Any) -> tuple[float | None, str | None]:
    if type(value) is str:
        return None, value
    if type(value) is list:
        return None, orjson.dumps(value).decode()
    return float(value), None


class IngestService:
    """Checks, attributes and stores batches of telematics messages; counts and dead-letters refusals."""

    def __init__(
        self, records: Transactions[TelematicsRecords], attributor: Attributor, *,
        grains: Sequence[int] = (3600, 86400), software: SoftwareHandler | None = None,
        tree: VssTree | None = None, actor: str = "telematics:ingest",
    ) -> None:
        self.records = records
        self.attributor = attributor
        self.grains = tuple(grains)
        self.software = software
        self._tree = tree
        self.actor = actor
        self._path_ids: dict[str, int] = {}
        self._topics: dict[str, tuple[str, str]] = {}  # topic → (unit key, suffix)

    @property
    def tree(self) -> VssTree:
        """The VSS tree data are checked against (read on first use)."""
        if self._tree is None:
            self._tree = vss_tree()
        return self._tree

    def ingest(self, batch: Sequence[Inbound]) -> BatchOutcome:
        """Check, attribute and store ``batch`` in one transaction; never raises on bad input."""
        out = BatchOutcome(messages=len(batch))
        rows: dict[tuple[int, str, int], _Pending] = {}
        refusals: list[RefusalRow] = []
        kept: Counter[tuple[str | None, str]] = Counter()
        for message in batch:
            unit, refused = self._message(message, rows, out)
            for refusal in refused:
                out.refused[refusal.reason] += 1
                kept[(unit, refusal.reason)] += 1
                if kept[(unit, refusal.reason)] > DEAD_LETTERS_PER_BATCH:
                    continue  # counted, not kept: a flood must not turn into a flood of writes
                refusals.append(RefusalRow(
                    message.received_us, message.topic[:300], unit, refusal.reason, refusal.path[:300],
                    refusal.detail[:1000], message.payload[:DEAD_LETTER_BYTES]))
        self._store(batch, rows, refusals, out)
        return out

    def _message(
        self, message: Inbound, rows: dict[tuple[int, str, int], _Pending], out: BatchOutcome
    ) -> tuple[str | None, list[Refusal]]:
        named = self._topics.get(message.topic)
        if named is None:
            if len(self._topics) > 100_000:  # bounded: topics are few, but anything can be published
                self._topics.clear()
            try:
                segment, suffix = parse_topic(message.topic)
                named = self._topics[message.topic] = (unit_key(segment), suffix)
            except TopicError as exc:
                return None, [Refusal("unknown_topic", str(exc))]
        key, suffix = named
        if suffix == "software":
            return key, self._software(key, message)
        parsed = parse_vss(message.payload, self.tree)
        refused = parsed.refusals
        seen: set[str] = set()
        received = message.received_us
        for ts, pairs in parsed.groups:
            # One genealogy answer per sample time: the vehicle's, and the pack's for battery signals.
            owners: list[tuple[int, int] | Refusal | None] = [None, None]
            for leaf, value in pairs:
                slot = 1 if leaf.battery else 0
                owner = owners[slot]
                if owner is None:
                    owner = owners[slot] = self._owner(key, ts, leaf.battery)
                if isinstance(owner, Refusal):
                    if owner.reason not in seen:  # one dead letter per reason and message, not per datum
                        seen.add(owner.reason)
                        refused.append(owner)
                    continue
                rows.setdefault((owner[1], leaf.path, ts), (leaf, value, owner[0], received))
                out.accepted += 1
        return key, refused

    def _owner(self, key: str, ts: int, battery: bool) -> tuple[int, int] | Refusal:
        found = self.attributor.vehicle_of(key, ts)
        if isinstance(found, Refusal):
            return found
        unit, vehicle = found
        if battery:
            pack = self.attributor.pack_of(vehicle, ts)
            if isinstance(pack, Refusal):
                return pack
            return unit.id, pack.id
        return unit.id, vehicle.id

    def _software(self, key: str, message: Inbound) -> list[Refusal]:
        if self.software is None:
            return [Refusal("software_refused", "no software-report handler is installed")]
        try:
            self.software(key, message.payload, message.received_us)
        except Exception as exc:  # the handler's refusal, whatever it is, must not stop the ingester
            return [Refusal("software_refused", f"{type(exc).__name__}: {exc}")]
        return []

    def _store(
        self, batch: Sequence[Inbound], rows: dict[tuple[int, str, int], _Pending],
        refusals: list[RefusalRow], out: BatchOutcome,
    ) -> None:
        with self.records.write() as records:
            missing = {path for (_, path, _) in rows if path not in self._path_ids}
            created = records.path_ids(missing) if missing else {}
            ids = {**self._path_ids, **created} if created else self._path_ids
            samples = [SampleRow(subject, ids[path], ts, *_value(value), unit, received)
                       for (subject, path, ts), (_, value, unit, received) in rows.items()]
            stored = records.insert_samples(samples) if samples else []
            if stored:
                records.add_rollups(rollup_deltas(stored, self.grains))
            if refusals:
                records.add_refusals(refusals)
            now = time.time_ns() // 1000
            # Duplicates: redelivered in this batch (kept once here) or stored before (skipped by the key).
            out.stored, out.duplicates = len(stored), out.accepted - len(stored)
            out.lags = sorted(now - m.received_us for m in batch)
            counters = {"messages": len(batch), "stored": out.stored, "duplicates": out.duplicates,
                        **{f"refused.{reason}": n for reason, n in out.refused.items()}}
            records.add_counters({k: v for k, v in counters.items() if v})
            if out.lags:
                records.set_gauges({"lag_p50_us": out.lags[len(out.lags) // 2],
                                    "lag_p99_us": out.lags[min(len(out.lags) - 1, len(out.lags) * 99 // 100)],
                                    "last_batch_at": now})
            if stored or refusals:
                batch_id = records.insert_batch(
                    stored_at=now, messages=len(batch), stored=out.stored, duplicates=out.duplicates,
                    refused=sum(out.refused.values()), digest=_digest(stored))
                records.append_ledger(self.actor, "telematics.ingest", INGEST_RULE,
                                      (LedgerSubject("telematics_batch", "id", batch_id),))
        self._path_ids.update(created)  # only once committed: a rolled-back id must not be reused


def _digest(rows: Sequence[SampleRow]) -> str:
    """SHA-256 over the stored samples as stored (what the batch's ledger entry vouches for)."""
    return hashlib.sha256(orjson.dumps([tuple(row) for row in rows])).hexdigest()
