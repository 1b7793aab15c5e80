"""The tamper-evident ledger as a hash chain (plain Python; storage lives in ``roadpass.store``).

Each entry fixes *who* (actor) did *what* (action, subjects) *when* (recorded_at) *under which rule*, the
SHA-256 of the canonical content it records, and the SHA-256 of the previous entry. Changing any stored
row behind the store's back changes its content hash; changing an entry changes its own hash and breaks
the link from its successor. ``verify_chain`` names the first entry that does not match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "GENESIS_HASH",
    "LedgerDraft",
    "LedgerEntry",
    "Mismatch",
    "Subject",
    "VerifyReport",
    "canonical_rows_hash",
    "compute_entry_hash",
    "verify_chain",
]

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Subject:
    """The stored rows an entry records: rows of ``table`` whose ``column`` equals ``value``."""

    table: str
    column: str
    value: int | str

    def as_json(self) -> dict[str, Any]:
        """The subject as a plain mapping, as stored."""
        return {"table": self.table, "column": self.column, "value": self.value}


@dataclass(frozen=True, slots=True)
class LedgerDraft:
    """What a write asks the ledger to record; the store turns it into a chained :class:`LedgerEntry`."""

    actor: str
    action: str
    rule: str
    subjects: tuple[Subject, ...]
    content_hash: str


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One link of the chain."""

    seq: int
    recorded_at: int
    actor: str
    action: str
    rule: str
    subjects: tuple[Subject, ...]
    content_hash: str
    prev_hash: str
    entry_hash: str


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why an entry failed verification."""

    seq: int
    reason: str


@dataclass(slots=True)
class VerifyReport:
    """Result of walking the chain."""

    entries: int = 0
    ok: bool = True
    first_mismatch: Mismatch | None = None
    head_hash: str = GENESIS_HASH
    problems: list[Mismatch] = field(default_factory=list)
    #: Entries whose content check was skipped because their rows are archived, by where they are
    #: (a detached partition of the event table: see ``roadpass.ledger.archive``).
    archived: dict[str, int] = field(default_factory=dict)


def canonical_rows_hash(rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 over rows serialised as canonical JSON arrays, one per line, in the given order."""
    # One buffer per call instead of two digest updates per row (the same bytes, so the same hash): capture
    # hashes every event it writes.
    dumps = orjson.dumps
    return hashlib.sha256(b"".join([dumps(list(row)) + b"\n" for row in rows])).hexdigest()


def compute_entry_hash(
    *,
    seq: int,
    recorded_at: int,
    actor: str,
    action: str,
    rule: str,
    subjects: Sequence[Subject],
    content_hash: str,
    prev_hash: str,
) -> str:
    """SHA-256 of an entry's canonical form (every field but its own hash)."""
    body = [seq, recorded_at, actor, action, rule, [s.as_json() for s in subjects], content_hash, prev_hash]
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def verify_chain(
    entries: Iterable[LedgerEntry],
    recompute_content: Callable[[LedgerEntry], str],
    *,
    stop_at_first: bool = True,
    archived: Callable[[LedgerEntry], str | None] | None = None,
) -> VerifyReport:
    """Walk ``entries`` in order; check each link, each entry's own hash and its recorded content.

    ``recompute_content`` re-derives an entry's content hash from what is stored now. ``archived`` names
    where an entry's rows went when they left the live tables (None: they did not); such an entry's link and
    own hash are still checked, its content is not, and it is counted in ``VerifyReport.archived``.
    """
    report = VerifyReport()
    prev = GENESIS_HASH
    expected_seq = 1
    for entry in entries:
        report.entries += 1
        problem: str | None = None
        if entry.seq != expected_seq:
            problem = f"sequence gap: expected entry {expected_seq}, found {entry.seq}"
        elif entry.prev_hash != prev:
            problem = "previous-hash link broken (an earlier entry was changed or removed)"
        else:
            own = compute_entry_hash(
                seq=entry.seq,
                recorded_at=entry.recorded_at,
                actor=entry.actor,
                action=entry.action,
                rule=entry.rule,
                subjects=entry.subjects,
                content_hash=entry.content_hash,
                prev_hash=entry.prev_hash,
            )
            where = None if archived is None else archived(entry)
            if own != entry.entry_hash:
                problem = "entry hash does not match its fields (the entry itself was edited)"
            elif where is not None:
                report.archived[where] = report.archived.get(where, 0) + 1
            else:
                current = recompute_content(entry)
                if current != entry.content_hash:
                    tables = ", ".join(sorted({s.table for s in entry.subjects}))
                    problem = f"recorded content changed since it was written (rows of {tables})"
        if problem is not None:
            mismatch = Mismatch(entry.seq, problem)
            report.problems.append(mismatch)
            if report.first_mismatch is None:
                report.first_mismatch = mismatch
                report.ok = False
            if stop_at_first:
                break
        prev = entry.entry_hash
        expected_seq = entry.seq + 1
    report.head_hash = prev
    return report
