"""Capture entries whose events were archived: a month of the event table detached on PostgreSQL.

``roadpass partitions detach`` takes a month's partition out of the live event table (PostgreSQL 15 manual,
5.11.2.2 "Partition Maintenance": ``ALTER TABLE … DETACH PARTITION``) and records it in the ledger: action
:data:`DETACH_ACTION`, the rule beginning with the partition's name, and as subjects the ``capture_job`` rows
of the captures whose events the month holds. A capture entry fixes the content of its job's event rows; once
some of them are in a detached month they are no longer in the table the entry names, and their content
cannot be recomputed. Such an entry is *archived*: its place in the chain (sequence, previous hash, its own
hash) is still checked, its content check is skipped and reported with the partition.

Only a month the ledger records as detached and that is not attached now counts: a month taken out behind
the ledger's back, or re-attached, is checked in full. Which captures a month holds is read from the detach
entry, itself chained (so it holds after the detached table is archived and dropped); a detach entry that
names no captures (written before they were recorded) is completed from the detached table while it exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from roadpass.ledger.chain import LedgerEntry

__all__ = ["DETACH_ACTION", "Archive", "detached_partitions", "partition_month"]

#: The action ``EventPartitions.detach`` records (store/partitions.py).
DETACH_ACTION = "events.partition.detach"

# A month's partition, schema-qualified, as ``store/partitions.py`` names it (``partition_name``); the name
# also reaches SQL, so nothing else is accepted.
_PARTITION = re.compile(r"event_partitions\.epcis_event_y(\d{4})m(0[1-9]|1[0-2])")


def partition_month(name: str) -> str | None:
    """``event_partitions.epcis_event_y2024m02`` → ``2024-02``; None for any other name."""
    found = _PARTITION.fullmatch(name)
    return None if found is None else f"{found.group(1)}-{found.group(2)}"


def detached_partitions(entries: Iterable[LedgerEntry]) -> dict[str, frozenset[int]]:
    """The partitions detach entries took out of the live event table, in chain order, each with the
    capture jobs its detach entries name (empty when they name none).

    The rule of a detach entry begins with the partition's qualified name (``name: ALTER TABLE …``).
    """
    out: dict[str, frozenset[int]] = {}
    for entry in entries:
        if entry.action != DETACH_ACTION:
            continue
        name = entry.rule.split(":", 1)[0].strip()
        if partition_month(name) is None:
            continue
        jobs = {int(s.value) for s in entry.subjects
                if s.table == "capture_job" and s.column == "id" and isinstance(s.value, int)}
        out[name] = out.get(name, frozenset()) | jobs
    return out


@dataclass(frozen=True, slots=True)
class Archive:
    """Which capture jobs have events in a detached month, and in which partition."""

    jobs: Mapping[int, str]

    @classmethod
    def of(
        cls, detached: Mapping[str, frozenset[int]], attached: Collection[str],
        table_jobs: Callable[[str], frozenset[int] | None],
    ) -> Archive:
        """From the ledger's detached partitions (:func:`detached_partitions`), leaving out those attached
        now; ``table_jobs`` reads a detached table's capture jobs (None when it is gone), asked only for a
        detach entry that names none."""
        jobs: dict[int, str] = {}
        for name, named in sorted(detached.items()):
            if name in attached:
                continue
            for job in named or table_jobs(name) or frozenset():
                jobs.setdefault(job, name)
        return cls(jobs)

    def partition_of(self, entry: LedgerEntry) -> str | None:
        """The detached partition holding events the entry records (its content cannot be recomputed), or
        None when every row it names is in the live tables."""
        for subject in entry.subjects:
            if subject.table == "epcis_event" and subject.column == "job_id" and isinstance(subject.value, int):
                name = self.jobs.get(subject.value)
                if name is not None:
                    return name
        return None
