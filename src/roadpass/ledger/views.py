"""Ledger entries and verification reports as JSON: the one shape the API serves and the CLI prints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from roadpass.ledger.archive import partition_month
from roadpass.ledger.chain import LedgerEntry, VerifyReport

__all__ = ["entry_json", "report_json"]


def _iso(us: int) -> str:
    """UTC microseconds as ``2020-03-04T10:00:30.123Z`` (the repository's one timestamp format)."""
    moment = datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def entry_json(entry: LedgerEntry) -> dict[str, Any]:
    """A ledger entry as JSON."""
    return {
        "seq": entry.seq,
        "recordedAt": _iso(entry.recorded_at),
        "actor": entry.actor,
        "action": entry.action,
        "rule": entry.rule,
        "subjects": [s.as_json() for s in entry.subjects],
        "contentHash": entry.content_hash,
        "prevHash": entry.prev_hash,
        "entryHash": entry.entry_hash,
    }


def report_json(report: VerifyReport) -> dict[str, Any]:
    """A verification report as JSON."""
    first = report.first_mismatch
    return {
        "ok": report.ok,
        "entries": report.entries,
        "headHash": report.head_hash,
        "firstMismatch": None if first is None else {"seq": first.seq, "reason": first.reason},
        # Entries whose chain was checked but whose content was not: their events are in a detached month.
        "archived": [{"partition": name, "month": partition_month(name), "entries": count}
                     for name, count in sorted(report.archived.items())],
    }
