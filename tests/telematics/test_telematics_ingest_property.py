"""DB-free property: whatever order, split and repetition messages arrive in (QoS 1 redelivery, late data),
each sample is stored once, at its own time, and the roll-ups equal the sums of what was stored."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from roadpass.telematics.attribution import Attributor
from roadpass.telematics.ingest import Inbound, IngestService
from roadpass.telematics.ports import Holding, RefusalRow, RollupDelta, SampleRow, Subject
from roadpass.telematics.topics import topic
from roadpass.telematics.vss import vss_tree

UNIT, CAR, PACK = Subject(1, "urn:x:unit"), Subject(2, "urn:x:car"), Subject(3, "urn:x:pack")
SPEED, SOH = "Vehicle.Speed", "Vehicle.Powertrain.TractionBattery.StateOfHealth"


class Genealogy:
    def unit_holders(self, key: str) -> tuple[Subject, list[Holding]] | None:
        return (UNIT, [Holding(CAR, 0, 2**62)]) if key == UNIT.key else None

    def pack_at(self, vehicle_key: str, ts: int) -> Holding | None:
        return Holding(PACK, 0, 2**62)


class Records:
    """The telematics tables as dictionaries (the fake at the port)."""

    def __init__(self) -> None:
        self.paths: dict[str, int] = {}
        self.samples: dict[tuple[int, int, int], SampleRow] = {}
        self.rollups: dict[tuple[int, int, int, int], list[float]] = {}
        self.refusals: list[RefusalRow] = []
        self.counters: dict[str, int] = defaultdict(int)
        self.batches = 0

    def path_ids(self, paths: Collection[str]) -> dict[str, int]:
        for p in paths:
            self.paths.setdefault(p, len(self.paths) + 1)
        return {p: self.paths[p] for p in paths}

    def insert_samples(self, rows: Sequence[SampleRow]) -> list[SampleRow]:
        new = [r for r in rows if r[:3] not in self.samples]
        self.samples.update((r[:3], r) for r in new)
        return new

    def add_rollups(self, deltas: Sequence[RollupDelta]) -> None:
        for d in deltas:
            cell = self.rollups.setdefault(d[:4], [0, 0.0, d.low, d.high])
            cell[0] += d.samples
            cell[1] += d.total
            cell[2], cell[3] = min(cell[2], d.low), max(cell[3], d.high)

    def add_refusals(self, rows: Sequence[RefusalRow]) -> None:
        self.refusals.extend(rows)

    def add_counters(self, deltas: Mapping[str, int]) -> None:
        for k, v in deltas.items():
            self.counters[k] += v

    def set_gauges(self, values: Mapping[str, int]) -> None:
        self.counters.update(values)

    def insert_batch(self, **fields: Any) -> int:
        self.batches += 1
        return self.batches

    def append_ledger(self, *args: Any) -> int:
        return self.batches


class Transactions:
    def __init__(self) -> None:
        self.records = Records()

    @contextmanager
    def read(self) -> Iterator[Records]:
        yield self.records

    @contextmanager
    def write(self) -> Iterator[Records]:
        yield self.records


def _message(seconds: int, speed: float, soh: float) -> bytes:
    return orjson.dumps({"ts": 1_772_352_000_000 + seconds * 1000, "signals": {SPEED: speed, SOH: soh}})


_samples = st.lists(st.tuples(st.integers(0, 3 * 86_400), st.floats(0, 250), st.floats(0, 100)), min_size=1,
                    max_size=30, unique_by=lambda t: t[0])


@settings(max_examples=60, deadline=None)
@given(_samples, st.data())
def test_each_sample_once_and_rollups_equal_the_sums(samples: list[tuple[int, float, float]], data: Any) -> None:
    tx = Transactions()
    ingest = IngestService(tx, Attributor(Genealogy()), tree=vss_tree())  # type: ignore[arg-type]
    name = topic(UNIT.key)
    sent = [_message(*s) for s in samples]
    # Redeliveries and reordering: every message at least once, some twice, in any order, in any batches.
    stream = sent + data.draw(st.lists(st.sampled_from(sent), max_size=10))
    stream = data.draw(st.permutations(stream))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=4)))
    received = iter(range(1, 10**6))
    for lo, hi in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        if hi > lo:
            ingest.ingest([Inbound(name, m, next(received)) for m in stream[lo:hi]])
    rec = tx.records
    assert len(rec.samples) == 2 * len(samples)  # each (subject, path, time) once
    assert rec.counters["stored"] == 2 * len(samples)
    assert rec.counters["duplicates"] == 2 * (len(stream) - len(samples))
    assert rec.counters["messages"] == len(stream) and not rec.refusals
    speeds = {r.ts: r.value_num for r in rec.samples.values() if r.subject_id == CAR.id}
    assert speeds == {1_772_352_000_000_000 + s * 1_000_000: v for s, v, _ in samples}
    for grain in (3600, 86400):
        width = grain * 1_000_000
        expected: dict[tuple[int, int, int], float] = defaultdict(float)
        for r in rec.samples.values():
            expected[(r.subject_id, r.path_id, r.ts - r.ts % width)] += r.value_num or 0.0
        got = {(s, p, b): c[1] for (s, p, g, b), c in rec.rollups.items() if g == grain}
        assert got.keys() == expected.keys()
        assert all(abs(got[k] - v) < 1e-6 * max(1.0, abs(v)) for k, v in expected.items())
