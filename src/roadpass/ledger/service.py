"""Ledger service: verify the chain (with progress) and read recent entries, each in one read transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from roadpass.ledger.archive import DETACH_ACTION, Archive, detached_partitions
from roadpass.ledger.chain import LedgerEntry, Mismatch, VerifyReport, verify_chain
from roadpass.ledger.ports import LedgerRecords
from roadpass.ports import Transactions

__all__ = ["LedgerService", "Progress"]

#: ``progress(done, total)``: entries checked so far of the chain's length.
Progress = Callable[[int, int], None]

_PROGRESS_EVERY = 200


class LedgerService:
    """Read access to the tamper-evident ledger."""

    def __init__(self, records: Transactions[LedgerRecords]) -> None:
        self.records = records

    def verify(self, *, stop_at_first: bool = True, progress: Progress | None = None) -> VerifyReport:
        """Walk the chain against the stored rows; the report names the first entry that does not match.

        A chain whose recorded head is not its last entry was cut short (entries removed at the end):
        reported as a mismatch at the recorded head. Capture entries whose events are in a month the ledger
        records as detached, and that is not attached now, are reported as archived, by partition
        (``roadpass.ledger.archive``): their chain is checked, their content is not.
        """
        with self.records.read() as ledger:
            total = ledger.count() if progress is not None else 0
            detached = detached_partitions(ledger.entries_with_action(DETACH_ACTION))
            archive = None if not detached else Archive.of(
                detached, ledger.attached_event_partitions(), ledger.event_partition_jobs)
            entries = ledger.iter_entries()
            if progress is not None:
                progress(0, total)
                entries = _counted(entries, progress, total)
            report = verify_chain(entries, lambda e: ledger.rows_hash(e.subjects), stop_at_first=stop_at_first,
                                  archived=None if archive is None else archive.partition_of)
            head = ledger.head()
        if report.ok and head is not None and (head[0] != report.entries or head[1] != report.head_hash):
            mismatch = Mismatch(head[0], "chain head does not match the last entry (entries were removed)")
            report.ok = False
            report.first_mismatch = mismatch
            report.problems.append(mismatch)
        if progress is not None:
            progress(report.entries, max(total, report.entries))
        return report

    def recent(
        self, *, limit: int = 50, actor: str | None = None, subject: str | None = None,
        actor_prefix: str | None = None, unit_key: str | None = None,
    ) -> list[LedgerEntry]:
        """The newest entries: optionally of one actor, of one party's actors (``actor_prefix``), naming
        one subject value, or recording events of one unit (``unit_key``)."""
        with self.records.read() as ledger:
            if unit_key is not None:
                found = ledger.entries_for_unit(unit_key, limit=limit, actor_prefix=actor_prefix)
                return [e for e in found if actor is None or e.actor == actor]
            return ledger.entries(limit=limit, actor=actor, actor_prefix=actor_prefix, subject=subject)


def _counted(entries: Iterator[LedgerEntry], progress: Progress, total: int) -> Iterator[LedgerEntry]:
    for done, entry in enumerate(entries, 1):
        if done % _PROGRESS_EVERY == 0:
            progress(done, max(total, done))
        yield entry
